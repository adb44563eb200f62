"""`DefSites` (def positions from stdlib `ast`) must equal libcst's own positions."""

from __future__ import annotations

import libcst as cst
import pytest

from greenopt.optimizer.cst_nodes import walk
from greenopt.optimizer.source import SourceModule
from greenopt.passes.function_defs import DefSites, positions

TRICKY = '''\ufeff"""Module with définitions in odd places."""
import functools


@functools.lru_cache(maxsize=None)
def cached(x):  # comment
    return x


class K:
    @staticmethod
    async def  spaced(y):
        def inner(z): return z
        return inner(y)

    def méthode(self): pass


s = "é"; t = 1
if t:
    def in_if(a,
              b):
        pass
def \\
    continued():
    pass
'''


@pytest.mark.parametrize("code", [TRICKY, "x = 1\n", "def f(): pass\n"])
def test_def_sites_equal_libcst_positions(code: str) -> None:
    module = SourceModule.parse(code, "m.py")
    ref_module = SourceModule.parse(code, "m.py")
    reference = positions(ref_module)
    sites = DefSites(module, positions(module))
    defs = [n for n in walk(module.tree) if isinstance(n, cst.FunctionDef)]
    ref_defs = [n for n in walk(ref_module.tree) if isinstance(n, cst.FunctionDef)]
    for node, ref in zip(defs, ref_defs, strict=True):
        start, name_end = reference[ref].start, reference[ref.name].end
        assert sites(node) == (start.line, start.column, name_end.line, name_end.column), (
            node.name.value
        )
