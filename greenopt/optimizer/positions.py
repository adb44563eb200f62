"""Positions of `for` statements from the stdlib `ast`, matched to libcst nodes.

libcst's `PositionProvider` walks the whole module; `ast` already knows every
statement's line and column. `for` statements appear in the same (source) order
in both trees, so the k-th libcst `For` is the k-th `ast.For`/`ast.AsyncFor`.
Columns are converted from UTF-8 byte offsets (ast) to characters (libcst, SARIF).
"""

from __future__ import annotations

import ast
import warnings

import libcst as cst

from greenopt.optimizer.cst_nodes import walk

#: (line, col, end_line, end_col): lines 1-based, columns 0-based characters
Position = tuple[int, int, int, int]


def _char_col(lines: list[str], line: int, byte_col: int) -> int:
    if not 1 <= line <= len(lines):
        return byte_col
    text = lines[line - 1]
    if text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def for_positions(tree: cst.Module, code: str) -> dict[int, Position]:
    """`id(libcst For node) -> position` for every `for` statement of `tree` (parsed from `code`).

    Returns an empty dict when `ast` cannot parse the code or the two trees disagree
    (callers then fall back to libcst's own positions).
    """
    if code.startswith("\ufeff"):
        code = code[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    ast_loops = sorted(
        (n for n in ast.walk(parsed) if isinstance(n, (ast.For, ast.AsyncFor))),
        key=lambda n: (n.lineno, n.col_offset),
    )
    cst_loops = [n for n in walk(tree) if type(n) is cst.For]
    if len(ast_loops) != len(cst_loops):
        return {}
    lines = code.splitlines()
    out: dict[int, Position] = {}
    for a, c in zip(ast_loops, cst_loops, strict=True):
        end_line = a.end_lineno or a.lineno
        out[id(c)] = (
            a.lineno,
            _char_col(lines, a.lineno, a.col_offset),
            end_line,
            _char_col(lines, end_line, a.end_col_offset or 0),
        )
    return out
