"""Hunt 10: traps for static loop fusion (GO201) of nested loops over 2-D arrays
(/work/scratch/hunt10/README_fusion.md). Each trap test marked "fix" fails without it.

- fix: a variable bound by an inner `for j in range(...)` loop is not private to an
  iteration of the outer loop when it is read after that inner loop (`b[i] = j`) or
  after the loops (`return j`): an inner range that is empty (`range(i)` at `i == 0`)
  leaves the value of the *other* loop's inner loop in the fused body;
- already refused: row views (`r = a[i]`; `r[j] = ...`) read at the next row, transposed
  reads (`a[j, i]`), shifted inner reads (`a[i, j + 1]`), loops inside `try` that may
  raise (`x[i, j] * 10**400`), inner loops with `else`; and the legal nested fusions
  (inner loops fused at the junction) stay static.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.passes.loop_fusion import LoopFusionPass

from .helpers import finding_codes, outcome, same, static_rewrite

HEADER = "import numpy as np\n\n\n"


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "loop-fusion")


def _codes(code: str) -> list[tuple[str, bool]]:
    return finding_codes(LoopFusionPass(), HEADER + code)


def _assert_unchanged_results(code: str, *inputs: tuple[Any, ...]) -> None:
    new = _static(code)
    for args in inputs:
        assert same(outcome(HEADER + code, *args), outcome(new, *args)), args


# --- stale inner loop variables (fix) --------------------------------------------------------

STALE_IN_BODY = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        for j in range({first}):
            a[i] += 1.0
    for i in range(n):
        for j in range(i):
            a[i] += 2.0
        b[i] = j
    return a, b
"""

STALE_AFTER_LOOPS = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        for j in range(i + 1):
            a[i] += 1.0
    for i in range(n):
        for j in range(n - 1 - i):
            b[i] += 2.0
    return a, b, j
"""

STALE_NESTED_AFTER_LOOPS = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        for k in range(i + 1):
            t = 1.0 * k
            a[i] += t
    for i in range(n):
        for k in range(n - 1 - i):
            t = 2.0 * k
            b[i] += t
    return a, b, t
"""


@pytest.mark.parametrize(
    "code",
    [
        STALE_IN_BODY.format(first="i"),  # UnboundLocalError at i == 0 once fused
        STALE_IN_BODY.format(first="i + 1"),  # b[0] silently 0.0 instead of n - 1
        STALE_AFTER_LOOPS,  # the final j comes from the first loop's last row
        STALE_NESTED_AFTER_LOOPS,  # the same for a scalar bound inside the inner loop
    ],
    ids=["unbound", "stale-value", "after-loops", "nested-after-loops"],
)
def test_stale_inner_variable_is_not_private(code: str) -> None:
    _assert_unchanged_results(code, (np.arange(4.0),), (np.arange(1.0),), (np.zeros(0),))
    assert _codes(code) == []


PRIVATE_INNER = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        for j in range(i):
            a[i] += 1.0
        t = a[i] * 2.0
        b[i] = t
    for i in range(n):
        for j in range(i):
            b[i] += 2.0
        t = b[i] + 1.0
        a[i] += t
    return a, b, t
"""


def test_private_inner_and_top_level_variables_still_fuse() -> None:
    # `j` is not read after its inner loops, `t` is bound at the top level of both
    # bodies: the fused loop ends with the same values, statically
    assert _codes(PRIVATE_INNER) == [("GO201", True)]
    _assert_unchanged_results(PRIVATE_INNER, (np.arange(4.0),), (np.zeros(0),))


# --- nested loops over 2-D arrays (already refused or correct) --------------------------------

NESTED = """
def f(x, y):
    n, m = x.shape
    a = np.zeros(({shape}))
    b = np.zeros((n, m))
    for i in range({outer}):
{first}
    for i in range({outer}):
{second}
    return a, b
"""


def _nested(first: str, second: str, shape: str = "n, m", outer: str = "n") -> str:
    def indent(text: str) -> str:
        return "\n".join("        " + line for line in text.strip("\n").split("\n"))

    return NESTED.format(shape=shape, outer=outer, first=indent(first), second=indent(second))


MATRICES = (
    (np.arange(12.0).reshape(3, 4) - 5.0, np.ones((3, 4))),
    (np.arange(9.0).reshape(3, 3), np.arange(9.0).reshape(3, 3)),
    (np.zeros((0, 2)), np.zeros((0, 2))),
    (np.arange(6, dtype=np.int64).reshape(2, 3), np.ones((2, 3))),
)

REFUSED = {
    # a row view written through `r`, read at the next row by the second loop
    "row-view": _nested(
        "r = a[i]\nfor j in range(m):\n    r[j] = x[i, j] + 1.0",
        "for j in range(m):\n    b[i, j] = a[i + 1, j]",
        outer="n - 1",
    ),
    # the first loop writes the next row, the second reads it through a row view
    "row-view-second": _nested(
        "for j in range(m):\n    a[i + 1, j] = x[i, j] + 1.0",
        "r = a[i]\nfor j in range(m):\n    b[i, j] = r[j]",
        outer="n - 1",
    ),
    # transposed read: row i of the second loop reads column i of the first
    "transposed": _nested(
        "for j in range(n):\n    a[i, j] = x[i, 0] + j",
        "for j in range(n):\n    b[i, j % m] = a[j, i]",
        shape="n, n",
    ),
    # an inner loop with `else`
    "inner-else": _nested(
        "for j in range(m):\n    a[i, j] = x[i, j]\nelse:\n    a[i, 0] = 5.0",
        "for j in range(m):\n    b[i, j] = a[i, j]",
    ),
    # the whole row read by a method
    "row-sum": _nested(
        "for j in range(m):\n    a[i, j] = x[i, j] + 1.0",
        "for j in range(m):\n    b[i, j] = a[i].sum()",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_nested_traps_are_refused(name: str) -> None:
    code = REFUSED[name]
    _assert_unchanged_results(code, *MATRICES)
    assert _codes(code) == []


HUGE_IN_TRY = """
def f(x, y):
    n, m = x.shape
    a = np.zeros((n, m))
    b = np.zeros((n, m))
    try:
        for i in range(n):
            for j in range(m):
                a[i, j] = x[i, j] * 10**400
        for i in range(n):
            for j in range(m):
                b[i, j] = 1.0
    except OverflowError:
        return b
    return a, b
"""


def test_overflowing_loop_inside_try_is_not_fused() -> None:
    # `x[i, j] * 10**400` raises OverflowError on floats: the handler returns `b`, which
    # the second loop would have partly filled once fused
    _assert_unchanged_results(HUGE_IN_TRY, *MATRICES)
    assert _codes(HUGE_IN_TRY) == []


def test_inner_loops_fuse_only_at_equal_indices() -> None:
    # the outer loops fuse (row i only); the inner ones must not (`a[i, m - 1 - j]` is
    # written later in the inner loop)
    code = _nested(
        "for j in range(m):\n    a[i, j] = x[i, j] + 1.0",
        "for j in range(m):\n    b[i, j] = a[i, m - 1 - j]",
    )
    new = _static(code)
    assert new.count("for j in range(m)") == 2
    _assert_unchanged_results(code, *MATRICES)


def test_legal_nest_fuses_inner_loops_too() -> None:
    code = _nested(
        "for j in range(m):\n    a[i, j] = x[i, j] * 2.0",
        "for j in range(m):\n    b[i, j] = a[i, j] + y[i, j]",
    )
    assert _codes(code) == [("GO201", True)]
    new = _static(code)
    assert new.count("for i in range(n)") == 1 and new.count("for j in range(m)") == 1
    _assert_unchanged_results(code, *MATRICES)
