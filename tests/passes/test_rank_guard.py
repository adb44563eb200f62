"""The vectorize rank guard: slices only for the ranks the loop's subscripts assume.

A loop reads `a[i]` as an element only if `a` has one dimension; for a 2-D `a` it
reads a row, and `out[:n] = a[:n] + x[:n]` then lines `x` up with the columns
(silently wrong for square arrays). Before the guard `rewrite --static` assumed the
rank of arrays it could not see; now the rewrite checks it, `a.ndim == x.ndim == 1`,
and runs the original loop otherwise. Each trap test fails without the guard.
"""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.vectorize import VectorizePass

from .helpers import outcome, rewrite, same, static_rewrite

HEADER = "import numpy as np\n\n\n"
SQUARE = np.arange(9.0).reshape(3, 3)
ROW = np.array([1.0, 10.0, 100.0])


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "vectorize")


def _check_equal(code: str, new: str, *calls: tuple, name: str = "f") -> None:
    """The original `code` (without HEADER) and the rewrite `new` give the same outcome
    for each argument tuple (arrays copied per run: rewrites may write into them)."""
    for args in calls:
        fresh = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        want = outcome(HEADER + code, *fresh, name=name)
        fresh = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        got = outcome(new, *fresh, name=name)
        assert same(want, got), (args, want, got, new)


# --- traps: silently wrong before the guard --------------------------------------------------

TRAPS = {
    # out has a's rank; x is another parameter: a row of a plus the scalar x[i]
    "zeros_like": """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x)
    out = np.zeros_like(a)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    return out
""",
    # same, through np.zeros(a.shape)
    "zeros_of_shape": """
def f(a, x):
    a = np.asarray(a)
    x = np.asarray(x)
    out = np.zeros(a.shape)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    return out
""",
    # the written array has a parameter's rank, the read one is proven 1-D: rows filled
    "fill_rows": """
def f(a, x):
    a = np.asarray(a)
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(a.shape)
    t = np.zeros(len(x))
    for i in range(len(x)):
        t[i] = x[i] * 2.0
    for i in range(len(x)):
        out[i] = t[i]
    return out
""",
}


@pytest.mark.parametrize("name", sorted(TRAPS))
def test_rows_are_not_broadcast_along_the_columns(name: str) -> None:
    code = TRAPS[name]
    new = _static(code)
    _check_equal(code, new, (SQUARE, ROW), (ROW, ROW), (np.zeros((0, 0)), np.zeros(0)))
    assert ".ndim == " in new, new


class _NoElements(np.ndarray):
    """An array whose elements cannot be read one by one: only slices work."""

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            raise AssertionError("the loop ran")
        return super().__getitem__(key)


def test_the_one_dimensional_case_still_runs_as_slices() -> None:
    code = """
def f(a, x):
    out = np.zeros(a.shape)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    return out
"""
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert "a.ndim == x.ndim == 1" in new, new
    a, x = ROW.view(_NoElements), (ROW * 2).view(_NoElements)
    namespace: dict = {}
    exec(compile(new, "<t>", "exec"), namespace)
    assert same(np.asarray(namespace["f"](a, x)), ROW * 3)
    with pytest.raises(AssertionError, match="the loop ran"):
        exec(compile(HEADER + code, "<t>", "exec"), namespace)
        namespace["f"](a, x)


def test_scatter_into_an_array_of_unknown_rank() -> None:
    """`np.zeros(nbins)` is 2-D when `nbins` is a tuple: `h[idx[i]] += w[i]` adds to
    a row, `np.add.at(h, idx, w)` would add `w` along each row."""
    code = """
def hist(idx, w, nbins):
    h = np.zeros(nbins)
    n = len(idx)
    for i in range(n):
        h[idx[i]] += w[i]
    return h
"""
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert "np.add.at" in new and ".ndim == " in new
    idx = np.array([0, 2, 2])
    _check_equal(code, new, (idx, ROW, 3), (idx, ROW, (3, 3)), name="hist")


def test_a_two_dimensional_nest_checks_two_dimensions() -> None:
    code = """
def f(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b)
    n, m = b.shape
    c = np.zeros_like(a)
    for i in range(n):
        for j in range(m):
            c[i, j] = a[i, j] + b[i, j]
    return c
"""
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert "if a.ndim == 2:" in new and "b.ndim" not in new, new  # `n, m = b.shape`
    cube = np.arange(27.0).reshape(3, 3, 3)
    plane = np.arange(9.0).reshape(3, 3)
    _check_equal(code, new, (cube, plane), (plane, plane))


# --- no guard where the function proves the ranks --------------------------------------------

UNGUARDED = {
    # one class of rank: whatever a's rank, the slices match the loop
    "one_class": """
def f(a):
    a = np.asarray(a, dtype=np.float64)
    out = np.zeros_like(a)
    for i in range(len(a)):
        out[i] = a[i] * 2.0 + a[i]
    return out
""",
    # the written array is allocated 1-D: a row cannot be stored into its element
    "proven_target": """
def f(a, x):
    a = np.asarray(a)
    x = np.asarray(x)
    n = len(x)
    out = np.zeros(n)
    for i in range(n):
        out[i] = a[i] + x[i]
    return out
""",
    # ravel / reshape(-1) make parameters 1-D
    "raveled": """
def f(a, x, y):
    x = np.ravel(x)
    y = np.asarray(y).reshape(-1)
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
""",
    # `np.zeros(n)` with `n` a range bound is 1-D (range raises for anything else)
    "range_bound": """
def f(x):
    x = np.asarray(x, dtype=np.float64)
    n = len(x) // 2
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[2 * i] - x[2 * i + 1]
    return out
""",
}


@pytest.mark.parametrize("name", sorted(UNGUARDED))
def test_proven_ranks_need_no_guard(name: str) -> None:
    new, found = rewrite(VectorizePass(), HEADER + UNGUARDED[name])
    assert "for " not in new and "ndim" not in new, new
    assert all(not o.data.get("rank_guard") for o in found if o.fixable)


def test_a_guarded_rewrite_is_not_rewritten_again() -> None:
    new = _static(TRAPS["zeros_like"])
    module = SourceModule.parse(new, "m.py")
    assert not [o for o in VectorizePass().find(module) if o.fixable]
    assert not [o for o in VectorizePass().find(module) if o.code == "GO190"]
    assert _static_again(new) == new


def _static_again(code: str) -> str:
    return static_rewrite(code, "vectorize")


def test_the_finding_says_why_it_is_guarded() -> None:
    found = VectorizePass().find(SourceModule.parse(HEADER + TRAPS["zeros_like"], "m.py"))
    fix = next(o for o in found if o.fixable)
    assert "a.ndim == x.ndim == 1" in fix.rationale
    assert "original loop" in fix.rationale


REDUCTIONS = {
    # column sums of a 2-D x in the loop; np.sum would add up everything
    "sum": """
def f(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s
""",
    # the loop's row products summed; np.dot of two 2-D arrays is a matrix product
    "dot": """
def f(x, y):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s
""",
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_need_elements_whatever_the_class(name: str) -> None:
    """Reductions are validated rewrites (never static), but a workload that passes 1-D
    arrays must not make them wrong for 2-D ones."""
    code = REDUCTIONS[name]
    new, _ = rewrite(VectorizePass(), HEADER + code)
    _check_equal(code, new, (SQUARE,) if name == "sum" else (SQUARE, SQUARE + 1.0))
    flat = (ROW,) if name == "sum" else (ROW, ROW + 1.0)
    want, got = outcome(HEADER + code, *flat), outcome(new, *flat)
    assert want[0] == got[0] == "returns" and np.isclose(want[1], got[1])
    assert "x.ndim == " in new


def test_a_parameter_rebound_to_another_rank_is_not_its_allocations_class() -> None:
    """`out = np.zeros_like(a); a = a.sum(axis=1)`: out keeps the old rank of a, a has a new one."""
    code = """
def f(a):
    a = np.asarray(a, dtype=np.float64)
    out = np.zeros_like(a)
    a = a.sum(axis=1)
    for i in range(len(a)):
        out[i] = a[i] * 2.0
    return out
"""
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert "out.ndim" in new and "a.ndim" in new, new
    _check_equal(code, new, (SQUARE,))


def test_flattening_after_the_loop_proves_nothing() -> None:
    code = """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    out = np.zeros_like(a)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    x = np.ravel(x)
    return out, x
"""
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert "x.ndim" in new, new


# --- hunt 12 (/work/scratch/hunt12): the exemptions hold only for stored values ----------------

HUNT12 = {
    # S1 (static): a tested column `x[j] > 0` of shape (1,) is fine in the loop, while
    # np.where lines x up with the columns: the condition was applied transposed
    "tested_column": (
        """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n, m = a.shape
    out = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            if x[j] > 0:
                out[i, j] = a[i, j]
    return out
""",
        (SQUARE, np.array([[1.0], [-1.0], [1.0]])),
    ),
    # S2: a 2-D index array adds once per row in the loop, np.add.at once per element
    "scatter_2d_index": (
        """
def f(idx, w):
    h = np.zeros(3)
    for i in range(len(w)):
        h[idx[i]] += 1.0
    return h
""",
        (np.array([[0, 0], [1, 2]]), np.zeros(2)),
    ),
    # S3: the loop index becomes np.arange, lined up with the last axis of a 2-D a
    "index_as_value": (
        """
def f(a):
    out = np.zeros_like(a)
    for i in range(len(a)):
        out[i] = a[i] * i
    return out
""",
        (SQUARE,),
    ),
}


@pytest.mark.parametrize("name", sorted(HUNT12))
def test_hunt12_values_that_are_not_stored_need_the_guard(name: str) -> None:
    code, args = HUNT12[name]
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert new != HEADER + code
    _check_equal(code, new, args)
    assert ".ndim == " in new, new


def test_hunt12_the_static_rewrite_of_a_tested_column_is_guarded() -> None:
    code, args = HUNT12["tested_column"]
    new = _static(code)
    assert "x.ndim == 1" in new, new
    _check_equal(code, new, args)


def test_a_rank_check_that_raises_proves_the_rank() -> None:
    """`if x.ndim != 1: raise ValueError(...)` before the loop: no guard needed (and the
    `.ndim` no longer marks the function rank-generic, which refused the loop)."""
    code = """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError("a must be 1-D")
    if x.ndim != 1:
        raise ValueError("x must be 1-D")
    out = np.zeros_like(a)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    return out
"""
    new, found = rewrite(VectorizePass(), HEADER + code)
    assert "out[:len(x)] = " in new and "for " not in new and ".ndim ==" not in new, new
    _check_equal(code, new, (ROW, ROW))


def test_a_rank_check_of_another_rank_refuses_the_loop() -> None:
    """`if a.ndim != 2: raise` proves rows: `a[i]` is not an element, never vectorised."""
    code = """
def f(a, x):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError("a must be 2-D")
    out = np.zeros_like(a)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    return out
"""
    new, found = rewrite(VectorizePass(), HEADER + code)
    assert new == HEADER + code
    assert any("has 2 dimensions but is indexed with 1" in o.message for o in found)
    _check_equal(code, new, (SQUARE, ROW))


def test_a_rank_check_inside_a_branch_proves_nothing() -> None:
    code = """
def f(a, x, strict):
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if strict:
        if x.ndim != 1:
            raise ValueError("x must be 1-D")
    out = np.zeros_like(a)
    for i in range(len(x)):
        out[i] = a[i] + x[i]
    return out
"""
    new, _ = rewrite(VectorizePass(), HEADER + code)
    assert "a.ndim == x.ndim == 1" in new, new
    _check_equal(code, new, (SQUARE, ROW, False))
