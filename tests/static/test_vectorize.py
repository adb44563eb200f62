"""The vectorize pass: rewrites run on random inputs give the original's results; traps stay.

Property tests execute the original and the rewritten module (code the tests wrote)
on hypothesis-generated arrays and compare with rtol 1e-9 (exact for integers),
NaN-aware, including arrays mutated in place.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from greenopt.optimizer.source import SourceModule
from greenopt.passes.vectorize import VectorizePass

from . import kernels as K
from .loops import loops_left

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def vectorized(code: str, static_only: bool = False) -> tuple[str, list]:
    """Apply every fixable vectorize opportunity (or only static_safe ones)."""
    module = SourceModule.parse(code, "mod.py")
    p = VectorizePass()
    found = p.find(module)
    chosen = [o for o in found if o.fixable and (o.static_safe or not static_only)]
    return p.apply(module, chosen).code, found


def load(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "kernel_under_test"}
    exec(compile(code, "<kernel>", "exec"), namespace)
    return namespace


@functools.cache
def pair(code: str, name: str, expect_rewrite: bool = True):
    new, found = vectorized(code)
    if expect_rewrite:
        assert not loops_left(new), f"expected a rewrite:\n{new}\n{[o.message for o in found]}"
    return load(code)[name], load(new)[name], new


def close_sum(a: Any, b: Any, magnitude: Any) -> None:
    """Reassociated sums: the error bound scales with the sum of |terms| (`magnitude`),
    not with the (possibly cancelled) result."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    assert a_arr.shape == b_arr.shape
    tol = 1e-9 * (np.asarray(magnitude) + 1e-300)
    assert np.all(np.abs(a_arr - b_arr) <= tol)


def same(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
        return
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    assert a_arr.shape == b_arr.shape
    if a_arr.dtype.kind in "iub":
        assert np.array_equal(a_arr, b_arr)
    else:
        assert np.allclose(a_arr, b_arr, rtol=1e-9, atol=0.0, equal_nan=True)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
anyfloat = st.floats(allow_nan=True, allow_infinity=True, width=64)


def vec(elements=finite, min_size=0, max_size=40):
    return hnp.arrays(np.float64, st.integers(min_size, max_size), elements=elements)


@PROPERTY
@given(a=finite, x=vec(anyfloat))
def test_saxpy_equal_even_when_both_arrays_are_one(a: float, x: np.ndarray) -> None:
    orig, new, _ = pair(K.SAXPY, "saxpy")
    with np.errstate(all="ignore"):
        same(orig(a, x, x.copy()), new(a, x, x.copy()))
        same(orig(a, x, x), new(a, x, x))  # saxpy(a, x, x): one array passed twice


@PROPERTY
@given(u=vec(anyfloat))
def test_stencil(u: np.ndarray) -> None:
    orig, new, code = pair(K.STENCIL, "smooth")
    with np.errstate(all="ignore"):
        same(orig(u.copy()), new(u.copy()))


@PROPERTY
@given(x=vec(min_size=0))
def test_strided(x: np.ndarray) -> None:
    orig, new, _ = pair(K.STRIDED, "pairs")
    same(orig(x), new(x))


@PROPERTY
@given(x=vec(), data=st.data())
def test_float_dot_within_rtol(x: np.ndarray, data: st.DataObject) -> None:
    y = data.draw(hnp.arrays(np.float64, len(x), elements=st.floats(0.5, 2.0)))
    x = np.abs(x)  # same-sign terms: the reassociated sum stays within 1e-9 relative
    orig, new, _ = pair(K.DOT, "dot")
    same(orig(x, y), new(x, y))


@PROPERTY
@given(x=hnp.arrays(np.int64, st.integers(0, 30), elements=st.integers(-(2**62), 2**62)))
def test_int64_sum_is_exact_even_when_it_overflows(x: np.ndarray) -> None:
    orig, new, _ = pair(K.INT_SUM, "total")
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same(orig(x), new(x))


@PROPERTY
@given(x=vec(anyfloat))
def test_max_reduction_with_nan_and_inf(x: np.ndarray) -> None:
    orig, new, _ = pair(K.PEAK, "peak")
    same(orig(x), new(x))


@PROPERTY
@given(x=vec(anyfloat))
def test_min_reduction_written_as_if(x: np.ndarray) -> None:
    orig, new, _ = pair(K.PEAK_IF, "low")
    same(orig(x), new(x))


@PROPERTY
@given(x=vec(anyfloat), lo=anyfloat, hi=anyfloat)
def test_builtin_min_max_keep_nan_semantics(x: np.ndarray, lo: float, hi: float) -> None:
    orig, new, _ = pair(K.CLIP, "clip")
    same(orig(x, lo, hi), new(x, lo, hi))


@PROPERTY
@given(x=vec(anyfloat))
def test_where_with_and(x: np.ndarray) -> None:
    orig, new, code = pair(K.WHERE, "leaky")
    assert ".where(" in code
    with np.errstate(all="ignore"):
        same(orig(x), new(x))


@PROPERTY
@given(x=vec(anyfloat), t=finite)
def test_where_without_else(x: np.ndarray, t: float) -> None:
    orig, new, _ = pair(K.WHERE_NO_ELSE, "floor_at")
    same(orig(x, t), new(x, t))


@PROPERTY
@given(
    idx=hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(-5, 4)),
    data=st.data(),
)
def test_scatter_with_repeated_and_negative_indices(idx: np.ndarray, data: st.DataObject) -> None:
    w = data.draw(hnp.arrays(np.float64, len(idx), elements=finite))
    orig, new, code = pair(K.SCATTER, "hist")
    assert ".add.at(" in code
    same(orig(idx, w, 5), new(idx, w, 5))


@PROPERTY
@given(idx=hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(0, 3)))
def test_count_scatter(idx: np.ndarray) -> None:
    orig, new, _ = pair(K.COUNT, "counts")
    same(orig(idx, 4), new(idx, 4))


@PROPERTY
@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6)), data=st.data())
def test_nested_2d(shape: tuple[int, int], data: st.DataObject) -> None:
    a = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    b = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    orig, new, _ = pair(K.NESTED, "axpy2d")
    same(orig(a, b), new(a, b))


@PROPERTY
@given(x=vec(max_size=8), y=vec(max_size=8))
def test_outer_product_broadcasts(x: np.ndarray, y: np.ndarray) -> None:
    orig, new, code = pair(K.OUTER, "outer")
    assert "None" in code
    same(orig(x, y), new(x, y))


@PROPERTY
@given(shape=st.tuples(st.integers(0, 7), st.integers(0, 7)), data=st.data())
def test_2d_stencil(shape: tuple[int, int], data: st.DataObject) -> None:
    u = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    orig, new, _ = pair(K.LAPLACE, "laplace")
    same(orig(u), new(u))


@PROPERTY
@given(x=vec(), data=st.data())
def test_temporary_in_reduction(x: np.ndarray, data: st.DataObject) -> None:
    y = data.draw(hnp.arrays(np.float64, len(x), elements=finite))
    orig, new, _ = pair(K.TEMP, "sqdist")
    same(orig(x, y), new(x, y))


@PROPERTY
@given(x=vec(min_size=1))
def test_scan_is_exact(x: np.ndarray) -> None:
    orig, new, code = pair(K.SCAN, "running")
    assert "cumsum" in code
    a, b = orig(x), new(x)
    assert np.array_equal(a, b)  # a sequential cumsum adds in the loop's order


@PROPERTY
@given(n=st.integers(-3, 30), dx=finite)
def test_loop_index_as_value(n: int, dx: float) -> None:
    orig, new, _ = pair(K.INDEX_VALUE, "ramp")
    same(orig(max(n, 0), dx), new(max(n, 0), dx))


@PROPERTY
@given(x=vec(min_size=1), n=st.integers(-5, 40))
def test_parameter_bound_may_be_negative_or_short(x: np.ndarray, n: int) -> None:
    orig, new, code = pair(K.PARAM_BOUND, "head")
    assert "if n > 0:" in code  # an empty loop must stay a no-op: x[:-2] is not empty
    n = min(n, len(x))  # the loop itself raises IndexError beyond len(x)
    same(orig(x, n), new(x, n))


@pytest.mark.parametrize("name", sorted(K.TRAPS))
def test_trap_stays_unchanged(name: str) -> None:
    code = K.HEADER + K.TRAPS[name]
    new, found = vectorized(code)
    assert new == code
    notes = [o for o in found if o.code == "GO190"]
    assert notes and all(not o.fixable for o in notes)
    assert all(o.data["reason"] for o in notes)


def test_reductions_are_never_static_safe() -> None:
    _, found = vectorized(K.DOT)
    (opp,) = [o for o in found if o.code == "GO102"]
    assert opp.fixable and not opp.static_safe
    assert "dtype" in opp.rationale
    _, found = vectorized(K.DOT_LOCAL)
    (opp,) = [o for o in found if o.code == "GO102"]
    # float64 allocations inside the function, still reassociated (cancellation)
    assert opp.fixable and not opp.static_safe
    assert "reassociated" in opp.rationale


def test_int32_sum_is_not_static_and_the_difference_is_real() -> None:
    """Why int sums are not static_safe: an int32 accumulator wraps, np.sum does not."""
    x = np.full(3, 2**30, dtype=np.int32)
    orig, new, _ = pair(K.INT_SUM, "total")
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        assert orig(x) != new(x)
    assert vectorized(K.INT_SUM, static_only=True)[0] == K.INT_SUM


def test_comments_and_formatting_outside_the_loop_survive() -> None:
    code = (
        "import numpy as np  # numeric\n\n\n"
        "def f(x):   # odd spacing kept\n"
        "    out = np.empty_like(x)\n"
        "    # scale every element\n"
        "    for i in range(len(x)):  # hot loop\n"
        "        # body comment\n"
        "        out[i] = 2.0 * x[i]\n"
        "    return out   # done\n"
    )
    new, _ = vectorized(code)
    assert new == (
        "import numpy as np  # numeric\n\n\n"
        "def f(x):   # odd spacing kept\n"
        "    out = np.empty_like(x)\n"
        "    # scale every element\n"
        "    # hot loop\n"
        "    # body comment\n"
        "    out[:len(x)] = 2.0 * x\n"
        "    return out   # done\n"
    )


def test_second_run_changes_nothing_and_import_is_added_once() -> None:
    code = (
        '"""Module docstring."""\n\n\n'
        "def f(x, out):\n    for i in range(len(x)):\n        out[i] = x[i]\n\n\n"
        "def g(x):\n    y = x.copy()\n    for i in range(len(x)):\n        y[i] = 3 * x[i]\n"
        "    for i in range(len(x)):\n        y[i] = y[i] + 1\n    return y\n"
    )
    once, _ = vectorized(code)
    assert once.count("import numpy") == 0  # no numpy function was needed
    with_np = code.replace("y[i] = 3 * x[i]", "y[i] = abs(x[i])")
    once, _ = vectorized(with_np)
    assert once.count("import numpy as np") == 1
    assert once.startswith('"""Module docstring."""\n\nimport numpy as np\n')
    twice, found = vectorized(once)
    assert twice == once
    assert not [o for o in found if o.fixable]


def test_existing_alias_is_respected() -> None:
    code = "import numpy as xp\n\n\ndef f(x):\n    y = x.copy()\n    for i in range(len(x)):\n        y[i] = abs(x[i])\n    return y\n"
    new, _ = vectorized(code)
    assert "xp.abs(x)" in new and "import numpy as np" not in new


def test_suppression_is_not_the_pass_job_but_notes_explain() -> None:
    _, found = vectorized(K.HEADER + K.TRAPS["print"])
    assert "I/O" in found[0].message


@PROPERTY
@given(shape=st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 5)), data=st.data())
def test_3d_nest(shape: tuple[int, int, int], data: st.DataObject) -> None:
    u = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    orig, new, code = pair(K.CUBE, "cube")
    # every loop is guarded: `u - u` raises TypeError for a bool `u` even when empty
    assert "if p > 0 and q > 0 and r > 1:" in code
    same(orig(u), new(u))


@PROPERTY
@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6)), data=st.data())
def test_nested_reduction(shape: tuple[int, int], data: st.DataObject) -> None:
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e3, 1e3)))
    orig, new, _ = pair(K.NEST_SUM, "energy")
    same(orig(a), new(a))


@PROPERTY
@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6)), data=st.data())
def test_inner_loop_of_a_recurrence_is_vectorised_alone(
    shape: tuple[int, int], data: st.DataObject
) -> None:
    u = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    new_code, found = vectorized(K.INNER_ONLY)
    assert [o.code for o in found] == ["GO190", "GO104"]  # outer left alone, inner rewritten
    assert "for i in range(1, n):" in new_code and "for j" not in new_code
    orig, new = load(K.INNER_ONLY)["sweep"], load(new_code)["sweep"]
    same(orig(u.copy()), new(u.copy()))


@PROPERTY
@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6)), data=st.data())
def test_partial_sums_over_an_inner_or_outer_index(
    shape: tuple[int, int], data: st.DataObject
) -> None:
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e3, 1e3)))
    x = data.draw(hnp.arrays(np.float64, shape[1], elements=st.floats(-1e3, 1e3)))
    orig, new, code = pair(K.MATVEC, "matvec")
    assert "y[:n] += np.dot(A[:n, :m], x[:m])" in code
    close_sum(orig(a, x), new(a, x), np.abs(a) @ np.abs(x))
    orig, new, code = pair(K.COLSUM, "colsum")
    assert "-= np.sum(a[:n, :m], axis=0)" in code
    close_sum(orig(a), new(a), 1.0 + np.abs(a).sum(axis=0))


@PROPERTY
@given(dims=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)), data=st.data())
def test_matrix_products_become_dot(dims: tuple[int, int, int], data: st.DataObject) -> None:
    n, p, m = dims
    small = st.floats(-1e3, 1e3)
    a = data.draw(hnp.arrays(np.float64, (n, p), elements=small))
    b = data.draw(hnp.arrays(np.float64, (p, m), elements=small))
    orig, new, code = pair(K.MATMUL, "matmul")
    assert "C[:n, :m] += np.dot(A[:n, :p], B[:p, :m])" in code
    close_sum(orig(a, b), new(a, b), np.abs(a) @ np.abs(b))
    x = data.draw(hnp.arrays(np.float64, n, elements=small))
    orig, new, code = pair(K.VECMAT, "vecmat")
    assert "np.dot(x[:n], A[:n, :m])" in code
    close_sum(orig(x, a), new(x, a), np.abs(x) @ np.abs(a))


@PROPERTY
@given(x=vec(anyfloat, max_size=20), data=st.data())
def test_truthiness_of_a_bare_mask(x: np.ndarray, data: st.DataObject) -> None:
    mask = data.draw(hnp.arrays(np.int64, len(x), elements=st.integers(-2, 2)))
    orig, new, code = pair(K.MASKED, "masked")
    assert "np.where(mask[:len(x)], x, out[:len(x)])" in code
    same(orig(x, mask), new(x, mask))
    # `not mask[i]` would become `~mask`, bitwise on integers: left alone
    assert vectorized(K.NOT_INT_MASK)[0] == K.NOT_INT_MASK
