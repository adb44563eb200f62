"""`legality.FastVisitor` (the passes' read-only visitor) must visit exactly what
`ordered_children` yields, in that order, honour `return False`, and dispatch per class."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest

from greenopt.passes.legality import FastVisitor, ordered_children

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "corpus").glob("*/*.py"))[:20] + [
    ROOT / "greenopt" / "passes" / "legality.py"
]

NODE_TYPES = [t for t in vars(cst).values() if isinstance(t, type) and issubclass(t, cst.CSTNode)]


def _reference_order(root: cst.CSTNode, skip: Callable[[cst.CSTNode], bool]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        if skip(node):
            continue
        stack.extend(reversed(ordered_children(node)))
    return out


def _recorder(skip: Callable[[cst.CSTNode], bool]) -> FastVisitor:
    """A visitor with a `visit_<Node>` method for every libcst node type."""

    def record(self: FastVisitor, node: cst.CSTNode) -> bool:
        self.seen.append(node)  # type: ignore[attr-defined]
        return not skip(node)

    methods = {f"visit_{kind.__name__}": record for kind in NODE_TYPES}
    visitor = type("Recorder", (FastVisitor,), methods)()
    visitor.seen = []  # type: ignore[attr-defined]
    return visitor


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_visit_order_is_ordered_children_order(path: Path) -> None:
    tree = cst.parse_module(path.read_text(encoding="utf-8"))
    visitor = _recorder(lambda n: False)
    visitor.visit(tree)
    assert visitor.seen == _reference_order(tree, lambda n: False)  # type: ignore[attr-defined]


def test_false_skips_children_only() -> None:
    tree = cst.parse_module(
        "def f(a):\n    def g(b):\n        return b + 1\n    return g(a) * [x for x in a]\n"
    )

    def nested(node: cst.CSTNode) -> bool:
        return isinstance(node, (cst.FunctionDef, cst.ListComp)) and node is not tree.body[0]

    visitor = _recorder(nested)
    visitor.visit(tree)
    seen = visitor.seen  # type: ignore[attr-defined]
    assert seen == _reference_order(tree, nested)
    assert any(isinstance(n, cst.FunctionDef) and n.name.value == "g" for n in seen)
    assert not any(isinstance(n, cst.Name) and n.value == "b" for n in seen)
    assert not any(isinstance(n, cst.Name) and n.value == "x" for n in seen)


class _Names(FastVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)


class _NamesNoCalls(_Names):
    def visit_Call(self, node: cst.Call) -> bool:
        return False


def test_dispatch_tables_are_per_class() -> None:
    tree = cst.parse_module("y = f(a) + b\n")
    first, second, third = _Names(), _NamesNoCalls(), _Names()
    first.visit(tree)
    second.visit(tree)
    third.visit(tree)
    assert first.names == third.names == ["y", "f", "a", "b"]
    assert second.names == ["y", "b"]
