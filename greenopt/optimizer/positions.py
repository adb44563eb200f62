"""Positions of statements from the stdlib `ast`, matched to libcst nodes.

libcst's `PositionProvider` regenerates the whole module's code to count characters
(a third of a second on 1,000 lines); `ast` already knows every statement's line and
column. Statements appear in the same (source) order in both trees, so the k-th libcst
statement is the k-th `ast` statement, checked kind by kind. Columns are converted from
UTF-8 byte offsets (ast) to characters (libcst, SARIF).
"""

from __future__ import annotations

import ast
import warnings

import libcst as cst

#: (line, col, end_line, end_col): lines 1-based, columns 0-based characters
Position = tuple[int, int, int, int]


def _char_col(lines: list[str], line: int, byte_col: int) -> int:
    if not 1 <= line <= len(lines):
        return byte_col
    text = lines[line - 1]
    if text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


#: libcst statement type -> the `ast` statement types it corresponds to
_AST_KINDS: dict[type, tuple[type, ...]] = {
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.If: (ast.If,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    cst.TryStar: (ast.TryStar,),
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.Match: (ast.Match,),
    cst.Assign: (ast.Assign,),
    cst.AugAssign: (ast.AugAssign,),
    cst.AnnAssign: (ast.AnnAssign,),
    cst.Expr: (ast.Expr,),
    cst.Return: (ast.Return,),
    cst.Pass: (ast.Pass,),
    cst.Break: (ast.Break,),
    cst.Continue: (ast.Continue,),
    cst.Raise: (ast.Raise,),
    cst.Global: (ast.Global,),
    cst.Nonlocal: (ast.Nonlocal,),
    cst.Import: (ast.Import,),
    cst.ImportFrom: (ast.ImportFrom,),
    cst.Assert: (ast.Assert,),
    cst.Del: (ast.Delete,),
}


def parse_ast(code: str) -> ast.Module | None:
    """`ast.parse(code)` without warnings; None when `ast` refuses the text."""
    if code.startswith("\ufeff"):
        code = code[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def statement_ranges(tree: cst.Module, code: str, parsed: ast.Module | None) -> dict[int, Position]:
    """`id(libcst statement) -> position` for every statement of `tree`, from `ast`.

    Covers compound statements, simple statement lines and their small statements, with
    the ranges libcst's `PositionProvider` gives (`ast` and libcst both exclude trailing
    comments and newlines). Decorated definitions are left out (libcst starts them at the
    first `@`). Returns an empty dict when the two trees disagree in any way, so callers
    fall back to `PositionProvider`.
    """
    if parsed is None:
        return {}
    ast_stmts = sorted(_ast_statements(parsed.body), key=lambda n: (n.lineno, n.col_offset))
    cst_stmts = list(_cst_statements(tree.body))
    if len(ast_stmts) != len(cst_stmts):
        return {}
    if code.startswith("\ufeff"):
        code = code[1:]
    lines = code.splitlines()
    out: dict[int, Position] = {}
    for a, (c, line) in zip(ast_stmts, cst_stmts, strict=True):
        kinds = _AST_KINDS.get(type(c))
        if kinds is None or type(a) not in kinds:
            return {}
        end_line = a.end_lineno or a.lineno
        pos = (
            a.lineno,
            _char_col(lines, a.lineno, a.col_offset),
            end_line,
            _char_col(lines, end_line, a.end_col_offset or 0),
        )
        if getattr(c, "decorators", ()):
            continue
        out[id(c)] = pos
        if line is not None:  # the first/last small statement of a simple statement line
            first = out.get(id(line))
            out[id(line)] = pos if first is None else (first[0], first[1], pos[2], pos[3])
    return out


def _ast_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement in `body`, at any depth (nested blocks and definitions included)."""
    out: list[ast.stmt] = []
    stack = list(body)
    while stack:
        node = stack.pop()
        out.append(node)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                stack.extend(block)
        for handler in getattr(node, "handlers", ()):
            stack.extend(handler.body)
        for case in getattr(node, "cases", ()):
            stack.extend(case.body)
    return out


def _cst_statements(
    body: object,
) -> list[tuple[cst.CSTNode, cst.SimpleStatementLine | None]]:
    """Every compound and small statement under `body` in source order, each with the
    simple statement line holding it (None for compound statements)."""
    out: list[tuple[cst.CSTNode, cst.SimpleStatementLine | None]] = []
    stack: list[object] = [body]
    while stack:
        item = stack.pop()
        if type(item) is list or type(item) is tuple:
            stack.extend(reversed(item))  # type: ignore[call-overload]
            continue
        kind = type(item)
        if kind is cst.SimpleStatementLine:
            out.extend((small, item) for small in item.body)  # type: ignore[attr-defined]
        elif kind is cst.SimpleStatementSuite:
            out.extend((small, None) for small in item.body)  # type: ignore[attr-defined]
        elif kind is cst.IndentedBlock or kind is cst.Else or kind is cst.Finally:
            stack.append(item.body)  # type: ignore[attr-defined]
        elif isinstance(item, cst.BaseCompoundStatement):
            out.append((item, None))
            parts: list[object] = [getattr(item, "body", ())]
            for name in ("handlers", "cases"):
                parts.extend(getattr(item, name, ()))
            for name in ("orelse", "finalbody"):
                part = getattr(item, name, None)
                if part is not None:
                    parts.append(part)
            stack.extend(reversed(parts))
        elif kind in (cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase):
            stack.append(item.body)  # type: ignore[attr-defined]
    return out
