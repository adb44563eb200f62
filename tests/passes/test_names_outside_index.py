"""`names_outside` (indexed once per function) answers as the plain walk does."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from greenopt.passes.legality import _names_outside_slow, names_outside

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "corpus").glob("*/*.py")) + sorted((ROOT / "examples").glob("*.py"))

TRICKY = """
def f(a, b, *args, k=1, **kw):
    for i in range(3):
        for j in range(i):
            a[i] = b[j] + i
        else:
            i = j
        x = i
    for a.x in b:
        y = a.x
    while x:
        for i in range(2):
            z = [i for i in range(i)]
    def g(q):
        for w in q:
            return w + k
    return x + y
"""


def _statements(node: cst.CSTNode) -> list[cst.BaseStatement]:
    found: list[cst.BaseStatement] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if isinstance(n, cst.BaseStatement):
                found.append(n)
            return True

    node.visit(Collect())
    return found


def _functions(module: cst.Module) -> list[cst.FunctionDef]:
    return [s for s in _statements(module) if isinstance(s, cst.FunctionDef)]


@pytest.mark.parametrize(
    "code",
    [TRICKY, *(p.read_text() for p in SOURCES)],
    ids=["tricky", *(p.stem for p in SOURCES)],
)
def test_indexed_answers_equal_the_walk(code: str) -> None:
    module = cst.parse_module(code)
    for func in _functions(module):
        inside = [s for s in _statements(func.body)]
        cases: list[list[cst.CSTNode]] = [[], [func], [func.body]]
        cases += [[s] for s in inside]
        cases += [[a, b] for a, b in zip(inside, inside[1:], strict=False)]
        cases += [[s, s] for s in inside[:3]]
        cases += [[inside[0], s] for s in inside[1:]] if inside else []
        for excluded in cases:
            assert names_outside(func, excluded) == _names_outside_slow(func, excluded)
