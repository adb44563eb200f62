"""Function definitions of a module with their qualified names and source positions.

Opportunities name their enclosing function by its Python `__qualname__`
("f", "Cls.method", "outer.<locals>.inner"), which is what the validator uses to
find the function again in a child process. Positions are libcst's (1-based lines,
0-based columns).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, PositionProvider

from greenopt.optimizer.cst_nodes import walk_statements
from greenopt.optimizer.positions import ast_statements
from greenopt.optimizer.source import SourceModule


@dataclass(frozen=True)
class FunctionInfo:
    """One `def` of a module.

    `top_level` is True for functions defined directly in the module body (the only
    ones Numba can decorate without changing how they are bound); `in_class` for methods.
    """

    qualname: str
    node: cst.FunctionDef
    top_level: bool
    in_class: bool


def iter_functions(module: cst.Module) -> list[FunctionInfo]:
    """Every function definition of `module` in source order, with its qualified name."""
    found: list[FunctionInfo] = []

    def walk(body: object, prefix: str, kind: str) -> None:
        for stmt in _statements(body):
            kind_of_stmt = type(stmt)
            if kind_of_stmt is cst.FunctionDef:
                qual = f"{prefix}{stmt.name.value}"  # type: ignore[attr-defined]
                found.append(
                    FunctionInfo(
                        qual,
                        stmt,  # type: ignore[arg-type]
                        top_level=kind == "module",
                        in_class=kind == "class",
                    )
                )
                walk(stmt.body, f"{qual}.<locals>.", "function")  # type: ignore[attr-defined]
            elif kind_of_stmt is cst.ClassDef:
                walk(stmt.body, f"{prefix}{stmt.name.value}.", "class")  # type: ignore[attr-defined]
            elif kind_of_stmt in _COMPOUND:
                for child in _compound_bodies(stmt):
                    walk(child, prefix, kind)

    walk(module, "", "module")
    return found


#: compound statements whose bodies `iter_functions` enters (exact types: libcst's node
#: classes are ABCs, whose `isinstance` is slow)
_COMPOUND = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar, cst.Match})


def _statements(body: object) -> Iterator[cst.CSTNode]:
    """The statements of a module, an indented block or a one-line suite."""
    kind = type(body)
    if kind is cst.Module or kind is cst.IndentedBlock or kind is cst.SimpleStatementSuite:
        yield from body.body  # type: ignore[attr-defined]


def _compound_bodies(stmt: cst.CSTNode) -> Iterator[cst.BaseSuite]:
    """Bodies of if/for/while/try/with/match statements (functions may be defined inside them)."""
    if type(stmt) is cst.Match:
        for case in stmt.cases:  # type: ignore[attr-defined]
            yield case.body
        return
    yield stmt.body  # type: ignore[attr-defined]
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        yield orelse.body
        orelse = getattr(orelse, "orelse", None) if type(orelse) is cst.If else None
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        yield final.body


class Positions(Mapping[cst.CSTNode, CodeRange]):
    """Node -> code range for every node of a module, resolved on the first lookup.

    Statements are answered from `ast` (`SourceModule.statement_positions`); anything
    else needs libcst's `PositionProvider`, a pass over the whole module, paid on the
    first such lookup only. The result is cached
    by the module's metadata wrapper, so the passes of one check share it.
    """

    def __init__(self, module: SourceModule) -> None:
        self._module = module
        self._ranges: Mapping[cst.CSTNode, CodeRange] | None = None

    def _resolved(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._ranges is None:
            self._ranges = self._module.metadata().resolve(PositionProvider)
        return self._ranges

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        # statements come from `ast` (`SourceModule.statement_positions`) at no extra cost
        fast = self._module.statement_positions().get(id(node))
        if fast is not None:
            line, col, end_line, end_col = fast
            return CodeRange(CodePosition(line, col), CodePosition(end_line, end_col))
        return self._resolved()[node]

    def __iter__(self) -> Iterator[cst.CSTNode]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())


class DefSites:
    """`def` sites (start of the `def` keyword, end of the function's name) from stdlib `ast`.

    Every function-level pass reports its opportunities at the `def`; asking libcst's
    `PositionProvider` for that costs a pass over the whole module (~0.4 s on a large
    file), while `ast` knows it already. libcst `FunctionDef` nodes are matched to
    `ast` definitions in source order; when the two trees disagree (or `ast` cannot
    parse the text) the libcst positions are used, so the answer is always libcst's.
    """

    def __init__(self, module: SourceModule, fallback: Positions) -> None:
        self._module = module
        self._fallback = fallback
        self._sites: dict[int, tuple[int, int, int, int]] | None = None

    def __call__(self, node: cst.FunctionDef) -> tuple[int, int, int, int]:
        """(line, column, name end line, name end column) of `node`, libcst conventions."""
        if self._sites is None:
            self._sites = _ast_def_sites(self._module)
        site = self._sites.get(id(node))
        if site is not None:
            return site
        start = self._fallback[node].start
        name_end = self._fallback[node.name].end
        return (start.line, start.column, name_end.line, name_end.column)


_DEF_NAME = re.compile(r"(?:async[ \t]+)?def[ \t]+([^\W\d]\w*)")


def _ast_def_sites(module: SourceModule) -> dict[int, tuple[int, int, int, int]]:
    code = module.code[1:] if module.code.startswith("\ufeff") else module.code
    parsed = module.ast_module()
    if parsed is None:
        return {}
    ast_defs = sorted(ast_function_defs(parsed), key=lambda n: (n.lineno, n.col_offset))
    cst_defs = cst_function_defs(module.tree)
    if len(ast_defs) != len(cst_defs):
        return {}
    lines = code.splitlines()
    out: dict[int, tuple[int, int, int, int]] = {}
    for a, c in zip(ast_defs, cst_defs, strict=True):
        if a.name != c.name.value or not 1 <= a.lineno <= len(lines):
            return {}
        text = lines[a.lineno - 1]
        col = len(text.encode("utf-8")[: a.col_offset].decode("utf-8", errors="replace"))
        match = _DEF_NAME.match(text, col)
        if match is None or match.group(1) != a.name:
            continue  # e.g. `def \` continuation: libcst positions answer for this one
        out[id(c)] = (a.lineno, col, a.lineno, match.end(1))
    return out


def cst_function_defs(tree: cst.CSTNode) -> list[cst.FunctionDef]:
    """Every `FunctionDef` under `tree` (itself included), in pre-order (= source order).

    What `[n for n in walk(tree) if isinstance(n, cst.FunctionDef)]` returns, but only
    statements are entered: a `def` is a statement, so expressions, decorators and
    parameters (most of the nodes of a module) are never walked into.
    """
    return [n for n in walk_statements(tree) if type(n) is cst.FunctionDef]


def ast_function_defs(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function definition under `tree` (itself included), entering statements only
    (in no particular order)."""
    return [
        n  # type: ignore[misc]
        for n in ast_statements(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def positions(module: SourceModule) -> Positions:
    """Node -> code range for every node of `module.tree` (resolved on first lookup, once
    per SourceModule)."""
    return Positions(module)


def function_by_qualname(module: cst.Module, qualname: str) -> FunctionInfo | None:
    """The function called `qualname` in `module`, or None."""
    for info in iter_functions(module):
        if info.qualname == qualname:
            return info
    return None
