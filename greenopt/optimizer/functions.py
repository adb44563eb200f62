"""Functions of a module by qualified name: their source text and loop counts.

Qualified names follow Python's `__qualname__` ("f", "Cls.method",
"outer.<locals>.inner"), the same names `Site.function` and the tracer use, so a
traced function, a pass's opportunity and a function's source can be matched.
"""

from __future__ import annotations

import ast

import libcst as cst

from greenopt.optimizer.source import SourceModule


class _Collector(cst.CSTVisitor):
    """Collects every function definition with its qualified name."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.functions: dict[str, cst.FunctionDef] = {}

    def _prefix(self) -> str:
        return ".".join(self.stack)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        qual = f"{self._prefix()}.{name}" if self.stack else name
        self.functions.setdefault(qual, node)
        self.stack.extend([name, "<locals>"])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        del self.stack[-2:]


def function_nodes(module: SourceModule) -> dict[str, cst.FunctionDef]:
    """Every function of `module` (nested ones too) by qualified name, in source order."""
    collector = _Collector()
    module.tree.visit(collector)
    return collector.functions


def function_sources(module: SourceModule) -> dict[str, str]:
    """Source text of every function (decorators included) by qualified name."""
    return {name: module.tree.code_for_node(node) for name, node in function_nodes(module).items()}


def function_source(module: SourceModule, qualname: str) -> str | None:
    """Source text of one function, or None when the module has no such function."""
    node = function_nodes(module).get(qualname)
    return module.tree.code_for_node(node) if node is not None else None


def count_loops(code: str) -> int:
    """Number of `for`/`while` loops and comprehensions in a piece of source."""
    try:
        tree = ast.parse(_dedent(code))
    except SyntaxError:
        return 0
    return sum(
        isinstance(n, (ast.For, ast.While, ast.AsyncFor, ast.comprehension)) for n in ast.walk(tree)
    )


def _dedent(code: str) -> str:
    import textwrap

    return textwrap.dedent(code)
