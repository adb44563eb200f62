"""Hunt 11: 2-D traps for the static vectorize rewrite (/work/scratch/hunt11/README.md).
Each trap test fails without its fix.

- `n, m = a.shape` (or `np.shape(a)`, `a.shape == (n, n)`, `len(a[0])`, `out =
  np.zeros((m, n)) + 1.0`, `np.zeros(shape=(n, n))`, `np.zeros_like(a)` of such an `a`)
  shows a 2-D array, but only `x.shape[k]` counted as rank evidence: a loop
  `out[i] = a[i] + x[i]` adds the scalar `x[i]` to row `i`, while the slice
  `a[:n] + x[:n]` broadcasts `x` along the columns (silently wrong when n == m);
- a nest behind a length check ran its slices when an inner loop was empty: the
  check skips then, and the unproven outer extents (`out[:n]` vs `a[:2 * n:2]`)
  raise ValueError in the broadcast where the loop returned.
"""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.vectorize import VectorizePass

from .helpers import outcome, same, static_rewrite

HEADER = "import numpy as np\n\n\n"


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "vectorize")


def _static_codes(code: str) -> list[str]:
    module = SourceModule.parse(HEADER + code, "m.py")
    return [o.code for o in VectorizePass().find(module) if o.fixable and o.static_safe]


# --- rows read through one subscript of a 2-D array ----------------------------------------

UNPACKED = """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n, m = a.shape
    out = np.zeros_like(a)
    for i in range(n):
        out[i] = a[i] + x[i]
    return out
"""

ALLOCATED_2D = """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.zeros((n, n)) + 1.0
    for i in range(n):
        out[i] = a[i] + x[i]
    return out
"""

LIKE_OF_UNPACKED = """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n, m = a.shape
    out = np.zeros_like(a)
    for i in range(n):
        out[i] = x[i]
    return out
"""


EVIDENCE = [
    "n, m = np.shape(a)",
    "sh = a.shape\n    n, m = sh",
    "n, m = np.asarray(a).shape",
    "n = len(a)\n    assert a.shape == (n, n)",
    "n = len(a)\n    m = len(a[0])",
]


def _rows_with(evidence: str) -> str:
    return f"""
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    {evidence}
    out = np.zeros_like(a)
    for i in range(len(a)):
        out[i] = a[i] + x[i]
    return out
"""


def _allocated_with(shape: str) -> str:
    return f"""
def f(a, x):
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    shape = (n, n)
    out = {shape}
    for i in range(n):
        out[i] = x[i] * 2.0
    return out
"""


TWO_D = [
    UNPACKED,
    ALLOCATED_2D,
    LIKE_OF_UNPACKED,
    *(_rows_with(e) for e in EVIDENCE),
    _allocated_with("np.zeros(shape)"),
    _allocated_with("np.zeros(dtype=np.float64, shape=(n, n))"),
]


@pytest.mark.parametrize("code", TWO_D)
def test_rows_of_a_2d_array_are_not_sliced(code: str) -> None:
    a = np.arange(9.0).reshape(3, 3)
    x = np.array([10.0, 20.0, 30.0])
    assert same(outcome(HEADER + code, a, x), outcome(_static(code), a, x))
    assert "GO101" not in _static_codes(code)


def test_elementwise_1d_loop_is_still_rewritten() -> None:
    code = """
def f(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i] + y[i]
    return out
"""
    assert "GO101" in _static_codes(code)


# --- an empty inner loop behind a length check ---------------------------------------------

STRIDED_EMPTY_INNER = """
def f(a):
    a = np.asarray(a, dtype=np.float64)
    n = a.shape[0]
    m = a.shape[1]
    out = np.zeros((n, m))
    for i in range(len(a)):
        for j in range(a.shape[1]):
            out[i, j] *= a[2 * i, j]
    return out
"""


@pytest.mark.parametrize("shape", [(3, 0), (0, 4), (1, 4), (3, 4)])
def test_length_checked_nest_runs_nothing_when_a_loop_is_empty(shape: tuple[int, int]) -> None:
    a = np.ones(shape)
    new = _static(STRIDED_EMPTY_INNER)
    assert "GO103" in _static_codes(STRIDED_EMPTY_INNER)
    assert same(outcome(HEADER + STRIDED_EMPTY_INNER, a), outcome(new, a))


ADD2D = """
def f(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n, m = a.shape
    c = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            c[i, j] = a[i, j] + 2.0 * b[i, j]
    return c
"""


def test_shorter_empty_operand_of_a_nest_returns_like_the_loop() -> None:
    a, b = np.zeros((3, 0)), np.zeros((2, 0))
    assert "GO103" in _static_codes(ADD2D)
    assert same(outcome(HEADER + ADD2D, a, b), outcome(_static(ADD2D), a, b))
