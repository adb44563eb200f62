"""What a vectorize rewrite left of the loops, for tests that expect them gone."""

from __future__ import annotations

import libcst as cst

from greenopt.optimizer.cst_nodes import walk
from greenopt.optimizer.source import SourceModule
from greenopt.passes.vectorize import _rank_guarded_loops


def loops_left(code: str) -> int:
    """`for` loops in `code` other than those a rank guard keeps for other ranks
    (`if x.ndim == 1: <slices> else: <the loop>`)."""
    tree = SourceModule.parse(code, "mod.py").tree
    fallbacks = _rank_guarded_loops(tree)
    return sum(1 for n in walk(tree) if type(n) is cst.For and id(n) not in fallbacks)
