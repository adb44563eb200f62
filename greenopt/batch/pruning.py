"""Candidate-only module text: what the libcst passes see after screening.

`prune_to_candidates` blanks every line that is not needed to analyse the
candidate functions, keeping line numbers (and columns) identical to the
original file, so the positions the passes report are the original positions.
Kept: module-level imports (and `if`/`try` blocks holding imports), module-level
statements that contain loops, candidate functions (with their decorators and
everything nested in them), and the header lines of the classes that enclose a
kept method. Everything else becomes an empty line, which libcst parses in a
fraction of the time of the full module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from greenopt.batch.screening import FunctionSketch, start_line
from greenopt.passes.function_defs import ast_function_defs

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_IMPORTS = (ast.Import, ast.ImportFrom)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _span(node: ast.stmt) -> tuple[int, int]:
    return start_line(node), node.end_lineno or node.lineno


def _has_loop_outside_functions(node: ast.AST) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, _LOOPS):
            return True
        stack.extend(c for c in ast.iter_child_nodes(n) if not isinstance(c, (*_FUNCS, ast.Lambda)))
    return False


def _contains(node: ast.AST, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(n, kinds) for n in ast.walk(node))


class _Keeper:
    """Collects the line spans to keep for one module (used once)."""

    def __init__(self, candidate_lines: set[int]) -> None:
        self.candidate_lines = candidate_lines  # `def` lines of candidate functions
        self.spans: list[tuple[int, int]] = []
        self.needed = False  # True once a candidate function or a module-level loop is kept

    def _def_is_needed(self, node: ast.AST) -> bool:
        return any(n.lineno in self.candidate_lines for n in ast_function_defs(node))

    def module(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            if isinstance(stmt, _IMPORTS):
                self.spans.append(_span(stmt))
            elif isinstance(stmt, _FUNCS):
                if self._def_is_needed(stmt):
                    self.spans.append(_span(stmt))
                    self.needed = True
            elif isinstance(stmt, ast.ClassDef):
                self.needed |= self.klass(stmt)
            elif self._def_is_needed(stmt) or _has_loop_outside_functions(stmt):
                self.spans.append(_span(stmt))
                self.needed = True
            elif (
                isinstance(stmt, (ast.If, ast.Try))
                and _contains(stmt, _IMPORTS)
                and not _contains(stmt, (*_FUNCS, ast.ClassDef))
            ):
                self.spans.append(_span(stmt))

    def klass(self, node: ast.ClassDef) -> bool:
        """Keep the header and the needed members of a class; False if nothing is needed."""
        members: list[tuple[int, int]] = []
        nested: list[ast.ClassDef] = []
        for stmt in node.body:
            if isinstance(stmt, ast.ClassDef):
                nested.append(stmt)
            elif self._def_is_needed(stmt):
                members.append(_span(stmt))
        saved = len(self.spans)
        kept_nested = [self.klass(c) for c in nested]
        if not members and not any(kept_nested):
            del self.spans[saved:]
            return False
        header_end = start_line(node.body[0]) - 1
        first = start_line(node)
        if header_end < first:  # body on the header line: keep the whole class
            del self.spans[saved:]
            self.spans.append(_span(node))
            return True
        self.spans.append((first, header_end))
        self.spans.extend(members)
        return True


def prune_to_candidates(
    source: str, tree: ast.Module, candidates: Iterable[FunctionSketch]
) -> str | None:
    """Source with only the lines needed for `candidates`; None when nothing is needed.

    Line numbers and columns of every kept line equal those of `source`.
    """
    keeper = _Keeper({f.line for f in candidates})
    keeper.module(tree)
    if not keeper.needed:
        return None
    lines = source_lines(source)
    keep = bytearray(len(lines) + 2)
    for first, last in keeper.spans:
        for i in range(first, min(last, len(lines)) + 1):
            keep[i] = 1
    out = [line if keep[i] else _blank(line) for i, line in enumerate(lines, start=1)]
    return "".join(out)


def source_lines(source: str) -> list[str]:
    """Lines with their endings, split as Python numbers them (only CR, LF and CRLF end a line)."""
    return _LINE.findall(source)


def _blank(line: str) -> str:
    """An empty line with the same line ending (so line numbering is unchanged)."""
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""
