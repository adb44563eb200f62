"""Traps found by the sixth adversarial hunt (fixtures: /work/scratch/hunt6).

Each test runs the original and the rewritten function on the input that told them
apart, or checks that the rewrite is no longer offered as statically proven.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static
from greenopt.passes.dtype_reduction import DtypeReductionPass

from .helpers import load, outcome, rewrite

HEADER = "import numpy as np\n\n\n"


def _static(code: str) -> tuple[str, list[str]]:
    """The `rewrite --static` result of `code` and the reasons of what was skipped."""
    result = rewrite_static(SourceModule.parse(HEADER + code, "m.py"), passes=["vectorize"])
    return result.new_code, [reason for _, reason in result.skipped]


def _assert_same(code: str, new_code: str, *args: Any) -> None:
    want, got = outcome(code, *args), outcome(new_code, *args)
    assert want[0] == got[0], (want, got, new_code)
    if want[0] == "raises":
        assert want[1] == got[1], (want, got, new_code)
        return
    a, b = want[1], got[1]
    assert a.dtype == b.dtype and a.shape == b.shape, (a, b, new_code)
    assert np.array_equal(a, b, equal_nan=True), (a, b, new_code)


# -- an `if` branch that reads past the end is not an up-front IndexError ----------------------

BRANCH_READS_SHORT_ARRAY = """def f(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 0:
            out[i] = x[i]
        else:
            out[i] = y[i]
    return out
"""


def test_a_branch_never_taken_may_read_a_short_array() -> None:
    """`y` is shorter than `x` but the `else` branch is never taken: the loop returns,
    the rewrite used to raise IndexError up front (a check made for unconditional reads)."""
    new_code, skipped = _static(BRANCH_READS_SHORT_ARRAY)
    assert "np.where" not in new_code, new_code
    assert any("the bounds of y are not provably within" in s for s in skipped), skipped
    code = HEADER + BRANCH_READS_SHORT_ARRAY
    assert outcome(code, np.array([1.0, 2.0, 3.0]), np.array([5.0]))[0] == "returns"


def test_a_short_read_in_the_condition_is_still_checked_up_front() -> None:
    """The condition is evaluated on every iteration: the up-front check stays."""
    code = """def f(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if y[i] > 0:
            out[i] = x[i]
    return out
"""
    new_code, _ = _static(code)
    assert "raise IndexError" in new_code and "np.where" in new_code, new_code
    for args in [(np.array([1.0, 2.0]), np.array([1.0])), (np.array([1.0, -2.0]), np.ones(2))]:
        _assert_same(HEADER + code, new_code, *args)


# -- np.where casts a Python scalar to the other branch's dtype ----------------------------------


@pytest.mark.parametrize(
    ("value", "args"),
    [
        ("max(x[i], a)", (np.array([1, 2], dtype=np.int8), 300)),
        ("min(a, x[i])", (np.array([1, 2], dtype=np.uint8), -1)),
        ("max(x[i], a)", (np.array([0.0, 0.05], dtype=np.float32), 0.1)),
    ],
)
def test_min_max_with_a_scalar_parameter_is_not_static(value: str, args: tuple[Any, ...]) -> None:
    """`max(x[i], a)` is `a` (300, -1, the Python float 0.1); `np.where(a > x, a, x)`
    casts `a` to `x`'s dtype: 44, 255, float32(0.1)."""
    code = f"""def f(x, a):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = {value}
    return out
"""
    new_code, skipped = _static(code)
    assert "np.where" not in new_code, new_code
    assert any("may be a Python int or float of any value" in s for s in skipped), skipped
    want = outcome(HEADER + code, *args)
    assert want[0] == "returns"
    cast = np.where(True, np.asarray(args[1]).astype(args[0].dtype), args[0])
    assert not np.array_equal(want[1], cast.astype(np.float64))  # the rewrite's result


def test_a_conditional_store_of_a_scalar_parameter_is_not_static() -> None:
    code = """def f(x, a):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 0:
            out[i] = a
        else:
            out[i] = x[i]
    return out
"""
    new_code, skipped = _static(code)
    assert "np.where" not in new_code, new_code
    assert any("may be a Python int or float of any value" in s for s in skipped), skipped


def test_a_scalar_with_a_float64_branch_stays_static() -> None:
    # `a = float(a)` proves a number: a bare parameter could be a list (`[0.2]`), which
    # makes the builtin raise and np.where broadcast (tests/passes/test_realworld_passes.py)
    code = """def f(x, a):
    x = np.asarray(x, dtype=np.float64)
    a = float(a)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = max(x[i], a)
    return out
"""
    new_code, _ = _static(code)
    assert "np.where(a > x, a, x)" in new_code, new_code
    for a in (0.1, 300, -1):
        _assert_same(HEADER + code, new_code, np.array([0.0, 0.5, np.nan, 400.0]), a)


# -- loop-invariant abs/min/max stay Python builtins ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "args"),
    [
        ("x[i] * abs(a)", (np.array([0.3, 1.7, 2.9], dtype=np.float32), 0.1)),
        ("x[i] * min(a, 0.5)", (np.array([0.3, 1.7, 2.9], dtype=np.float32), 0.1)),
        ("x[i] + abs(a) * 10**12", (np.array([0.3, 1.7]), 10**8)),
        ("x[i] + max(a, 1) * 10**12", (np.array([0.3, 1.7]), 10**8)),
        ("x[i] + abs(a) % a", (np.array([0.3, 1.7]), 0.0)),
    ],
)
def test_loop_invariant_builtins_are_evaluated_as_the_loop_does(
    value: str, args: tuple[Any, ...]
) -> None:
    """`np.abs(a)` and `np.where(...)` of Python numbers are NumPy scalars/0-d arrays:
    not weak under NumPy 2 (a float32 `x * np.abs(0.1)` computes in float64), int64
    (`np.abs(10**8) * 10**12` wraps) and `% 0.0` gives nan instead of raising."""
    code = f"""def f(x, a):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = {value}
    return out
"""
    new_code, _ = _static(code)
    assert "np.abs(a)" not in new_code and "np.where" not in new_code, new_code
    assert new_code != HEADER + code  # still rewritten
    _assert_same(HEADER + code, new_code, *args)


# -- dtype-reduction: running sums stay float64 ---------------------------------------------------


def test_a_float32_count_would_stop_at_2_to_the_24() -> None:
    """The counts are exact on any workload below 2**24 per bin and stuck at 16,777,216
    above it: the counting array stays float64."""
    code = HEADER + (
        "def f(x):\n    h = np.zeros(2)\n    for i in range(len(x)):\n"
        "        if x[i] > 0.5:\n            h[1] += 1.0\n        else:\n            h[0] += 1.0\n"
        "    return h\n"
    )
    new_code, found = rewrite(DtypeReductionPass(), code)
    assert "h = np.zeros(2)\n" in new_code, new_code
    assert np.float32(2**24) + np.float32(1.0) == np.float32(2**24)  # why
    x = np.random.default_rng(1).random(100)
    assert np.array_equal(load(new_code)["f"](x), load(code)["f"](x))
    assert found and "x = np.asarray(x, dtype=np.float32)" in new_code  # the data still narrow


@pytest.mark.parametrize(
    "loop",
    [
        "        s += x[i]\n",
        "        s = s + x[i] * x[i]\n",
        "        s -= x[i]\n",
    ],
)
def test_a_scalar_running_sum_keeps_its_data_in_float64(loop: str) -> None:
    """`s = 0.0; s += x[i]` on a float32 `x` accumulates in float32 (NEP 50): 44% low
    on 6e7 uniform values, 4e-6 on a 1e5-element workload."""
    code = HEADER + f"def f(x):\n    s = 0.0\n    for i in range(len(x)):\n{loop}    return s\n"
    new_code, found = rewrite(DtypeReductionPass(), code)
    assert found == [] and new_code == code


def test_a_whole_loop_element_sum_stays_float64() -> None:
    code = HEADER + (
        "def f(x):\n    acc = np.zeros(1)\n    for i in range(len(x)):\n"
        "        acc[0] += x[i]\n    return acc\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(), code)
    assert "acc = np.zeros(1)\n" in new_code, new_code
    assert "x = np.asarray(x, dtype=np.float32)" in new_code, new_code


def test_sums_restarted_for_each_row_still_narrow() -> None:
    """A row sum (`y[i] += A[i, j] * x[j]`, or `s = 0.0` inside the outer loop) runs over
    one row: left to the validator, like other float32 rounding."""
    code = HEADER + (
        "def f(A, x):\n    n, m = A.shape\n    y = np.zeros(n)\n"
        "    for i in range(n):\n        for j in range(m):\n"
        "            y[i] += A[i, j] * x[j]\n    return y\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(), code)
    assert "y = np.zeros(n, dtype=np.float32)" in new_code, new_code


def test_elementwise_updates_still_narrow() -> None:
    """`u[i] += ...` moves with the loop: each element is updated once per pass."""
    code = HEADER + (
        "def f(x):\n    u = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        u[i] += 2.0 * x[i]\n    return u\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(), code)
    assert "u = np.zeros(len(x), dtype=np.float32)" in new_code, new_code
