"""benchmarks/machine_transfer.py: rows are joined on kernel and candidate at one size."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

from greenopt.models.table import TrainingRow

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "machine_transfer.py"
_SPEC = importlib.util.spec_from_file_location("machine_transfer", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
mt = importlib.util.module_from_spec(_SPEC)
sys.modules["machine_transfer"] = mt
_SPEC.loader.exec_module(mt)


def row(kernel: str, candidate: str, ratio: float, size: str = "medium") -> TrainingRow:
    code = "@numba.njit(cache=True, parallel=True)\ndef f(x):\n    return x\n"
    return TrainingRow(
        kernel=kernel, family="ai", size=size, function="f", candidate=candidate,
        passes=["jit"], recipe="jit", status="measured", meter="estimate", measured=False,
        machine_id="m", ratio=ratio, candidate_code=code if candidate == "b" else "def f(x): ...",
    )  # fmt: skip


def test_the_other_machine_reversing_a_ranking_costs_regret() -> None:
    here = [row("ai/k", "a", 0.5), row("ai/k", "b", 0.1), row("ai/k", "c", 0.2, size="small")]
    there = [row("ai/k", "a", 0.1), row("ai/k", "b", 0.5), row("ai/k", "z", 0.3)]
    logs = [math.log(r.ratio) for r in here]  # type: ignore[arg-type]
    result = mt.compare(here, logs, logs, there, "medium")
    assert result["rows_common"] == 2 and result["rows_only_other"] == 1
    assert result["rows_only_table"] == 0  # `c` is another size
    score = result["scores"]["table -> other"]
    assert score["pairwise_accuracy"] == 0.0
    assert abs(score["top1_regret_mean"] - 4.0) < 1e-9  # picks b: 0.5 against 0.1
    assert result["winners_table"] == {"parallel": 1} and result["winners_other"] == {
        "not Numba": 1
    }
