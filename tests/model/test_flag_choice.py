"""benchmarks/flag_choice.py: flag variants are recognised and grouped, regrets add up."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from greenopt.models.table import TrainingRow

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "flag_choice.py"
_SPEC = importlib.util.spec_from_file_location("flag_choice", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
fc = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fc)

BODY = "def f(x):\n    for i in {rng}(len(x)):\n        x[i] += 1.0\n"


def variant(flags: str, prange: bool = False) -> str:
    """`BODY` under `@numba.njit` with the extra keyword arguments `flags`."""
    return f"@numba.njit(cache=True{flags})\n" + BODY.format(
        rng="numba.prange" if prange else "range"
    )


def row(code: str, ratio: float, group_size: str = "small") -> TrainingRow:
    """A measured row of kernel `ai/k` with candidate `code`."""
    return TrainingRow(
        kernel="ai/k", family="ai", size=group_size, function="f", candidate=code[:12],
        passes=["jit"], recipe="jit", status="measured", meter="estimate", measured=False,
        machine_id="m", ratio=ratio, candidate_code=code,
    )  # fmt: skip


def test_flag_mode_and_flag_free_code() -> None:
    assert fc.flag_mode(variant("")) == "plain"
    assert fc.flag_mode(variant(", fastmath=True")) == "fastmath"
    assert fc.flag_mode(variant(', fastmath={"arcp", "contract", "reassoc"}')) == "fastmath"
    assert fc.flag_mode(variant(", parallel=True", prange=True)) == "parallel"
    assert fc.flag_mode(variant(", parallel=True, fastmath=True", True)) == "parallel+fastmath"
    assert fc.flag_mode(BODY.format(rng="range")) is None  # not Numba
    # every flag variant, prange or not, has the same flag-free code
    codes = {variant(", parallel=True", True), variant(""), variant(", fastmath=True")}
    assert len({fc.flag_free(c) for c in codes}) == 1


def test_regret_breakdown_with_an_oracle_for_the_flags() -> None:
    rows = [
        row(variant(""), 0.010),
        row(variant(", fastmath=True"), 0.005),
        row(variant(", parallel=True", True), 0.020),
        row(BODY.format(rng="range").replace("1.0", "2.0"), 0.5),  # another rewrite
    ]
    true = np.log([r.ratio for r in rows])
    pred = np.log([0.001, 0.002, 0.003, 0.9])  # the model picks plain @njit
    out = fc.regret_breakdown(rows, pred, true)
    assert np.isclose(out["model"], 1.0)  # 0.010 vs the best 0.005
    assert np.isclose(out["model, flags by oracle"], 0.0)
    assert np.isclose(out["model, then parallel"], 3.0)
    assert np.isclose(out["model, then parallel+fastmath"], 1.0)  # none: the model's pick


def test_flag_blind_oracle_is_perfect_except_for_the_flags() -> None:
    rows = [
        row(variant(""), 0.010),
        row(variant(", fastmath=True"), 0.020),
        row(variant(", parallel=True", True), 0.005),
        row(BODY.format(rng="range").replace("1.0", "2.0"), 0.015),  # another rewrite
    ]
    true = np.log([r.ratio for r in rows])
    out = fc.flag_blind_oracle(rows, true)
    assert np.isclose(out["perfect but flags fixed to parallel"], 0.0)
    # fixed to fastmath: 0.020 for the Numba family, so the other rewrite (0.015) is best
    assert np.isclose(out["perfect but flags fixed to fastmath"], 2.0)
    assert np.isclose(out["perfect but flags fixed to plain"], 1.0)
    # no parallel+fastmath variant: that rule falls back to fastmath
    assert np.isclose(out["perfect but flags fixed to parallel+fastmath"], 2.0)
