"""Hunt 10: NaN / Inf / range traps of the validated passes (/work/scratch/hunt10/README_nan.md).
Each trap test fails without its fix.

- jit GO403: `fastmath=True` includes LLVM's no-NaN flag, which lets it rewrite
  `a < b` as `not (a >= b)`: a NaN in the data (a missing value) then takes the other
  branch. A clip loop turned NaN into the lower bound and one NaN made a
  nearest-point loop return a wrong index, while the interpreted and the plain
  `@njit` function agree. A workload without NaN cannot show it, so GO403 asks for
  the rounding-only flags `{"arcp", "contract", "reassoc"}`;
- dtype-reduction: a float literal float32 cannot hold (`np.full(n, 1e300)` sentinel,
  `1e-300` guard) becomes inf or 0; the loosened tolerance is about precision, not range.
"""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.dtype_reduction import DtypeReductionPass
from greenopt.passes.jit import JitPass

HEADER = "import math\nimport numpy as np\n\n\n"


def _jit_codes(code: str) -> set[str]:
    return {o.code for o in JitPass().find(SourceModule.parse(HEADER + code, "m.py"))}


def _dtype_candidates(code: str) -> list:
    found = DtypeReductionPass().find(SourceModule.parse(HEADER + code, "m.py"))
    return [o for o in found if o.fixable]


CLIP = """def f(x, s, lo, hi):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        v = x[i] * s
        if v < lo:
            v = lo
        elif v > hi:
            v = hi
        out[i] = v
    return out
"""
NEAREST = """def f(x, c):
    k = 0
    best = 1e300
    for i in range(x.shape[0]):
        d = (x[i] - c) * (x[i] - c)
        if d < best:
            best = d
            k = i
    return k
"""
SIGN = """def f(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = 1.0 if x[i] * 2.0 >= 0.0 else -1.0
    return out
"""
RELU = """def f(x, w, b):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = max(x[i] * w + b, 0.0)
    return out
"""


def _applied(code: str) -> str:
    module = SourceModule.parse(HEADER + code, "m.py")
    found = [o for o in JitPass().find(module) if o.code == "GO403"]
    return JitPass().apply(module, found).code


@pytest.mark.parametrize(
    "code", [CLIP, NEAREST, SIGN, RELU], ids=["clip", "nearest", "sign", "relu"]
)
def test_fastmath_variant_asks_only_for_rounding_flags(code: str) -> None:
    rewritten = _applied(code)
    assert '@numba.njit(cache=True, fastmath={"arcp", "contract", "reassoc"})' in rewritten
    assert "fastmath=True" not in rewritten


def test_fastmath_variant_keeps_nan_behaviour_compiled() -> None:
    """Compiled with GO403's decorator, the clip and nearest-point loops treat NaN as the
    interpreter does (with `fastmath=True`: -0.5 for the NaN, index 16 for 0)."""
    pytest.importorskip("numba")
    x = np.array([1.0, np.nan, 3.0, 2.0, -1.0] * 4)
    for code, args in ((CLIP, (x, 2.0, -0.5, 1.5)), (NEAREST, (x, 0.3))):
        namespace: dict = {}
        # exec'd text has no file for Numba's cache: the same decorator without it
        exec(compile(_applied(code).replace("cache=True, ", ""), "m.py", "exec"), namespace)
        reference: dict = {}
        exec(compile(HEADER + code, "o.py", "exec"), reference)
        want, got = reference["f"](*args), namespace["f"](*args)
        assert np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True), (got, want)


@pytest.mark.parametrize(
    "code",
    [
        # a "not found" sentinel: float32 holds inf, returned as inf instead of 1e300
        "def f(x):\n    n = len(x)\n    best = np.full(n, 1e300)\n    for i in range(n):\n"
        "        if x[i] < best[i]:\n            best[i] = x[i]\n    return best\n",
        # a guard against division by zero: 1e-300 is 0 in float32
        "def f(x, y):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = x[i] / (y[i] + 1e-300)\n    return out\n",
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = x[i] * 1e-30 * 1e-30 / 1e-60\n    return out\n",
    ],
    ids=["sentinel", "guard", "tiny"],
)
def test_dtype_reduction_refuses_literals_outside_float32_range(code: str) -> None:
    assert _dtype_candidates(code) == []


def test_dtype_reduction_keeps_literals_float32_holds() -> None:
    code = (
        "def f(x, y):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = x[i] / (y[i] + 1e-12) * 3.0e30\n    return out\n"
    )
    assert [o.code for o in _dtype_candidates(code)] == ["GO302"]


def test_dtype_reduction_says_why_it_left_a_function_alone() -> None:
    """`check --explain` shows the refusal as a GO390 note, naming the literal."""
    code = (
        "def f(x):\n    n = len(x)\n    best = np.full(n, 1e300)\n    for i in range(n):\n"
        "        if x[i] < best[i]:\n            best[i] = x[i]\n    return best\n"
    )
    found = DtypeReductionPass().find(SourceModule.parse(HEADER + code, "m.py"))
    (note,) = found
    assert note.code == "GO390" and not note.fixable and note.data.get("note")
    assert "the literal 1e300 is outside float32's range (it would become inf)" in note.message
    tiny = code.replace("1e300", "1e-300")
    (note,) = DtypeReductionPass().find(SourceModule.parse(HEADER + tiny, "m.py"))
    assert "(it would become 0)" in note.message
