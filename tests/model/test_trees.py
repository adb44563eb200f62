"""The JSON tree evaluator reproduces scikit-learn's predictions exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from greenopt.models.training import BAG_MEMBERS, BAG_PARAMS, HGB_PARAMS, fit_point
from greenopt.models.trees import Ensemble, Tree, averaged, from_sklearn


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


def test_fast_single_row_walk_equals_the_per_tree_walk_to_the_bit(data) -> None:
    """`Ensemble.predict_one` (nested tuples) adds the same leaves in the same order."""
    x, y = data
    with threadpool_limits(limits=1):
        est = HistGradientBoostingRegressor(**dict(HGB_PARAMS, max_iter=40)).fit(x, y)
    ens = Ensemble.from_dict(json.loads(json.dumps(from_sklearn(est).to_dict())))
    batch = ens.predict(x)
    rng = np.random.default_rng(2)
    rows = np.vstack([x, rng.standard_normal((200, 8)) * 3, np.full((1, 8), np.inf)])
    for i, row in enumerate(rows.tolist()):
        expected = ens.baseline
        for tree in ens.trees:
            expected += tree.predict_one(row)
        assert ens.predict_one(row) == expected  # NaN rows included (the first 300)
        if i < len(batch):
            assert ens.predict_one(row) == batch[i]
    assert sum(np.isnan(r).any() for r in x) > 0


def test_malformed_ensembles_are_refused_when_loaded() -> None:
    tree = {
        "feature": [1, 0, 0],
        "threshold": [0.5, 0.0, 0.0],
        "left": [1, 0, 0],
        "right": [2, 0, 0],
        "leaf": [0, 1, 1],
        "value": [0.0, -1.0, 1.0],
        "missing_left": [1, 0, 0],
    }
    good = {"baseline": 0.5, "n_features": 2, "offsets": [0], "nodes": tree}
    ens = Ensemble.from_dict(good)
    assert ens.predict_one([0.0, 0.2]) == -0.5 and ens.predict_one([0.0, float("nan")]) == -0.5
    assert ens.predict_one([0.0, 0.9]) == 1.5
    assert ens.predict_one([9.0, 0.9]) == 1.5
    broken = [
        dict(good, n_features=1),  # split on a feature the rows do not have
        dict(good, nodes=dict(tree, left=[0, 0, 0])),  # a child pointing back: endless walk
        dict(good, nodes=dict(tree, right=[3, 0, 0])),  # a child outside the tree
        dict(good, nodes=dict(tree, value=[0.0, "x", 1.0])),
        dict(good, nodes=dict(tree, value=[0.0])),
        dict(good, offsets=[0, 3]),
    ]
    for data in broken:
        with pytest.raises(ValueError):
            Ensemble.from_dict(data)


def test_an_averaged_ensemble_predicts_the_mean_of_its_members(data) -> None:
    x, y = data
    with threadpool_limits(limits=1):
        members = [
            from_sklearn(
                HistGradientBoostingRegressor(max_iter=20, random_state=s).fit(x[s:], y[s:])
            )
            for s in range(3)
        ]
    bag = Ensemble.from_dict(json.loads(json.dumps(averaged(members).to_dict())))
    assert len(bag.trees) == sum(len(m.trees) for m in members)
    mean = np.mean([m.predict(x) for m in members], axis=0)
    np.testing.assert_allclose(bag.predict(x), mean, rtol=0, atol=1e-12)
    for i in range(0, 300, 41):  # the pure-Python walk adds the same values in the same order
        assert bag.predict_one(x[i].tolist()) == bag.predict(x[i : i + 1])[0]
    with pytest.raises(ValueError):
        averaged([])
    with threadpool_limits(limits=1):
        narrow = from_sklearn(HistGradientBoostingRegressor(max_iter=2).fit(x[:, :3], y))
    with pytest.raises(ValueError):
        averaged([members[0], narrow])


def test_the_point_model_is_bagged_over_kernels_and_deterministic(data) -> None:
    x, y = data
    kernels = [f"k{i % 12}" for i in range(len(y))]
    first = fit_point(x, y, kernels)
    assert len(first.trees) == BAG_MEMBERS * BAG_PARAMS["max_iter"]
    assert first.to_dict() == fit_point(x, y, kernels).to_dict()  # fixed seeds
    # a different grouping of the same rows draws other resamples
    assert first.to_dict() != fit_point(x, y, [f"k{i % 7}" for i in range(len(y))]).to_dict()
    with pytest.raises(ValueError):
        fit_point(x, y, kernels[:-1])
