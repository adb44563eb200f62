"""The shipped training table and model belong together and say what they were measured with."""

from __future__ import annotations

import json

import pytest

from greenopt.commands.train import DATA_DIR
from greenopt.models.predict import DEFAULT_MODEL_PATH, load_model
from greenopt.models.table import read_table
from greenopt.models.training import table_digest

pytestmark = pytest.mark.skipif(
    not (DEFAULT_MODEL_PATH.exists() and (DATA_DIR / "training_table.json").exists()),
    reason="no model shipped",
)


def test_shipped_model_is_built_from_the_shipped_table() -> None:
    table = read_table(DATA_DIR / "training_table.json")
    doc = json.loads(DEFAULT_MODEL_PATH.read_text())
    assert doc["training"]["table_sha256"] == table_digest(table)
    assert doc["feature_names"] == table.feature_names
    assert doc["cv"]["cv"] == "GroupKFold"
    assert doc["training"]["n_families"] >= 6


def test_every_shipped_row_carries_its_meter() -> None:
    table = read_table(DATA_DIR / "training_table.json")
    assert table.machine.get("machine_id")
    for row in table.rows:
        assert row.meter and isinstance(row.measured, bool)
        assert row.measured == (row.meter != "estimate")
    header = (DATA_DIR / "training_table.csv").read_text().splitlines()[0].split(",")
    assert {"meter", "measured", "machine_id", "ratio"} <= set(header)


def test_shipped_model_loads_and_predicts() -> None:
    model = load_model()
    assert model.available
    code = "def f(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n    return s\n"
    p = model.predict_candidate(
        code, "import numba\n@numba.njit(cache=True)\n" + code, "f", ["jit"]
    )
    assert p.source in ("model", "baseline") and 0 < p.lo <= p.ratio <= p.hi


def test_shipped_features_are_those_of_the_current_extractor() -> None:
    """The shipped table was featurized by this code (`greenopt train --from-table` redoes it)."""
    from greenopt.models.training import refeaturize

    table = read_table(DATA_DIR / "training_table.json")
    with_code = [r for r in table.rows if r.original_code and r.candidate_code]
    assert with_code
    for row in with_code[::25]:
        assert refeaturize(row) == pytest.approx(row.features, abs=1e-6), row.kernel
