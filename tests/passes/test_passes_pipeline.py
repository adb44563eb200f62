"""The passes through the validated rewrite (`greenopt.optimize`), with a scripted energy backend.

Equivalence is checked for real (child processes run the candidates); only the energy
ratios are scripted, and they *favour* the risky rewrites (prange, float32, any njit),
so these tests show that legality and validation, not measurement luck, refuse them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenopt.measure.workload import Workload

pipeline = pytest.importorskip("greenopt.optimizer.pipeline")
validation = pytest.importorskip("greenopt.optimizer.validation")

MODULE = """import numpy as np


def ema(x, alpha):
    out = np.empty_like(x)
    out[0] = x[0]
    for i in range(1, len(x)):
        out[i] = alpha * x[i] + (1.0 - alpha) * out[i - 1]
    return out


def poly_hash(codes):
    h = 7
    for c in codes:
        h = h * 31 + c
    return h


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def smooth(u):
    v = np.zeros(len(u))
    for i in range(1, len(u) - 1):
        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]
    return v
"""

SETUP = (
    "import numpy as np\n"
    "x = np.random.rand(2000)\n"
    # 10 codes keep h < 2**63: the static refusal is what is tested here (with more codes
    # the pipeline's own output comparison currently fails on Python ints > int64)
    "codes = [int(c) for c in np.random.randint(0, 256, 10)]\n"
    "z = np.random.rand(300)\n"
)


class _M:
    def __init__(self, e: float) -> None:
        self.energy_median_j = e
        self.time_median_s = e
        self.cold_energy_j = e + 0.5


class _C:
    def __init__(self, r: float) -> None:
        self.a, self.b, self.ratio, self.ci95 = _M(1.0), _M(r), r, (r * 0.97, r * 1.03)


def favouring_backend() -> Any:
    """Scripted ratios that reward prange, float32 and njit (the risky rewrites)."""

    def compare(a: Workload, b: Workload, meter: str, options: Any, progress: Any) -> _C:
        text = Path(b.module_path or "").read_text()
        ratio = 1.0
        if "njit" in text:
            ratio = 0.5
        if "prange" in text or "fastmath" in text:
            ratio = 0.2
        if "float32" in text:
            ratio = 0.1
        return _C(ratio)

    return validation.MeasureBackend(compare, lambda *a: 0.01, options=None, meter="estimate")


def _optimize(tmp_path: Path, calls: tuple[str, ...], passes: str, **kw: Any) -> Any:
    path = tmp_path / "kern.py"
    path.write_text(MODULE)
    return pipeline.optimize(
        path,
        [Workload(SETUP, calls)],
        passes=passes,
        backend=favouring_backend(),
        meter="estimate",
        timeout_s=120.0,
        **kw,
    )


def test_validated_rewrite_accepts_jit_but_never_the_illegal_variants(tmp_path: Path) -> None:
    result = _optimize(
        tmp_path, ("ema(x, 0.1)", "poly_hash(codes)", "softmax(z)"), "jit,dtype-reduction"
    )
    verdicts = {f.name: f for f in result.functions}
    # ema carries a dependence: prange is never proposed, plain/fastmath jit is accepted
    assert verdicts["ema"].verdict == "accepted"
    assert "prange" not in result.new_code
    # Python ints would overflow int64: not jitted, the function is left alone
    assert verdicts["poly_hash"].verdict != "accepted"
    assert "def poly_hash(codes):\n    h = 7\n" in result.new_code
    assert "@numba.njit(cache=True)\ndef poly_hash" not in result.new_code
    # already vectorised: nothing to jit
    assert verdicts["softmax"].verdict != "accepted"
    # default tolerance: dtype-reduction is not even tried, though the backend favours it
    assert "float32" not in result.new_code


def test_dtype_reduction_only_with_a_loosened_tolerance_and_error_reported(
    tmp_path: Path,
) -> None:
    result = _optimize(tmp_path, ("smooth(x)",), "dtype-reduction", rtol=1e-4)
    (smooth,) = [f for f in result.functions if f.name == "smooth"]
    assert smooth.verdict == "accepted"
    assert "dtype=np.float32" in result.new_code and "astype(np.float64)" in result.new_code
    assert smooth.max_rel_error is not None and 0 < smooth.max_rel_error <= 1e-4
