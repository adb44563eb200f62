"""Hunt 8: traps for static loop fusion (GO201) and temporaries chains (GO202)
(/work/scratch/hunt8/README.md). Each trap test fails without its fix.

- an index component's position is its axis only up to the first `...`, `None`/
  `np.newaxis`, or slice of a subscript that is itself subscripted (`a[::-1][i][0]`,
  `a[..., i]`): later components were compared with `a[0, i]` as if on the same axis;
- a function that reads its own frame (`locals()["t"]`, `eval("t")`) reads a chain's
  temporary after `out=` reused its buffer, and a renamed loop variable after fusion.
"""

from __future__ import annotations

import libcst as cst
import numpy as np
import pytest

from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import scan_loop_body
from greenopt.passes.loop_fusion import LoopFusionPass

from .helpers import finding_codes, outcome, same, static_rewrite

HEADER = "import numpy as np\n\n\n"


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "loop-fusion")


def _codes(code: str) -> list[tuple[str, bool]]:
    return finding_codes(LoopFusionPass(), HEADER + code)


# --- axis positions after a shifting index element -----------------------------------------

CHAINED_SLICE = """
def f(x):
    n = len(x)
    a = np.ones((n, n))
    b = np.zeros(n)
    for i in range(n):
        a[::-1][i][0] = x[i] + 0.0 * a[0, i]
    for i in range(n):
        b[i] = a[0, i]
    return b
"""

ELLIPSIS = """
def f(x):
    n = len(x)
    a = np.ones((n, n, n))
    b = np.zeros(n)
    for i in range(n):
        a[..., i] = x[i] + 0.0 * a[0, i, n - 1]
    for i in range(n):
        b[i] = a[0, i, n - 1]
    return b
"""

NEWAXIS = """
def f(x):
    n = len(x)
    a = np.ones((n, n))
    b = np.zeros(n)
    for i in range(n):
        a[None, i] = x[i] + 0.0 * a[n - 1, i]
    for i in range(n):
        b[i] = a[n - 1, i]
    return b
"""

NEWAXIS_NP = NEWAXIS.replace("a[None, i]", "a[np.newaxis, i]")


@pytest.mark.parametrize("code", [CHAINED_SLICE, ELLIPSIS, NEWAXIS, NEWAXIS_NP])
def test_shifted_axes_are_not_fused(code: str) -> None:
    x = np.array([0.5, -1.5, 2.25, 4.0])
    original = outcome(HEADER + code, x)
    assert same(original, outcome(_static(code), x))
    assert "GO201" not in [c for c, _ in _codes(code)]


@pytest.mark.parametrize(
    ("text", "axes"),
    [
        ("a[i][0]", (True, True)),  # integer chains keep their axes: `a[i, 0]`
        ("a[i, 1:][j]", (True, False, False)),  # a slice in the inner subscript shifts
        ("a[1:][i]", (False, False)),
        ("a[..., i]", (False, False)),
        ("a[i, None, j]", (True, False, False)),
        ("a[i, np.newaxis][j]", (True, False, False)),
        ("a[i, j]", (True, True)),
    ],
)
def test_positions_after_a_shift_are_not_axes(text: str, axes: tuple[bool, ...]) -> None:
    body = cst.parse_module(f"b[k] = {text}\n")
    summary = scan_loop_body(body, ImportedNames.of(cst.parse_module("import numpy as np\n")))
    (access,) = summary.accesses_to("a")
    assert tuple(e is not None for e in access.exprs) == axes


# --- frame reads ----------------------------------------------------------------------------

CHAIN_LOCALS = """
def f(x):
    n = len(x)
    a = np.ones(n)
    b = np.ones(n)
    t = a * b
    u = t + a
    return u, {read}
"""


@pytest.mark.parametrize("read", ['locals()["t"]', 'eval("t")', 'vars()["t"]'])
def test_chain_temporary_read_through_the_frame(read: str) -> None:
    code = CHAIN_LOCALS.format(read=read)
    x = np.zeros(3)
    assert same(outcome(HEADER + code, x), outcome(_static(code), x))
    assert _codes(code) == []


def test_chain_without_frame_read_still_static() -> None:
    assert _codes(CHAIN_LOCALS.format(read="a")) == [("GO202", True)]


RENAMED_LOCALS = """
def f(x):
    n = len(x)
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = x[i] * 2.0
    for j in range(n):
        b[j] = a[j] + 1.0
    return a, b, {read}
"""


def test_renamed_loop_variable_read_through_the_frame() -> None:
    code = RENAMED_LOCALS.format(read='locals().get("j", None)')
    x = np.array([1.0, 2.0, 3.0])
    assert same(outcome(HEADER + code, x), outcome(_static(code), x))
    assert _codes(code) == []


def test_renamed_loop_variable_without_frame_read_still_static() -> None:
    assert _codes(RENAMED_LOCALS.format(read="n")) == [("GO201", True)]
