"""The predictions API: loads without scikit-learn, falls back to the baseline, uses the model."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from greenopt.errors import InputError
from greenopt.models.predict import CostModel, Prediction, load_model
from greenopt.passes.base import Opportunity, Site

LOOP = """
import numpy as np

def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
"""
VECTOR = """
import numpy as np

def saxpy(a, x, y):
    return a * x + y
"""


def opportunity(pass_name: str, line: int = 6, **data) -> Opportunity:
    site = Site("k.py", line, 4, line + 1, 0, function="saxpy")
    return Opportunity(pass_name, "GO101", "msg", "why", site, data=data)


def test_predict_imports_without_sklearn_scipy_or_numpy() -> None:
    """`check`'s cold start: loading the model and predicting imports none of them."""
    code = textwrap.dedent(
        """
        import sys
        from greenopt.models.predict import load_model
        m = load_model()
        p = m.predict_candidate("def f(x):\\n    return x\\n", "def f(x):\\n    return x\\n", "f", ["jit"])
        assert isinstance(p.ratio, float)
        heavy = ("sklearn", "scipy", "numpy", "numba")
        bad = sorted(n for n in sys.modules if n.split(".")[0] in heavy)
        print(",".join(bad))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_without_a_model_predictions_are_baseline() -> None:
    model = CostModel(None)
    assert not model.available
    p = model.predict_candidate(LOOP, VECTOR, "saxpy", ["vectorize"], {"x": 10**5, "x.size": 10**5})
    assert isinstance(p, Prediction) and p.source == "baseline"
    assert p.lo <= p.ratio <= p.hi and p.ratio < 1.0
    assert p.saving == pytest.approx(1 - p.ratio)
    same = model.predict_candidate(LOOP, LOOP, "saxpy", ["vectorize"])
    assert same.ratio == pytest.approx(1.0)


@pytest.mark.parametrize("pass_name", ["vectorize", "jit", "dtype-reduction", "loop-fusion"])
def test_predict_opportunity_for_every_pass(pass_name: str) -> None:
    p = CostModel(None).predict_opportunity(LOOP, opportunity(pass_name))
    assert p.source == "baseline" and 0 < p.lo <= p.ratio <= p.hi
    if pass_name in ("vectorize", "jit"):
        assert p.ratio < 1.0


def test_jit_variants_change_the_prediction_input() -> None:
    from greenopt.models.delta import approximate
    from greenopt.models.features import profile_code

    prof = profile_code(LOOP)
    plain = approximate(prof, "jit", 6, {"variant": "plain"}).flags
    par = approximate(prof, "jit", 6, {"variant": "parallel"}).flags
    assert plain["mode_jit"] == 1.0 and plain["mode_parallel"] == 0.0
    assert par["mode_parallel"] == 1.0


def test_trained_model_answers_with_model(built_model) -> None:
    model = load_model(built_model)
    assert model.available and model.info()["training"]["n_families"] == 4
    feats = {n: 0.5 for n in model.document["feature_names"]}
    feats["delta_interp_ops_w"] = -2.0
    p = model.predict_features(feats, ["vectorize"])
    assert p.source == "model"
    assert p.lo <= p.ratio <= p.hi
    # the synthetic law: log ratio = 0.8 * delta_interp_ops_w
    assert p.ratio == pytest.approx(2.718281828 ** (-1.6), rel=0.5)
    far = dict(feats, delta_interp_ops_w=-50.0)
    assert model.predict_features(far, ["vectorize"]).source == "baseline"


def test_bad_model_files_are_input_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="no such"):
        load_model(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError):
        load_model(str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(InputError, match="not a greenopt cost model"):
        load_model(str(other))


def test_syntax_errors_are_input_errors() -> None:
    with pytest.raises(InputError):
        CostModel(None).predict_candidate("def (:", "def f(): pass", "f", ["jit"])


def test_baseline_intervals_come_from_the_rows_of_their_passes(built_model, tmp_path) -> None:
    doc = json.loads(Path(built_model).read_text(encoding="utf-8"))
    by_passes = doc["residuals_by_passes"]
    # every pass combination of the synthetic table has 48 rows, each predictor a spread
    assert set(by_passes) == {"jit", "loop-fusion", "vectorize"}
    assert all(set(v) == {"model", "roofline", "no-change"} for v in by_passes.values())
    # a no-change answer for `vectorize` (synthetic log ratios -2.4..0) against one for
    # `jit` (-2.9..-0.5): their own rows' spreads, not one over every row
    doc["policy"] = {"default": "no-change", "by_passes": {}}
    path = tmp_path / "no_change.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    model = load_model(str(path))
    feats = {n: 0.5 for n in doc["feature_names"]}
    for passes in (["vectorize"], ["jit"]):
        p = model.predict_features(feats, passes)
        lo, hi = by_passes[passes[0]]["no-change"]
        assert p.source == "baseline" and p.ratio == 1.0
        assert math.log(p.lo) == pytest.approx(min(lo, 0.0))
        assert math.log(p.hi) == pytest.approx(max(hi, 0.0))
    jit, vec = (model.predict_features(feats, [k]) for k in ("jit", "vectorize"))
    assert jit.lo < vec.lo  # the jit rows save more: their interval reaches lower
    # a pass combination without enough rows falls back to the spread over every row
    other = model.predict_features(feats, ["dtype-reduction"])
    assert math.log(other.lo) == pytest.approx(min(doc["residuals"]["no-change"][0], 0.0))
