"""Hunt 18: traps for `rewrite --static` loop fusion (GO201) and temporaries chains
(GO202), found by a differential fuzzer (/work/scratch/hunt18/README.md). Each trap
test fails without its fix.

- fix (GO202, silent and loud): a unary ufunc given two positional arguments writes
  the second one: `t = np.exp(a, b)` returns `b` itself, not a fresh array, so
  `u = t * 2.0` -> `np.multiply(t, 2.0, out=t)` overwrote the caller-visible `b`; and a
  step `u = np.exp(t, b)` became `np.exp(t, b, out=t)`, a TypeError (out given twice).
- fix (GO201, state behind an exception): an element `y[i]` of an array of unproven rank
  may be a row. Stored into a float array (`a[i] = y[i]`), tested for truth
  (`if y[i] > 0:`) or compared by `min`/`max`, it raises ValueError at the second
  loop's first iteration; fused, the first loop had written only its first iteration
  into the caller's `y`. The same construct in the *first* loop, run at every
  iteration, raises at its first iteration or never, before any of the second loop's
  work, so it still does not block fusion (`c[i] = a[i] * 2.0` then `d[i] = c[i] + b[i]`).
- fix (GO201, silent): an affine index is injective in memory only while it never takes
  both negative and non-negative values: `a[i]` over `range(lo, n)` with `lo = -2` (or
  `a[2 * i]` over `range(-n, n)`) touches `a[-2]` and later `a[n - 2]`, one element, so
  the second loop read it between the two updates once fused.
- fix (GO201, silent): a body that rebinds its own loop variable (`i = i + 1`, `i += 1`,
  an inner `for i in ...`, `(i := ...)`) hands the new value to the other body once
  fused, and its `a[i]` is not the `a[i]` the dependence test assumed.
- fix (GO201, state behind an exception): under the function's own
  `with np.errstate(over="raise")` or `np.seterr(...)`, `x[i] * 1e308` raises
  FloatingPointError part-way; fused, an array the caller holds had only part of the
  other loop's writes. (A setting made by the caller is not visible: not covered.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.passes.loop_fusion import LoopFusionPass

from .helpers import finding_codes, load, outcome, same, static_rewrite

HEADER = "import numpy as np\n\n\n"


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "loop-fusion")


def _codes(code: str) -> list[tuple[str, bool]]:
    return finding_codes(LoopFusionPass(), HEADER + code)


def _copy(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _outcome(code: str, *args: Any) -> tuple[Any, ...]:
    """`outcome` plus the arrays passed in, as the call left them (a partial write shows)."""
    args = _copy(args)
    return outcome(code, *args) + tuple(a.tolist() for a in args if isinstance(a, np.ndarray))


def _assert_same(code: str, *inputs: tuple[Any, ...]) -> None:
    new = _static(code)
    for args in inputs:
        assert same(_outcome(HEADER + code, *args), _outcome(new, *args)), (args, new)


# --- GO202: positional outputs of unary ufuncs (fix) ----------------------------------------

POSITIONAL_OUT_START = """
def f(x):
    m = len(x)
    a = np.linspace(0.0, 1.0, m)
    b = np.zeros(m)
    t = np.exp(a, b)
    u = t * 2.0
    return u, b
"""

POSITIONAL_OUT_STEP = """
def f(x):
    m = len(x)
    a = np.linspace(0.0, 1.0, m)
    b = np.zeros(m)
    t = a * 2.0
    u = np.exp(t, b)
    return u
"""


@pytest.mark.parametrize("code", [POSITIONAL_OUT_START, POSITIONAL_OUT_STEP])
def test_a_unary_ufunc_with_a_positional_output_is_no_chain_step(code: str) -> None:
    _assert_same(code, (np.ones(3),), (np.ones(1),))
    assert "out=" not in _static(code)


def test_unary_and_binary_ufunc_chains_still_use_out() -> None:
    code = """
def f(x):
    m = len(x)
    a = np.linspace(0.0, 1.0, m)
    b = np.ones(m)
    t = np.exp(a)
    u = np.maximum(t, b)
    return np.sqrt(u)
"""
    assert _codes(code) == [("GO202", True)]
    new = _static(code)
    assert "np.maximum(t, b, out=t)" in new and "np.sqrt(u, out=u)" in new
    _assert_same(code, (np.ones(4),))


# --- GO201: an element of unproven rank used as a number (fix) ------------------------------

ROW_STORED = """
def f(y):
    n = len(y)
    a = np.zeros(n)
    for i in range(n):
        y[i] = 1.0
    for i in range(n):
        a[i] = y[i]
    return a
"""

ROW_TESTED = """
def f(y):
    n = len(y)
    a = np.zeros(n)
    for i in range(n):
        y[i] = 2.0
    for i in range(n):
        if y[i] > 0:
            a[i] = 1.0
    return a
"""

ROW_IN_MAX = """
def f(y):
    n = len(y)
    s = 0.0
    for i in range(n):
        y[i] = 2.0
    for i in range(n):
        s = max(y[i], 0.5)
    return s
"""

ROW_VIA_LOCAL = """
def f(y):
    n = len(y)
    a = np.zeros(n)
    for i in range(n):
        y[i] = 3.0
    for i in range(n):
        v = y[i] * 2.0
        a[i] = v
    return a
"""


@pytest.mark.parametrize("code", [ROW_STORED, ROW_TESTED, ROW_IN_MAX, ROW_VIA_LOCAL])
def test_an_element_that_may_be_a_row_leaves_the_same_state(code: str) -> None:
    _assert_same(code, (np.zeros((3, 2)),), (np.zeros(3),), (np.zeros((2, 0)),))


def test_elements_of_proven_rank_and_first_loop_rows_still_fuse() -> None:
    # the first loop's `a[i] * 2.0` may be a row, but then it raises at its own first
    # iteration, before any of the second loop's work
    example = """
def f(a, b):
    n = len(a)
    c = np.zeros(n)
    d = np.zeros(n)
    for i in range(n):
        c[i] = a[i] * 2.0
    for i in range(n):
        d[i] = c[i] + b[i]
    return d
"""
    assert _codes(example) == [("GO201", True)]
    _assert_same(example, (np.ones(3), np.ones(3)), (np.ones((3, 2)), np.ones(3)))
    # `c[i]` of a 1-D allocation is a number: the second loop cannot raise
    proven = """
def f(y):
    n = len(y)
    c = np.zeros(n)
    d = np.zeros(n)
    for i in range(n):
        y[i] = 1.0
        c[i] = 2.0 * i
    for i in range(n):
        if c[i] > 1.0:
            d[i] = c[i]
    return d
"""
    assert _codes(proven) == [("GO201", True)]
    _assert_same(proven, (np.zeros(4),), (np.zeros((3, 2)),))
    # rows count for the state an exception leaves, not for which exception surfaces:
    # loops that write only fresh arrays still fuse (corpus `ai/sgd_update`)
    private = """
def f(w, g, v, lr, mu):
    n = w.shape[0]
    v2 = np.empty(n)
    w2 = np.empty(n)
    for i in range(n):
        v2[i] = mu * v[i] - lr * g[i]
    for i in range(n):
        w2[i] = w[i] + v2[i]
    return w2, v2
"""
    assert _codes(private) == [("GO201", True)]
    _assert_same(private, (np.ones(3), np.ones(3), np.ones(3), 0.1, 0.9))


# --- GO201: negative indices wrap around (fix) -----------------------------------------------

WRAP_FROM_PARAMETER = """
def f(x, lo):
    n = len(x)
    a = np.zeros(n)
    s = 0.0
    for i in range(lo, n):
        a[i] = a[i] + 1.0
    for i in range(lo, n):
        s = s * 2.0 + a[i]
    return s
"""

WRAP_SYMMETRIC = """
def f(x):
    n = len(x)
    a = np.zeros(2 * n)
    s = 0.0
    for i in range(-n, n):
        a[2 * i] = a[2 * i] + 1.0
    for i in range(-n, n):
        s = s * 2.0 + a[2 * i]
    return s
"""


@pytest.mark.parametrize("code", [WRAP_FROM_PARAMETER, WRAP_SYMMETRIC])
def test_an_index_that_may_wrap_around_is_not_injective(code: str) -> None:
    # `a[-2]` and `a[n - 2]` are one element: the second loop must read it after both
    # increments, not after the first
    inputs = [(np.arange(5.0), -2), (np.arange(3.0), -3)] if "lo" in code else [(np.arange(5.0),)]
    _assert_same(code, *inputs)


def test_indices_that_never_go_negative_still_fuse() -> None:
    code = """
def f(x):
    n = len(x)
    half = n // 2
    a = np.zeros(n + half)
    b = np.zeros(n)
    c = np.zeros(n + half)
    for i in range(1, n - 1):
        a[i - 1] = x[i] * 2.0
        b[n - 1 - i] = x[i]
        c[i + half] = 1.0
    for i in range(1, n - 1):
        a[i - 1] = a[i - 1] + b[n - 1 - i] + c[i + half]
    return a, b, c
"""
    assert _codes(code) == [("GO201", True)]
    assert _static(code).count("for ") == 1
    _assert_same(code, (np.arange(6.0),), (np.arange(1.0),))


# --- GO201: a body that rebinds its loop variable (fix) --------------------------------------

REBIND_ASSIGN = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n - 1):
        i = i + 1
        a[i] = 1.0
    for i in range(n - 1):
        b[i] = 2.0
    return a, b
"""

REBIND_AUGMENTED = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n - 1):
        a[i] = 1.0
        i += 1
    for i in range(n - 1):
        b[i] = 2.0
    return a, b
"""

REBIND_INNER_LOOP = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = 1.0
        for i in range(2):
            pass
    for i in range(n):
        b[i] = a[i] + 2.0
    return a, b
"""

REBIND_WALRUS = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n - 1):
        a[(i := i + 1)] = 1.0
    for i in range(n - 1):
        b[i] = 2.0
    return a, b
"""

REBIND_SECOND = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n - 1):
        a[i] = b[i] + 1.0
    for j in range(n - 1):
        j = j + 1
        b[j] = 2.0
    return a, b
"""


@pytest.mark.parametrize(
    "code", [REBIND_ASSIGN, REBIND_AUGMENTED, REBIND_INNER_LOOP, REBIND_WALRUS, REBIND_SECOND]
)
def test_a_rebound_loop_variable_blocks_fusion(code: str) -> None:
    # fused, the first body's new `i` reaches the second body (`b[1:]` instead of `b[:-1]`);
    # the second body's `b[j]` after `j = j + 1` is `b[i + 1]`, which the next fused
    # iteration's first body reads already written
    _assert_same(code, (np.arange(5.0),), (np.arange(2.0),))


# --- GO201: float arithmetic under the function's own np.errstate(... "raise") (fix) --------

ERRSTATE_RAISE = """
HELD = []


def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    HELD.append(a)
    with np.errstate(over="raise"):
        for i in range(n):
            a[i] = x[i] + 1.0
        for i in range(n):
            b[i] = x[i] * 1e308
    return b
"""

SETERR_RAISE = """
HELD = []


def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    HELD.append(a)
    old = np.seterr(over="raise")
    for i in range(n):
        a[i] = x[i] + 1.0
    for i in range(n):
        b[i] = x[i] * 1e308
    np.seterr(**old)
    return b
"""


@pytest.mark.parametrize("code", [ERRSTATE_RAISE, SETERR_RAISE])
def test_float_errors_that_raise_block_fusion(code: str) -> None:
    # `x[1] * 1e308` raises FloatingPointError: the caller's `HELD[0]` must hold every
    # `x[i] + 1.0`, not only the first two
    new = _static(code)
    for module in (HEADER + code, new):
        namespace = load(module)
        with np.errstate(all="ignore"):  # the function's own setting decides
            with pytest.raises(FloatingPointError):
                namespace["f"](np.array([1.0, 10.0, 1.0]))
        assert namespace["HELD"][0].tolist() == [2.0, 11.0, 2.0]


def test_loops_under_quiet_errstate_still_fuse() -> None:
    code = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(n):
            a[i] = x[i] + 1.0
        for i in range(n):
            b[i] = a[i] * x[i]
    return b
"""
    assert _codes(code) == [("GO201", True)]
    _assert_same(code, (np.array([0.0, 1.0, -1.0]),))
