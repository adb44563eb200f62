"""Fusion fuzz (/work/scratch/hunt9/fuzz_fusion.py): traps for static loop fusion (GO201).
Each trap test fails without its fix.

- `+ - *` is not raise-free under NumPy 2 (NEP 50): `y[i] + 1000` on an int8 `y`,
  `y[i] * -1` on a uint8 one, `c * i` with a NumPy int scalar `c` raise OverflowError;
- a float array rejects a Python complex (TypeError) or a Python int beyond the float
  range (OverflowError): `b[i] = c * i` with `c = 1j`.

Fused, the other loop had done only part of its writes to a parameter when the
exception surfaced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from .helpers import outcome, same, static_rewrite

HEADER = "import numpy as np\n\n\n"


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "loop-fusion")


def _outcome(code: str, *args: Any) -> tuple[Any, ...]:
    """`outcome` plus the arrays passed in, as the call left them (a partial write shows)."""
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    return outcome(code, *args) + tuple(a.tolist() for a in args if isinstance(a, np.ndarray))


INT8_LITERAL = """
def f(y):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        y[i] = y[i] * 2
    for i in range(n):
        b[i] = y[i] + 1000
    return b
"""

UINT8_NEGATIVE = """
def f(y):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        y[i] = y[i] * 2
    for i in range(n):
        b[i] = y[i] * -1
    return b
"""

PYTHON_COMPLEX_STORE = """
def f(y, c):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        y[i] = y[i] * 2
    for i in range(n):
        b[i] = c * i
    return b
"""

PYTHON_COMPLEX_PLAIN_STORE = """
def f(y, c):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        y[i] = y[i] * 2
    for i in range(n):
        b[i] = c
    return b
"""

LOOP_VARIABLE_INT8 = """
def f(y, x):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        y[i] = y[i] * 2
    for i in range(n):
        b[i] = y[i] * i
    return b
"""

FIRST_LOOP_OVERFLOWS = """
def f(y, c):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        b[i] = c * i
    for i in range(n):
        y[i] = y[i] * 2
    return b
"""

FLOATS = np.array([1.0, 2.0, 3.0])
INT8 = np.array([1, 2, 3], dtype=np.int8)
UINT8 = np.array([1, 2, 3], dtype=np.uint8)

TRAPS = [
    (INT8_LITERAL, [(INT8,), (UINT8,)]),
    (UINT8_NEGATIVE, [(UINT8,)]),
    (PYTHON_COMPLEX_STORE, [(FLOATS, 1j)]),
    (PYTHON_COMPLEX_PLAIN_STORE, [(FLOATS, 1j)]),
    (LOOP_VARIABLE_INT8, [(np.arange(200, dtype=np.int8), None)]),
    (FIRST_LOOP_OVERFLOWS, [(FLOATS, np.int8(100))]),
]


@pytest.mark.parametrize(
    ("code", "inputs"), TRAPS, ids=lambda v: "" if isinstance(v, list) else None
)
def test_fusion_exception_traps_not_fused_or_same(code: str, inputs: list[tuple[Any, ...]]) -> None:
    new = _static(code)
    assert "for i in range(n):\n        y[i] = y[i] * 2\n    for" in new or (
        "b[i] = c * i\n    for" in new
    ), new
    for args in inputs:
        assert same(_outcome(HEADER + code, *args), _outcome(new, *args)), args


# hunt 18: not `y[i] = y[i] * 2` then `b[i] = y[i] + 1`: a 2-D `y` makes that second loop
# raise at once (a row stored into an element), after the fused loop doubled only `y[0]`
SAFE_LITERALS = """
def f(y):
    n = len(y)
    b = np.zeros(n)
    for i in range(n):
        b[i] = y[i] * 2
    for i in range(n):
        y[i] = y[i] + 1
    return b
"""


def test_small_literals_and_numpy_values_still_fuse() -> None:
    # 0..127 fits every integer dtype; a NumPy value stored into a float array never raises
    new = _static(SAFE_LITERALS)
    assert "b[i] = y[i] * 2\n        y[i] = y[i] + 1" in new, new
    for args in [(INT8,), (UINT8,), (FLOATS,)]:
        assert same(_outcome(HEADER + SAFE_LITERALS, *args), _outcome(new, *args))


PYTHON_COMPLEX_MAX = """
def f(x):
    n = len(x)
    s = 0
    for i in range(n):
        x[i] *= (1000 // -1)
    for i in range(n):
        s = max(s, 2.0 * 1j)
    return s
"""


def test_max_of_python_complex_may_raise() -> None:
    # `max(s, 2.0 * 1j)` raises TypeError (a Python complex is not ordered): fused, the
    # first loop had scaled only x[0] when it surfaced
    new = _static(PYTHON_COMPLEX_MAX)
    assert "x[i] *= (1000 // -1)\n    for" in new, new
    assert same(_outcome(HEADER + PYTHON_COMPLEX_MAX, FLOATS), _outcome(new, FLOATS))


PYTHON_COMPLEX_COMPARISON = """
def f(x, c):
    n = len(x)
    b = np.zeros(n)
    for i in range(n):
        x[i] = x[i] * 2
    for i in range(n):
        if c > 0:
            b[i] = 1.0
    return b
"""


def test_ordering_a_python_complex_may_raise() -> None:
    # `c > 0` with `c = 1j` raises TypeError: fused, only x[0] had been doubled
    new = _static(PYTHON_COMPLEX_COMPARISON)
    assert "x[i] = x[i] * 2\n    for" in new, new
    args = (FLOATS, 1j)
    assert same(_outcome(HEADER + PYTHON_COMPLEX_COMPARISON, *args), _outcome(new, *args))


BOOL_NEGATIVE = """
def f(x):
    n = len(x)
    b = np.zeros(n)
    for i in range(n):
        x[i] = x[i] * 2
    for i in range(n):
        b[i] = -x[i]
    return b
"""

BOOL_SUBTRACT = """
def f(x):
    n = len(x)
    b = np.zeros(n)
    for i in range(n):
        x[i] = x[i] * 2
    for i in range(n):
        b[i] = x[i] - x[i]
    return b
"""


@pytest.mark.parametrize("code", [BOOL_NEGATIVE, BOOL_SUBTRACT])
def test_numpy_bool_negative_and_subtract_may_raise(code: str) -> None:
    # a bool `x`: `-x[i]` and `x[i] - x[i]` raise TypeError; fused, x was half written
    new = _static(code)
    assert "x[i] = x[i] * 2\n    for" in new, new
    bools = np.array([True, False, True])
    assert same(_outcome(HEADER + code, bools), _outcome(new, bools))
