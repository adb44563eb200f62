"""Miscompilation traps for `rewrite --static` with the vectorize pass.

Each trap runs the original and the statically rewritten function on the inputs that
once told them apart (return value with dtype, argument mutation, exception type), or
asserts that the loop is left alone with a GO190 note or a not-proven skip saying why.
Parameters are converted with `np.asarray` first where the trap needs the static
proof to get past "may be a Python list" and reach the check under test.
"""

from __future__ import annotations

import copy
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import StaticRewrite, rewrite_static
from greenopt.passes.vectorize import VectorizePass

from .loops import loops_left

HEADER = "import numpy as np\n\n\n"


def _rewrite(code: str) -> StaticRewrite:
    return rewrite_static(SourceModule.parse(HEADER + code, "m.py"), passes=["vectorize"])


def _load(code: str) -> Callable[..., Any]:
    module = types.ModuleType("trap")
    exec(compile(code, "trap.py", "exec"), module.__dict__)
    return module.f


def _outcome(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, ...]:
    """("returns", value, args after) or ("raises", exception type name, args after)."""
    args = copy.deepcopy(list(args))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both versions may warn (NaN casts, overflow)
        try:
            result = fn(*args)
        except Exception as exc:  # the exception type is the outcome
            return ("raises", type(exc).__name__, args)
    return ("returns", result, args)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and np.isnan(a):
        return bool(np.isnan(b))
    return bool(a == b)


def assert_equivalent(code: str, inputs: Sequence[Sequence[Any]]) -> StaticRewrite:
    """Original and rewrite agree on every input (values, dtypes, mutation, exception)."""
    result = _rewrite(code)
    original, rewritten = _load(result.original), _load(result.new_code)
    for args in inputs:
        want, got = _outcome(original, args), _outcome(rewritten, args)
        assert want[0] == got[0], (args, want, got, result.new_code)
        assert _same(want[1], got[1]) if want[0] == "returns" else want[1] == got[1], (
            args,
            want,
            got,
            result.new_code,
        )
        assert _same(want[2], got[2]), ("arguments mutated differently", args, result.new_code)
    return result


def assert_left_alone(code: str, why: str) -> None:
    """`rewrite --static` keeps the loop, and the finding says why."""
    result = _rewrite(code)
    assert not result.changed, result.new_code
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    reasons = [
        str(o.data.get("reason", "")) + " ".join(o.data.get("unsafe_reasons", ())) for o in found
    ]
    assert any(why in r for r in reasons), reasons


NAN = np.array([np.nan, 1.0])
FLOATS = np.array([0.5, -1.25, 3.0])

# -- 2. augmented stores into int/bool arrays ---------------------------------------------------

AUG_INT = {
    "int64 += float": """def f(x):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros(len(x), dtype=np.int64)
    for i in range(len(x)):
        y[i] += x[i]
    return y
""",
    "int64 *= 0.5": """def f(x):
    x = np.asarray(x, dtype=np.float64)
    y = np.ones(len(x), dtype=np.int64)
    for i in range(len(x)):
        y[i] *= 0.5
    return y
""",
    "bool += int": """def f(x):
    x = np.asarray(x, dtype=np.int64)
    y = np.zeros(len(x), dtype=bool)
    for i in range(len(x)):
        y[i] += x[i]
    return y
""",
    "int32 += int64": """def f(x):
    x = np.asarray(x, dtype=np.int64)
    y = np.zeros(len(x), dtype=np.int32)
    for i in range(len(x)):
        y[i] += x[i]
    return y
""",
    "2-D int += float": """def f(a):
    a = np.asarray(a, dtype=np.float64)
    n, m = a.shape
    out = np.zeros((n, m), dtype=int)
    for i in range(n):
        for j in range(m):
            out[i, j] += a[i, j] * 0.5
    return out
""",
}


@pytest.mark.parametrize("name", sorted(AUG_INT))
def test_augmented_store_into_int_or_bool_array_is_left_alone(name: str) -> None:
    code = AUG_INT[name]
    assert_left_alone(code, "array: an element store casts")
    arg = np.arange(6.0).reshape(3, 2) * 3 if "2-D" in name else np.array([2**40, 1, 0])
    assert_equivalent(code, [(arg,)])


def test_augmented_store_into_float_array_keeps_element_store_casts() -> None:
    """`y[i] += x[i]` with complex x stores the real part; an in-place `+=` would raise."""
    code = """def f(x):
    x = np.asarray(x)
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] += x[i]
    return y
"""
    result = assert_equivalent(
        code, [(FLOATS,), (np.array([1 + 2j, 3 - 1j]),), (np.array([1, 2], dtype=np.uint64),)]
    )
    assert result.changed and "y[:len(x)] = y[:len(x)] + x" in result.new_code


def test_augmented_store_of_float_arrays_stays_in_place() -> None:
    code = """def f(n):
    x = np.linspace(0.0, 1.0, n)
    y = np.ones(n)
    for i in range(n):
        y[i] += 2.0 * x[i]
    return y
"""
    result = assert_equivalent(code, [(0,), (1,), (7,)])
    assert "y[:n] += 2.0 * x[:n]" in result.new_code


# -- 3. constructs whose array meaning differs from the scalar one ------------------------------


@pytest.mark.parametrize(
    "value, why",
    [
        ("not x[i]", "`not` on an element"),
        ("x[i] is None", "is/in comparison"),
        ("x[i] in (1.0, 2.0)", "container literal"),
        ("0 < x[i] < 1", "chained comparison"),
        ("1.0 if x[i] > 0 else 0.0", "conditional expression"),
        ("x[i] > 0 and x[i] < 2", "and/or/not"),
        ("float(x[i])", "calls builtin float()"),
        ("round(x[i])", "calls builtin round()"),
    ],
)
def test_python_scalar_semantics_are_left_alone(value: str, why: str) -> None:
    code = f"""def f(x):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = {value}
    return y
"""
    assert_left_alone(code, why)


@pytest.mark.parametrize(
    "imports, call",
    [
        ("import math\n", "math.sqrt"),
        ("from math import exp\n", "exp"),
        ("import cmath\n", "cmath.exp"),
    ],
)
def test_math_module_functions_are_named_as_such(imports: str, call: str) -> None:
    """`math.sqrt(-1.0)` raises where `np.sqrt` returns nan: left alone, and the note
    names the math function instead of calling it a method that may mutate."""
    code = f"""{imports}
def f(x):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = {call}(x[i])
    return y
"""
    qualified = call if "." in call else f"math.{call}"
    assert_left_alone(code, f"calls {qualified}(): math functions are not vectorised")


# -- 4. a zero-trip loop must evaluate nothing ---------------------------------------------------

ZERO_TRIP = {
    "constant subscript": (
        """def f(a):
    a = np.asarray(a, dtype=np.float64)
    out = np.zeros(len(a))
    for i in range(len(a)):
        out[i] = a[i] - a[0]
    return out
""",
        [(np.zeros(0),), (FLOATS,)],
    ),
    "division by a scalar": (
        """def f(x, k):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] + 1 / k
    return out
""",
        [(np.zeros(0), 0), (FLOATS, 2)],
    ),
    "name bound in a branch": (
        """def f(x, flag):
    x = np.asarray(x, dtype=np.float64)
    if flag:
        s = 2.0
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] * s
    return out
""",
        [(np.zeros(0), False), (FLOATS, True)],
    ),
    "index of an earlier loop": (
        """def f(a):
    a = np.asarray(a, dtype=np.float64)
    n = len(a)
    c = np.zeros(n)
    d = np.zeros(n)
    for i in range(n):
        c[i] = a[i]
    for j in range(n):
        d[j] = c[j] * i
    return d
""",
        [(np.zeros(0),), (FLOATS,)],
    ),
    "max keeps a Python float": (
        """def f(n):
    c = np.linspace(0.0, 1.0, n)
    s = -1.0
    for i in range(len(c)):
        s = max(s, c[i])
    return s
""",
        [(0,), (5,)],
    ),
}


@pytest.mark.parametrize("name", sorted(ZERO_TRIP))
def test_zero_trip_loop_evaluates_nothing(name: str) -> None:
    code, inputs = ZERO_TRIP[name]
    result = assert_equivalent(code, inputs)
    assert result.changed and "if " in result.new_code.split("def f", 1)[1]


def test_elementwise_slices_need_no_guard() -> None:
    result = assert_equivalent(
        """def f(a, x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + 1.0
    return out
""",
        [(2.0, np.zeros(0)), (2.0, FLOATS)],
    )
    assert "    out[:len(x)] = a * x + 1.0\n" in result.new_code


# -- 5. out-of-bounds indexing must still raise ---------------------------------------------------


def test_second_array_of_unknown_length_is_checked_up_front() -> None:
    """`y[:len(x)]` of a short y would broadcast or be shorter: the rewrite raises the
    loop's IndexError first (nothing else in the loop can raise, `out` is local)."""
    code = """def f(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] + y[i]
    return out
"""
    result = assert_equivalent(
        code,
        [(np.ones(4), np.ones(1)), (np.ones(4), np.ones(2)), (np.ones(2), np.ones(5))]
        + [(np.zeros(0), np.zeros(0)), (np.ones(3), np.ones(3))],
    )
    assert result.changed and "len(y) < len(x)" in result.new_code


def test_bound_n_larger_than_the_array_is_checked_up_front() -> None:
    code = """def f(x, n):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i + 1] * 2
    return y
"""
    result = assert_equivalent(code, [(np.ones(3), 5), (np.ones(3), 2), (np.ones(3), 3)])
    assert "len(x) < n + 1" in result.new_code


def test_short_array_with_a_visible_target_is_not_proven() -> None:
    """The loop fills `out` up to the short array's end before it raises."""
    code = """def f(x, log):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(3)
    log.append(out)
    for i in range(len(x)):
        out[i] = x[i] * 2.0
    return out
"""
    assert_left_alone(code, "bounds of out are not provably")
    assert_equivalent(code, [(np.ones(5), [])])


def test_short_array_in_a_loop_that_may_raise_otherwise_is_not_proven() -> None:
    code = """def f(x, y, k):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] + y[i] + 1 / k
    return out
"""
    assert_left_alone(code, "bounds of y are not provably")
    assert_equivalent(code, [(np.ones(3), np.ones(1), 0)])


def test_stride_two_reading_past_the_end_is_not_proven() -> None:
    code = """def f(a):
    a = np.asarray(a, dtype=np.float64)
    n = len(a)
    d = np.zeros(n)
    for i in range(0, n, 2):
        d[i] = a[i] + a[i + 1]
    return d
"""
    assert_left_alone(code, "bounds of a are not provably")
    assert_equivalent(code, [(np.ones(5),), (np.ones(4),)])


def test_sizes_tied_to_the_bound_are_proven() -> None:
    """`empty_like`, `zeros(n)` with `n = len(x)`, `.copy()`: lengths equal the bound."""
    code = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    a = np.empty_like(x)
    b = np.zeros(n)
    c = x.copy()
    for i in range(1, n - 1):
        b[i] = c[i + 1] - x[i - 1]
    for i in range(n):
        a[i] = b[i] * 2.0
    return a, b, c
"""
    result = assert_equivalent(code, [(np.zeros(0),), (np.ones(1),), (FLOATS,)])
    assert not loops_left(result.new_code)


# -- 6. stores into int arrays -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["np.int64", "np.int32", "int", "bool"])
def test_float_values_into_int_arrays_are_left_alone(dtype: str) -> None:
    code = f"""def f(x):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros(len(x), dtype={dtype})
    for i in range(len(x)):
        y[i] = x[i] * 1.5
    return y
"""
    assert_left_alone(code, "array: an element store casts")
    assert_equivalent(code, [(NAN,), (np.array([2.0**40, 1.0]),)])


def test_int_literals_into_int_arrays_are_fine() -> None:
    code = """def f(n):
    y = np.ones(n, dtype=np.int64)
    for i in range(n):
        y[i] = 0
    return y
"""
    result = assert_equivalent(code, [(0,), (3,)])
    assert result.changed


def test_conditional_store_into_int_array_is_left_alone() -> None:
    code = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x), dtype=np.int64)
    for i in range(len(x)):
        if x[i] > 0:
            out[i] = 1
        else:
            out[i] = x[i]
    return out
"""
    assert_left_alone(code, "an int array")
    assert_equivalent(code, [(np.array([np.nan, -1.0]),)])


def test_unknown_target_dtype_is_not_static_safe() -> None:
    code = """def f(x):
    x = np.asarray(x)
    y = np.empty_like(x)
    for i in range(len(x)):
        y[i] = x[i] * 1.5
    return y
"""
    assert_left_alone(code, "the dtype of y is not visible")
    assert_equivalent(code, [(np.array([1, 2**62]),)])


# -- 8. scatter index arrays ----------------------------------------------------------------------


def test_scatter_with_an_index_parameter_is_not_static_safe() -> None:
    code = """def f(idx, nbins):
    idx = np.asarray(idx)
    h = np.zeros(nbins)
    for i in range(len(idx)):
        h[idx[i]] += 1
    return h
"""
    assert_left_alone(code, "idx is not provably a 1-D integer NumPy array")
    assert_equivalent(code, [(np.array([[0, 1], [1, 1]]), 3), (np.array([True, False]), 2)])


def test_scatter_with_a_tuple_index_is_left_alone() -> None:
    code = """def f(w, nbins):
    w = np.asarray(w, dtype=np.float64)
    idx = (0, 0)
    h = np.zeros(nbins)
    for i in range(len(w)):
        h[idx[i]] += w[i]
    return h
"""
    assert_left_alone(code, "idx is a Python list/tuple")


def test_scatter_with_a_2d_index_array_is_left_alone() -> None:
    code = """def f(n):
    idx = np.zeros((n, 2), dtype=np.int64)
    h = np.zeros(3)
    for i in range(n):
        h[idx[i]] += 1
    return h
"""
    assert_left_alone(code, "has 2 dimensions")


def test_scatter_with_a_local_integer_index_array_is_rewritten() -> None:
    code = """def f(x, nbins):
    x = np.asarray(x, dtype=np.float64)
    idx = np.zeros(len(x), dtype=np.int64)
    h = np.zeros(nbins)
    for i in range(len(x)):
        h[idx[i]] += x[i]
    return h
"""
    result = assert_equivalent(code, [(np.zeros(0), 2), (FLOATS, 2)])
    assert "np.add.at(h, idx[:len(x)], x)" in result.new_code


# -- 9. Python lists ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        """def f(x):
    for i in range(len(x)):
        x[i] = x[i] * 2
    return x
""",
        """def f(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
""",
    ],
)
def test_parameters_without_ndarray_evidence_are_not_static_safe(code: str) -> None:
    assert_left_alone(code, "may be a Python list or tuple")
    assert_equivalent(code, [([1.0, 2.0],)] if "a, x" not in code else [(2, [1.0], [1.0])])


@pytest.mark.parametrize(
    "evidence",
    [
        "x = np.asarray(x)",
        "n = x.shape[0]",
        'if x.dtype.kind not in "fiu": raise TypeError("numbers")',
    ],
)
def test_ndarray_evidence_before_the_loop_is_enough(evidence: str) -> None:
    code = f"""def f(x):
    {evidence}
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * 2
    return y
"""
    result = assert_equivalent(code, [(FLOATS,), (np.zeros(0),)])
    assert result.changed


def test_evidence_after_the_loop_does_not_count() -> None:
    code = """def f(x):
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * 2
    n = x.shape[0]
    return y
"""
    assert_left_alone(code, "x may be a Python list")


@pytest.mark.parametrize(
    "evidence",
    [
        "assert x.shape[0] >= 0",
        "ok = len(x) > 0 and x.shape[0] > 0",
        "if flag:\n        n = x.shape[0]",
    ],
)
def test_evidence_that_may_not_run_does_not_count(evidence: str) -> None:
    """`python -O` strips asserts; `and` short-circuits; a branch may not run."""
    code = f"""def f(x, flag=False):
    {evidence}
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * 2
    return y
"""
    assert_left_alone(code, "x may be a Python list")


# -- an exception part-way: the partial results must stay invisible ----------------------------

PARTIAL = {
    "caught by an enclosing try": """def f(x, k):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    c = np.zeros(len(x))
    try:
        for i in range(len(x)):
            c[i] = x[i] * 2.0
            out[i] = x[i] + 1 / k
    except ZeroDivisionError:
        return c
    return out
""",
    "array handed to the caller first": """def f(x, k, log):
    x = np.asarray(x, dtype=np.float64)
    c = np.zeros(len(x))
    log.append(c)
    out = np.zeros(len(x))
    for i in range(len(x)):
        c[i] = x[i] * 2.0
        out[i] = x[i] + 1 / k
    return out
""",
}


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_partial_results_of_a_raising_loop_stay_as_they_were(name: str) -> None:
    code = PARTIAL[name]
    assert_left_alone(code, "if the loop raises part-way")
    args = (FLOATS, 0, []) if "log" in code else (FLOATS, 0)
    assert_equivalent(code, [args])


def test_a_loop_that_cannot_raise_needs_no_such_care() -> None:
    code = PARTIAL["caught by an enclosing try"].replace("1 / k", "k")
    result = assert_equivalent(code, [(FLOATS, 0.0), (np.zeros(0), 1.0)])
    assert result.changed


def test_comparisons_into_a_bool_array_are_fine() -> None:
    code = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros(len(x), dtype=bool)
    for i in range(len(x)):
        y[i] = x[i] > 0.5
    return y
"""
    result = assert_equivalent(code, [(NAN,), (FLOATS,), (np.zeros(0),)])
    assert result.changed and "y[:len(x)] = x > 0.5" in result.new_code


def test_sizes_bound_after_the_loop_in_an_enclosing_loop_prove_nothing() -> None:
    """`y` keeps the first round's size while `k` takes the next one: `y[:k]` would be
    shorter where the loop raises IndexError."""
    code = """def f(x, sizes):
    x = np.asarray(x, dtype=np.float64)
    rows = []
    for m in sizes:
        if rows:
            for i in range(k):
                y[i] = 2.0
        k = int(m)
        if not rows:
            y = np.zeros(k)
        rows.append(k)
    return y
"""
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    (opp,) = [o for o in found if o.code != "GO190"]
    assert not opp.static_safe
    assert_equivalent(code, [(np.ones(8), [2, 5])])


def test_an_array_a_closure_reads_is_visible() -> None:
    code = """def f(x, k, log):
    x = np.asarray(x, dtype=np.float64)
    c = np.zeros(len(x))
    log.append(lambda: c)
    out = np.zeros(len(x))
    for i in range(len(x)):
        c[i] = x[i] * 2.0
        out[i] = x[i] + 1 / k
    return out
"""
    assert_left_alone(code, "if the loop raises part-way, c would hold")


# -- 10. array loops that round differently from the per-element operation ----------------------


def _forced(code: str) -> Callable[..., Any]:
    """The rewrite applied whether or not it is static_safe (what validation would run)."""
    module = SourceModule.parse(HEADER + code, "m.py")
    vectorize = VectorizePass()
    chosen = [o for o in vectorize.find(module) if o.fixable]
    assert chosen
    return _load(vectorize.apply(module, chosen).code)


POWERS = [
    "x[i] ** 0.5",
    "x[i] ** 2",
    "x[i] ** -1.0",
    "2.0 ** x[i]",
    "(x[i] + 1.0) ** 1.5 * 3.0",
    "np.power(x[i], 3.0)",
    "np.float_power(x[i], 0.5)",
]


@pytest.mark.parametrize("value", POWERS)
def test_a_power_is_never_static_safe_but_stays_fixable(value: str) -> None:
    code = f"""def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = {value}
    return out
"""
    assert_left_alone(code, "`**` on arrays uses NumPy's fast paths")
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert [o.code for o in found if o.fixable] == ["GO101"]


def test_the_power_rewrite_really_differs() -> None:
    """`x ** 0.5` on an array is sqrt: (-inf) ** 0.5 is nan (pow gives inf) and
    (-0.0) ** 0.5 is -0.0 (pow gives 0.0); fmax.reduce then skips the nan."""
    roots = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] ** 0.5
    return out
"""
    peak = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    m = -np.inf
    for i in range(len(x)):
        m = max(m, x[i] ** 0.5)
    return m
"""
    assert_left_alone(peak, "`**` on arrays")
    with np.errstate(all="ignore"):
        before = _load(HEADER + roots)(np.array([-np.inf, -0.0, 4.0]))
        after = _forced(roots)(np.array([-np.inf, -0.0, 4.0]))
        assert before.tolist() == [np.inf, 0.0, 2.0] and not np.signbit(before[1])
        assert np.isnan(after[0]) and np.signbit(after[1])
        assert _load(HEADER + peak)(np.array([-np.inf, 1.0])) == np.inf
        assert _forced(peak)(np.array([-np.inf, 1.0])) == 1.0
    x = np.random.default_rng(0).uniform(0.0, 10.0, 4000)
    loop = np.array([v**1.5 for v in x])
    assert (loop != x**1.5).any()  # an ulp here and there


def test_a_loop_invariant_power_is_evaluated_alike() -> None:
    code = """def f(x, a):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] * a ** 2
    return out
"""
    result = assert_equivalent(code, [(FLOATS, 1.5), (NAN, -0.0)])
    assert result.changed and "out[:len(x)] = x * a ** 2" in result.new_code


COMPLEX = {
    "z[i] * w[i]": "z, w are complex",
    "abs(z[i])": "z is complex",
    "np.square(z[i])": "z is complex",
    "z[i] * (w[i] + 1.0)": "z, w are complex",
}


@pytest.mark.parametrize("value", sorted(COMPLEX))
def test_complex_products_and_abs_are_not_static_safe(value: str) -> None:
    code = f"""def f(z, w):
    z = np.asarray(z, dtype=np.complex128)
    w = np.asarray(w, dtype=np.complex128)
    out = np.zeros(len(z), dtype=np.complex128)
    for i in range(len(z)):
        out[i] = {value}
    return out
"""
    assert_left_alone(code, COMPLEX[value])


def test_an_unknown_dtype_may_be_complex() -> None:
    code = """def f(x, y):
    x = np.asarray(x)
    y = np.asarray(y)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] * y[i]
    return out
"""
    assert_left_alone(code, "x, y may be complex (the dtype is not visible here)")
    rng = np.random.default_rng(1)
    z = rng.standard_normal(2000) + 1j * rng.standard_normal(2000)
    w = rng.standard_normal(2000) + 1j * rng.standard_normal(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both discard the imaginary part, and say so
        loop, rewrite = _load(HEADER + code)(z, w), _forced(code)(z, w)
    assert (loop != rewrite).any()  # the array loop uses fused multiply-adds


@pytest.mark.parametrize(
    "value",
    ["x[i] * y[i]", "abs(x[i]) * np.square(y[i])", "x[i] * (1.0 + 2j)", "x[i] * y[i] * z[i]"],
)
def test_real_or_one_sided_complex_products_stay_static(value: str) -> None:
    code = f"""def f(x, y, z):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.complex128)
    out = np.zeros(len(x), dtype=np.complex128)
    for i in range(len(x)):
        out[i] = {value}
    return out
"""
    rng = np.random.default_rng(2)
    args = (rng.standard_normal(500), rng.standard_normal(500), rng.standard_normal(500) + 1j)
    result = assert_equivalent(code, [args, (FLOATS, FLOATS, FLOATS * 1j)])
    assert result.changed


def test_float64_elements_and_arrays_agree_bit_for_bit() -> None:
    """Why the functions the pass maps stay static_safe: on np.float64 elements (what
    `x[i]` of a float64 array is) they give the bits of their array loops, contiguous or
    strided, special values included (unlike `**`, whose array form is sqrt/square)."""
    rng = np.random.default_rng(3)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 5e-324, 1e308, 709.8, -745.2]
    x = np.concatenate([special, rng.standard_normal(1500), rng.uniform(-700.0, 700.0, 1500)])
    strided = np.empty(2 * len(x))
    strided[::2] = x
    funcs: dict[str, Callable[[Any], Any]] = {
        name: getattr(np, name) for name in ("sqrt", "exp", "log", "abs", "tanh", "sin", "expm1")
    }
    funcs["builtin abs"] = abs
    with np.errstate(all="ignore"):
        for name, fn in funcs.items():
            per_element = np.array([fn(v) for v in x])
            for arr in (x, strided[::2]):
                result = np.abs(arr) if fn is abs else fn(arr)
                same = (per_element.view(np.int64) == result.view(np.int64)) | (
                    np.isnan(per_element) & np.isnan(result)
                )
                assert same.all(), (name, x[~same][:3])


def test_guards_state_each_condition_once() -> None:
    """Two loops with the same trip count guard on `n > 0` once, not `n > 0 and n > 0`."""
    code = (
        "def f(a, b, n):\n    a = np.asarray(a, dtype=np.float64)\n"
        "    b = np.asarray(b, dtype=np.float64)\n    out = np.zeros((n, n))\n"
        "    for i in range(n):\n        for j in range(n):\n"
        "            out[i, j] = a[i] * b[j]\n    return out\n"
    )
    result = _rewrite(code)
    assert result.changed and "n > 0 and n > 0" not in result.new_code
    assert "if n > 0" in result.new_code
    a, b = np.arange(3.0), np.arange(4.0)
    assert np.array_equal(_load(result.new_code)(a, b, 3), _load(HEADER + code)(a, b, 3))


# -- 11. reassociated sums and products: never static_safe -------------------------------------

REASSOCIATED = {
    "sum": "s += x[i]",
    "dot": "s += x[i] * y[i]",
    "difference": "s -= x[i]",
    "product": "s *= x[i]",
    "sum of a temporary": "d = x[i] - y[i]\n        s += d * d",
}


@pytest.mark.parametrize("name", sorted(REASSOCIATED))
def test_float64_sums_and_products_are_never_static_safe(name: str) -> None:
    """Every array is a float64 allocation in the function, and still: np.sum/np.dot
    add pairwise or in BLAS blocks, so a sum whose terms cancel differs in every digit."""
    code = f"""def f(data):
    x = np.zeros(len(data))
    x[:] = data
    y = np.ones(len(data))
    s = 1.0
    for i in range(len(x)):
        {REASSOCIATED[name]}
    return s
"""
    assert_left_alone(code, "is reassociated")
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert [o.code for o in found if o.fixable] == ["GO102"]  # offered to validation


def test_the_reassociated_sum_really_differs() -> None:
    """[1e16, 14 x 1.0, -1e16]: the loop gives 0.0, np.sum and np.dot 12.0; on
    linspace(-1, 1, 1001) they differ far beyond rtol 1e-9."""
    total = """def f(data):
    x = np.zeros(len(data))
    x[:] = data
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s
"""
    dot = """def f(data):
    x = np.zeros(len(data))
    x[:] = data
    y = np.ones(len(data))
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s
"""
    cancel = np.array([1e16] + [1.0] * 14 + [-1e16])
    for code in (total, dot):
        assert _load(HEADER + code)(cancel) == 0.0
        assert _forced(code)(cancel) == 12.0
    ramp = np.linspace(-1.0, 1.0, 1001)
    loop, rewritten = _load(HEADER + total)(ramp), _forced(total)(ramp)
    assert not np.isclose(loop, rewritten, rtol=1e-9, atol=0.0)


NEST_SUMS = {
    "column sums": ("out[j] += a[i, j]", "out = np.zeros(m)"),
    "matrix-vector": ("out[i] += a[i, j] * v[j]", "out = np.zeros(n)"),
}


@pytest.mark.parametrize("name", sorted(NEST_SUMS))
def test_partial_sums_in_a_nest_are_never_static_safe(name: str) -> None:
    body, alloc = NEST_SUMS[name]
    code = f"""def f(n, m):
    a = np.ones((n, m))
    v = np.ones(m)
    {alloc}
    for i in range(n):
        for j in range(m):
            {body}
    return out
"""
    assert_left_alone(code, "is reassociated")


def test_a_matrix_product_is_never_static_safe() -> None:
    code = """def f(n):
    a = np.ones((n, n))
    b = np.ones((n, n))
    c = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            for k in range(n):
                c[i, j] += a[i, k] * b[k, j]
    return c
"""
    assert_left_alone(code, "is reassociated")


# -- 12. Python int literals that an integer array's dtype cannot hold -------------------------

NARROW_INTS = {
    "uint8 - 300": ("uint8", "x[i] - 300", [1, 2]),
    "uint8 + (-1)": ("uint8", "x[i] + (-1)", [0, 2]),
    "uint8 + -1": ("uint8", "x[i] + -1", [0, 2]),
    "int8 * 200": ("int8", "x[i] * 200", [1, -1]),
    "int8 + 128": ("int8", "x[i] + 128", [1, -1]),
    "uint8 // 300": ("uint8", "x[i] // 300", [1, 2]),
}


@pytest.mark.parametrize("name", sorted(NARROW_INTS))
def test_out_of_range_int_literals_raise_alike_on_empty_arrays(name: str) -> None:
    """NumPy 2 raises OverflowError for `uint8 array - 300` even when the array is
    empty; the loop over an empty array does nothing. The rewrite must be guarded."""
    dtype, value, values = NARROW_INTS[name]
    code = f"""def f(x):
    x = np.asarray(x, dtype=np.{dtype})
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = {value}
    return out
"""
    empty, full = np.array([], dtype=dtype), np.array(values, dtype=dtype)
    assert_equivalent(code, [(empty,), (full,)])


def test_comparisons_with_any_int_need_no_guard() -> None:
    """NumPy 2 compares a uint8 array with 300 or -1 without raising."""
    code = """def f(x):
    x = np.asarray(x, dtype=np.uint8)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 300:
            out[i] = 1.0
    return out
"""
    result = assert_equivalent(code, [(np.array([], np.uint8),), (np.array([1], np.uint8),)])
    # no emptiness guard; the rank guard (`x.ndim == 1`) is there for a 1-element row
    # `x[i]` of shape (n, 1), tested by the loop but broadcast by np.where (hunt 17)
    assert result.changed and "> 0" not in result.new_code.split("def f", 1)[1]


# -- 13. np.where casts a literal branch to the other branch's dtype ----------------------------

WHERE_LITERALS = {
    "max(uint8, 300)": ("uint8", "out[i] = max(x[i], 300)", [1, 2]),
    "min(int8, -200)": ("int8", "out[i] = min(x[i], -200)", [1, -1]),
    "min(uint8, -1)": ("uint8", "out[i] = min(x[i], -1)", [1, 2]),
    "max(float32, 0.1)": ("float32", "out[i] = max(x[i], 0.1)", [0.0, 1.0]),
    "conditional float32": (
        "float32",
        "if x[i] > 0.5:\n            out[i] = 0.1\n        else:\n            out[i] = x[i]",
        [0.0, 1.0],
    ),
}


@pytest.mark.parametrize("name", sorted(WHERE_LITERALS))
def test_where_with_a_literal_the_array_dtype_cannot_hold_is_not_static(name: str) -> None:
    """`max(x[i], 300)` is 300; `np.where(300 > x, 300, x)` on uint8 is 44 (NumPy 2
    wraps the literal to the array's dtype); 0.1 becomes float32(0.1)."""
    dtype, body, values = WHERE_LITERALS[name]
    code = f"""def f(x):
    x = np.asarray(x, dtype=np.{dtype})
    out = np.zeros(len(x))
    for i in range(len(x)):
        {body}
    return out
"""
    assert_left_alone(code, "np.where casts")
    x = np.array(values, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not np.array_equal(_load(HEADER + code)(x), _forced(code)(x))


@pytest.mark.parametrize(
    "value", ["max(x[i], 0.0)", "min(x[i], 100)", "max(x[i], -1.5)", "min(x[i], 0.25)"]
)
def test_where_with_literals_every_dtype_holds_stays_static(value: str) -> None:
    code = f"""def f(x):
    x = np.asarray(x, dtype=np.float32)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = {value}
    return out
"""
    result = assert_equivalent(code, [(np.array([-2.0, 0.1, 300.0], np.float32),)])
    assert result.changed


def test_where_with_a_float64_branch_takes_any_literal() -> None:
    code = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = min(max(x[i], 0.1), 300)
    return out
"""
    result = assert_equivalent(code, [(np.array([-2.0, 0.2, 1e9]),), (np.array([]),)])
    assert result.changed


# -- operations that raise for some dtype (np.where evaluates both branches; an empty
#    array still raises TypeError / OverflowError where the zero-trip loop does nothing) --

_DTYPE_ERROR_BODIES = {
    "neg_bool": ("np.bool_", "out[i] = -x[i]", [[], [True, False]]),
    "sub_bool": ("np.bool_", "out[i] = x[i] - x[i]", [[], [True]]),
    "floor_complex": ("np.complex128", "out[i] = np.floor(x[i])", [[], [1 + 2j]]),
    "negative_bool": ("np.bool_", "out[i] = np.negative(x[i])", [[], [True]]),
}


def _dtype_kernel(dtype: str, body: str) -> str:
    """A loop over `x` converted to `dtype`, with `body` (indented for the loop) storing
    into a float64 `out`."""
    return f"""
def f(x):
    x = np.asarray(x, dtype={dtype})
    out = np.zeros(len(x))
    for i in range(len(x)):
        {body}
    return out
"""


@pytest.mark.parametrize("name", sorted(_DTYPE_ERROR_BODIES))
def test_dtype_errors_on_an_empty_array_are_guarded(name: str) -> None:
    dtype, body, inputs = _DTYPE_ERROR_BODIES[name]
    code = _dtype_kernel(dtype, body)
    assert_equivalent(code, [(v,) for v in inputs])


_WHERE_BRANCH_ERRORS = {
    # `-x` raises for a bool array although only the first branch is ever taken
    "neg_bool": ("np.bool_", "if x[i]:\n            out[i] = x[i]\n        else:\n"
                 "            out[i] = -x[i]", [[True, True], []]),
    # uint8 elements are never negative: the loop never evaluates `x[i] - 300`
    "uint8_literal": ("np.uint8", "if x[i] < 0:\n            out[i] = x[i] - 300",
                      [[1, 2, 255], []]),
    "bitand_float": ("np.float64", "if x[i] != x[i]:\n            out[i] = x[i] & 1",
                     [[1.0, 2.5], []]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_WHERE_BRANCH_ERRORS))
def test_where_branch_that_raises_for_the_dtype_is_not_static(name: str) -> None:
    """The branch is written for arrays of another dtype (the function converts with a
    dtype here, so the trap reaches the check); the loop never evaluates it."""
    dtype, body, inputs = _WHERE_BRANCH_ERRORS[name]
    code = _dtype_kernel(dtype, body)
    assert_equivalent(code, [(v,) for v in inputs])
    unknown = code.replace(f"x = np.asarray(x, dtype={dtype})", "x = np.asarray(x)")
    result = _rewrite(unknown)
    assert not result.applied, result.new_code
    assert any("both branches" in why for _, why in result.skipped), result.skipped


def test_where_branch_with_provably_safe_dtypes_stays_static() -> None:
    code = """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 0:
            out[i] = x[i]
        else:
            out[i] = -x[i] - 1.5
    return out
"""
    result = assert_equivalent(code, [([],), ([1.0, -2.0, -0.0, np.nan],)])
    assert result.applied
