"""The JSON tree evaluator reproduces scikit-learn's predictions exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from greenopt.models.training import HGB_PARAMS
from greenopt.models.trees import Ensemble, Tree, from_sklearn


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 8))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the learned side
    y = np.nan_to_num(x[:, 0]) * 2 - np.nan_to_num(x[:, 3]) ** 2 + 0.1 * rng.standard_normal(300)
    return x, y


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loss": "squared_error"},
        {"loss": "quantile", "quantile": 0.1},
        {"loss": "quantile", "quantile": 0.9},
    ],
)
def test_json_evaluator_equals_sklearn(data, kwargs) -> None:
    x, y = data
    params = dict(HGB_PARAMS, max_iter=60)
    with threadpool_limits(limits=1):
        est = HistGradientBoostingRegressor(**kwargs, **params).fit(x, y)
    ens = Ensemble.from_dict(json.loads(json.dumps(from_sklearn(est).to_dict())))
    expected = est.predict(x)
    np.testing.assert_allclose(ens.predict(x), expected, rtol=0, atol=1e-9)
    for i in range(0, 300, 37):
        assert ens.predict_one(x[i].tolist()) == pytest.approx(expected[i], abs=1e-9)


def test_wrong_width_is_refused(data) -> None:
    x, y = data
    with threadpool_limits(limits=1):
        ens = from_sklearn(HistGradientBoostingRegressor(max_iter=3).fit(x, y))
    with pytest.raises(ValueError):
        ens.predict(x[:, :3])
    with pytest.raises(ValueError):
        ens.predict_one([0.0])


def test_malformed_trees_are_refused() -> None:
    good = {
        "feature": [0, 0, 0],
        "threshold": [0.5, 0.0, 0.0],
        "left": [1, 0, 0],
        "right": [2, 0, 0],
        "leaf": [0, 1, 1],
        "value": [0.0, -1.0, 1.0],
        "missing_left": [1, 0, 0],
    }
    tree = Tree.from_dict(good)
    assert tree.predict(np.array([[0.2], [0.9], [np.nan]])).tolist() == [-1.0, 1.0, -1.0]
    for key, bad in [("left", [5, 0, 0]), ("right", [0, 0, 0]), ("value", [0.0])]:
        broken = dict(good, **{key: bad})
        with pytest.raises(ValueError):
            Tree.from_dict(broken)
