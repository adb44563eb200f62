"""Hunt 17: edge inputs for the static vectorize rewrite (/work/scratch/hunt17/README.md:
a differential fuzzer over generated loop kernels and empty, 0-d, rank-mismatched, odd-dtype
and aliased inputs). Each trap test fails without its fix.

- a loop storing only into arrays of proven rank left the other arrays' rank unchecked
  ("a row cannot be stored into an element"), which holds only while the loop runs: over
  zero iterations the loop returns, while `out[:0] = x[:0]` with `x` of shape (0, 2) (or
  (1, 0) sliced to (0, 0)) raises ValueError; the slices now run behind `if n > 0:`;
- arrays of one rank class (`out = np.zeros_like(x)`) were sliced over zero iterations
  too: a 0-d `x` (`n = x.size`, `range(2, n)`) cannot be sliced where the loop ran
  nothing; the guard is left out when a bound is `len(x)` / `x.shape[k]` of the class;
- the exemption assumed every row read is stored, but an `if` tests a 1-element row
  (`if y[i] >= x[i]: out[i] = 0.5`, `if x[i] > 300: out[i] = 1.0` with `x` of shape
  (n, 1)) and builtin `max(x[i], 0.0)` may store `0.0` instead of the row: the loop
  returns where `np.where` broadcasts (n, 1) against (n,) and raises; such loops now
  get the rank guard;
- a loop-invariant value (`c2[i, j] = 2.0 + c`) is stored as a scalar: a complex one
  raises TypeError in a float slice even when it is empty, where the loop ran nothing;
- names assumed to be numbers may be arrays: `a * x[:0]` with `a` of shape (2,) raises
  where the empty loop returned (now behind `if n > 0:`), and `if x[i] > x[i]: out[i] = t`
  never stores `t` in the loop while np.where broadcasts it (now not static_safe);
- `np.fmax`/`np.fmin` return the other zero of 0.0 and -0.0 in their array loops than
  on one element (`1.0 / np.fmax(x[i], 0.0)`: -inf vs inf): not static_safe;
- `if x[i] >= s: s = x[i]` keeps the element on a tie (np.int64(3)) where
  `max(s, np.fmax.reduce(x))` keeps the start value 3: not static_safe unless `s`
  starts as an element;
- `np.sqrt(x[i])` of an array whose dtype is not visible: an object array of Python
  floats runs `element.sqrt()` and raises where the loop's `np.sqrt(1.0)` works: not
  static_safe.
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


def _check(code: str, rule: str, *args: object) -> None:
    assert rule in _static_codes(code)
    assert same(outcome(HEADER + code, *args), outcome(_static(code), *args))


# --- empty extents: rows of another rank over zero iterations -----------------------------

COPY_FROM_UNPROVEN = """
def f(x, y):
    x = np.asarray(x, dtype=np.float64)
    n = len(y)
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i]
    return out
"""

SCALE = """
def f(a, x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = a * x[i] + 1.0
    return out
"""

SUBTRACT_FROM_PROVEN = """
def f(x):
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    out = np.zeros(n)
    for i in range(1, n):
        out[i] -= x[i]
    return out
"""

LOG_OF_A_SCALAR = """
def f(x, y):
    x = np.asarray(x, dtype=np.complex128)
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(x.shape[0]):
        out[i] = -0.0
        out[i] += np.log(y[i])
    return out
"""


@pytest.mark.parametrize(
    ("code", "args"),
    [
        (COPY_FROM_UNPROVEN, (np.zeros((1, 0)), np.zeros(0))),
        (COPY_FROM_UNPROVEN, (np.zeros((0, 2)), np.zeros(0))),
        (SCALE, (2.0, np.zeros((0, 2)))),
        (SUBTRACT_FROM_PROVEN, (np.zeros((0, 2)),)),
        (LOG_OF_A_SCALAR, (np.zeros(0), 2.5)),
    ],
)
def test_empty_loop_with_arrays_of_another_rank_returns_like_the_loop(
    code: str, args: tuple[object, ...]
) -> None:
    _check(code, "GO101", *args)


def test_scale_still_runs_slices_for_1d_input() -> None:
    x = np.array([1.0, -2.0, 3.0])
    new = _static(SCALE)
    assert "out[:x.shape[0]] = a * x + 1.0" in new
    assert same(outcome(HEADER + SCALE, 2.0, x), outcome(new, 2.0, x))


ZERO_D_WHERE = """
def f(x):
    x = np.array(x, dtype=np.float64)
    n = x.size
    out = np.zeros_like(x)
    for i in range(2, n):
        if x[i] != 0.0:
            out[i] = 0.5
        else:
            out[i] = x[i]
    return out
"""

ZERO_D_ELEMENTWISE = """
def f(x):
    x = np.array(x, dtype=np.float64)
    n = x.size
    out = np.zeros_like(x)
    for i in range(1, n):
        out[i] = 2.0 * x[i]
    return out
"""


@pytest.mark.parametrize(("code", "rule"), [(ZERO_D_WHERE, "GO107"), (ZERO_D_ELEMENTWISE, "GO101")])
def test_one_rank_class_is_not_sliced_when_0d_and_empty(code: str, rule: str) -> None:
    _check(code, rule, np.array(1.5))
    _check(code, rule, np.arange(4.0))


def test_one_rank_class_bounded_by_its_length_needs_no_guard() -> None:
    code = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in range(len(x)):
        out[i] = 2.0 * x[i]
    return out
"""
    assert "GO101" in _static_codes(code)
    assert "if " not in _static(code).split("def f", 1)[1]


# --- rows tested or picked, never stored ---------------------------------------------------

TESTED_ROW = """
def f(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.complex128)
    n = len(x)
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        if y[i] >= x[i] * 2.0:
            out[i] = 0.5
    return out
"""

TESTED_UINT8_ROW = """
def f(x):
    x = np.asarray(x, dtype=np.uint8)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 300:
            out[i] = 1.0
    return out
"""

ONE_BRANCH_STORES_THE_ROW = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 0:
            out[i] = x[i]
    return out
"""

PICKED_BY_MAX = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = max(x[i], 0.0)
    return out
"""

TEMP_TESTED = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        v = x[i] * 2.0
        if v > 0:
            out[i] = 1.0
        else:
            out[i] = 2.0
    return out
"""


@pytest.mark.parametrize(
    ("code", "rule", "args"),
    [
        (TESTED_ROW, "GO107", (np.arange(3.0), np.array([[2.7], [-4.9], [1.4]]))),
        (TESTED_UINT8_ROW, "GO107", (np.ones((3, 1), np.uint8),)),
        (ONE_BRANCH_STORES_THE_ROW, "GO107", (-np.ones((3, 1)),)),
        (PICKED_BY_MAX, "GO101", (-np.ones((3, 1)),)),
        (TEMP_TESTED, "GO107", (np.ones((3, 1)),)),
    ],
)
def test_a_1_element_row_tested_or_picked_runs_the_loop(
    code: str, rule: str, args: tuple[object, ...]
) -> None:
    _check(code, rule, *args)
    assert ".ndim == 1" in _static(code)


def test_relu_storing_the_row_in_both_branches_needs_no_rank_guard() -> None:
    code = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 0:
            out[i] = x[i]
        else:
            out[i] = 0.01 * x[i]
    return out
"""
    new = _static(code)
    assert "GO107" in _static_codes(code) and ".ndim" not in new
    for x in (np.array([1.0, -2.0]), np.zeros((0, 1)), np.ones((2, 1)), np.zeros(0)):
        assert same(outcome(HEADER + code, x), outcome(new, x))


# --- a loop-invariant value stored over zero iterations ----------------------------------

COMPLEX_CONSTANT = """
def f(x, y, c):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("1-D")
    n = len(x)
    m = len(y)
    c2 = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            c2[i, j] = 2.0 + c
    return c2
"""


@pytest.mark.parametrize("n", [0, 2])
def test_complex_constant_stored_by_an_empty_nest(n: int) -> None:
    _check(COMPLEX_CONSTANT, "GO103", np.zeros(n), np.zeros(3), 1j)
    _check(COMPLEX_CONSTANT, "GO103", np.zeros(n), np.zeros(3), 0.5)


# --- the common case keeps its plain rewrite ----------------------------------------------


def test_proven_1d_loop_of_equal_lengths_is_rewritten_without_guards() -> None:
    code = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("1-D")
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = 2.0 * x[i] + 1.0
    return out
"""
    assert "GO101" in _static_codes(code)
    body = _static(code).split('raise ValueError("1-D")', 1)[1]
    assert "if " not in body and "out[:len(x)] = 2.0 * x + 1.0" in body


# --- np.fmax / np.fmin pick the other zero in their array loops ----------------------------

FMAX_DIVIDED = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = 1.0 / np.fmax(x[i], 0.0)
    return out
"""

FMIN_OF_ZEROS = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = np.fmin(x[i], -0.0)
    return out
"""


@pytest.mark.parametrize("code", [FMAX_DIVIDED, FMIN_OF_ZEROS])
def test_fmax_fmin_of_signed_zeros_are_not_static(code: str) -> None:
    x = np.array([-0.0] * 5 + [0.0] * 5)
    loop, new = outcome(HEADER + code, x), outcome(_static(code), x)
    assert same(loop, new) and np.array_equal(np.signbit(loop[1]), np.signbit(new[1]))


def test_np_maximum_of_signed_zeros_is_still_rewritten() -> None:
    code = FMAX_DIVIDED.replace("np.fmax", "np.maximum")
    x = np.array([-0.0] * 5 + [0.0] * 5)
    assert "GO101" in _static_codes(code)
    assert same(outcome(HEADER + code, x), outcome(_static(code), x))


# --- `>=` reductions take the element on a tie ---------------------------------------------

TIE_INT = """
def f(x):
    x = np.asarray(x, dtype=np.int64)
    s = 3
    for i in range(len(x)):
        if x[i] >= s:
            s = x[i]
    return s
"""

TIE_FLOAT_MIN = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    s = 0.5
    for i in range(len(x)):
        if x[i] <= s:
            s = x[i]
    return s
"""


@pytest.mark.parametrize(
    ("code", "x"), [(TIE_INT, np.array([3, 1])), (TIE_FLOAT_MIN, np.array([0.5]))]
)
def test_ties_of_ge_reductions_keep_the_element_type(code: str, x: np.ndarray) -> None:
    assert same(outcome(HEADER + code, x), outcome(_static(code), x))


def test_ge_reduction_from_an_element_and_strict_reduction_are_still_rewritten() -> None:
    from_element = TIE_INT.replace("s = 3", "s = x[0]")
    strict = TIE_INT.replace(">=", ">")
    for code in (from_element, strict):
        assert "GO102" in _static_codes(code)
        for x in (np.array([3, 1, 3]), np.array([5, 2])):
            assert same(outcome(HEADER + code, x), outcome(_static(code), x))


# --- object arrays: a ufunc calls each element's method ------------------------------------

OBJECT_SQRT = """
def f(x):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = 2.0 * np.sqrt(x[i])
    return out
"""

OBJECT_EXP_OF_TEMP = """
def f(x):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        v = x[i] * -1.0
        out[i] = np.exp(v)
    return out
"""


@pytest.mark.parametrize("code", [OBJECT_SQRT, OBJECT_EXP_OF_TEMP])
def test_ufunc_of_an_array_of_unseen_dtype_may_meet_an_object_array(code: str) -> None:
    x = np.array([1.0, 4.0, 9.0], dtype=object)
    assert same(outcome(HEADER + code, x), outcome(_static(code), x))


def test_ufunc_of_a_float_array_is_still_rewritten() -> None:
    code = OBJECT_SQRT.replace("np.asarray(x)", "np.asarray(x, dtype=np.float64)")
    assert "GO101" in _static_codes(code)


# --- names assumed to be numbers -----------------------------------------------------------

SAXPY = """
def f(a, x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
"""

TESTED_AGAINST_A_PARAMETER = """
def f(x, c):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("1-D")
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] < c:
            out[i] = x[i]
        else:
            out[i] = 2.0 * x[i]
    return out
"""


@pytest.mark.parametrize(
    ("code", "rule", "args"),
    [
        (SAXPY, "GO101", (np.array([1.0, 2.0]), np.zeros(0), np.zeros(0))),
        (SAXPY, "GO101", (2.0, np.arange(3.0), np.ones(3))),
        (TESTED_AGAINST_A_PARAMETER, "GO107", (np.zeros(0), np.array([1.0, 2.0]))),
        (TESTED_AGAINST_A_PARAMETER, "GO107", (np.arange(3.0), 1.5)),
    ],
)
def test_a_parameter_array_meets_empty_slices(code: str, rule: str, args: tuple) -> None:
    _check(code, rule, *args)


NEVER_STORED_BRANCH = """
def f(x, t):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("1-D")
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > x[i]:
            out[i] = t
        else:
            out[i] = x[i] + 1.0
    return out
"""


def test_a_name_only_a_branch_reads_is_not_static() -> None:
    x, t = np.array([1.5]), np.array([1.0, 2.0])
    assert same(
        outcome(HEADER + NEVER_STORED_BRANCH, x, t), outcome(_static(NEVER_STORED_BRANCH), x, t)
    )
    assert "GO107" not in _static_codes(NEVER_STORED_BRANCH)
    proven = NEVER_STORED_BRANCH.replace(
        'raise ValueError("1-D")', 'raise ValueError("1-D")\n    t = float(t)'
    )
    assert "GO107" in _static_codes(proven)


def test_a_name_stored_through_a_temporary_in_one_branch_is_not_static() -> None:
    code = NEVER_STORED_BRANCH.replace(
        "    for i in range(len(x)):\n", "    for i in range(len(x)):\n        v = t * 2.0\n"
    ).replace("out[i] = t", "out[i] = v")
    x, t = np.array([1.5]), np.array([1.0, 2.0])
    assert same(outcome(HEADER + code, x, t), outcome(_static(code), x, t))
