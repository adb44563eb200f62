"""`legality.ordered_children` (the fast read-only traversal the passes use) must visit
the nodes libcst's own visitor visits, in the same order: legality analyses depend on it."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from greenopt.passes.legality import ordered_children

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "corpus").glob("*/*.py")) + sorted((ROOT / "greenopt").glob("*/*.py"))

#: whitespace and punctuation nodes carry no names or values; the fast walk may skip them
TOKENS = (
    cst.SimpleWhitespace, cst.Comma, cst.LeftParen, cst.RightParen, cst.EmptyLine,
    cst.Comment, cst.Newline, cst.TrailingWhitespace, cst.ParenthesizedWhitespace,
    cst.AssignEqual, cst.Colon, cst.Dot, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Semicolon, cst.ImportStar, cst.ParamSlash,
    cst.ParamStar, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp,
    cst.BaseAugOp,
)  # fmt: skip


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen.append(node)
        return True


def _fast_order(root: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(ordered_children(node)))
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fast_traversal_matches_libcst_visitor(path: Path) -> None:
    tree = cst.parse_module(path.read_text(encoding="utf-8"))
    recorder = _Recorder()
    tree.visit(recorder)
    fast = _fast_order(tree)
    fast_ids = {id(n) for n in fast}
    reference = [n for n in recorder.seen if id(n) in fast_ids]
    assert [id(n) for n in reference] == [id(n) for n in fast]
    skipped = {
        type(n).__name__
        for n in recorder.seen
        if id(n) not in fast_ids and not isinstance(n, TOKENS)
    }
    assert not skipped, f"non-token nodes never reached: {sorted(skipped)}"
