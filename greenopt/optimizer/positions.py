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

from greenopt.optimizer.cst_nodes import walk_statements

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
    ast_stmts = sorted(
        (n for n in ast_statements(parsed) if n is not parsed),
        key=lambda n: (n.lineno, n.col_offset),  # type: ignore[attr-defined]
    )
    cst_stmts = _cst_statements(tree)
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


def ast_statements(node: ast.AST) -> list[ast.AST]:
    """`node` and every statement nested in it, in no particular order: blocks, handlers,
    match cases and definitions are entered, expressions never."""
    out: list[ast.AST] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(current, name, None)
            if type(block) is list:
                stack.extend(block)
        for clause in (*getattr(current, "handlers", ()), *getattr(current, "cases", ())):
            stack.extend(clause.body)
    return out


def _cst_statements(tree: cst.Module) -> list[tuple[cst.CSTNode, cst.SimpleStatementLine | None]]:
    """Every compound and small statement of `tree` in source order, each with the
    simple statement line holding it (None for compound statements and the small
    statements of a one-line suite)."""
    out: list[tuple[cst.CSTNode, cst.SimpleStatementLine | None]] = []
    for node in walk_statements(tree):
        kind = type(node)
        if kind is cst.SimpleStatementLine:
            out.extend((small, node) for small in node.body)  # type: ignore[attr-defined]
        elif kind in _AST_KINDS:  # a compound statement, or a small one of a suite
            out.append((node, None))
    return out
