"""Screening (stdlib ast sketches) and pruning (candidate-only text with original positions)."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst

from greenopt.batch.pruning import prune_to_candidates, source_lines
from greenopt.batch.screening import screen

SOURCE = textwrap.dedent(
    '''\
    import numpy as np
    from numpy import zeros

    CONST = 3


    def plain(a):
        return a + 1


    def looping(a, n):
        out = zeros(n)
        for i in range(n):
            out[i] = a[i] * 2
        return out


    def helper(x):
        return x * 2


    def calls_helper(a):
        s = 0.0
        while s < 10:
            s += helper(a)
        return s


    class Model:
        """A class."""

        scale = 2

        def method(self, a):
            return np.sum(a) * self.scale

        def other(self):
            return 1


    def outer(a):
        def inner(b):
            for x in b:
                pass
            return b
        return inner(a)
    '''
)


def test_sketches_have_qualified_names_counts_and_flags() -> None:
    s = screen(ast.parse(SOURCE))
    by_name = {f.qualname: f for f in s.functions}
    assert list(by_name) == [
        "plain",
        "looping",
        "helper",
        "calls_helper",
        "Model.method",
        "Model.other",
        "outer",
        "outer.<locals>.inner",
    ]
    assert not by_name["plain"].candidate
    loop = by_name["looping"]
    assert (loop.n_loops, loop.max_loop_depth, loop.n_numpy_calls, loop.n_range_loops) == (
        1,
        1,
        1,
        1,
    )
    assert loop.module_level and not loop.is_method
    assert by_name["Model.method"].is_method and by_name["Model.method"].n_numpy_calls == 1
    assert by_name["Model.method"].candidate and not by_name["Model.other"].candidate
    # loops of a nested function are its own, not the enclosing function's
    assert by_name["outer"].n_loops == 0 and by_name["outer.<locals>.inner"].n_loops == 1
    assert not by_name["outer.<locals>.inner"].module_level
    assert "helper" in by_name["calls_helper"].called_names


def test_candidates_for_a_pass_include_called_module_level_functions() -> None:
    s = screen(ast.parse(SOURCE))
    jit = [f.qualname for f in s.candidates_for("jit")]
    # calls_helper has a loop and calls helper, which a pass may inspect as a callee
    assert jit == ["looping", "helper", "calls_helper"]
    assert [f.qualname for f in s.candidates_for("vectorize")] == ["looping"]


def test_sibling_loops_and_temporary_chains_are_detected() -> None:
    code = textwrap.dedent(
        """\
        def two_loops(a, b, n):
            for i in range(n):
                a[i] = 1
            for j in range(n):
                b[j] = 2

        def chain(a, b):
            t = a * b
            return t + 1

        def neither(a):
            x = 1
            return a
        """
    )
    by = {f.qualname: f for f in screen(ast.parse(code)).functions}
    assert by["two_loops"].has_sibling_loops and not by["two_loops"].has_temporary_chain
    assert by["chain"].has_temporary_chain and not by["chain"].has_sibling_loops
    assert not by["neither"].has_temporary_chain


def test_pruned_text_keeps_positions_and_only_what_candidates_need() -> None:
    tree = ast.parse(SOURCE)
    s = screen(tree)
    pruned = prune_to_candidates(SOURCE, tree, s.candidates)
    assert pruned is not None
    original, kept = source_lines(SOURCE), source_lines(pruned)
    assert len(original) == len(kept)
    for a, b in zip(original, kept, strict=True):
        assert b in (a, "\n")  # a line is either kept verbatim or blanked
    text = "".join(kept)
    assert "import numpy as np" in text and "from numpy import zeros" in text
    assert "def looping" in text and "class Model" in text and "def method" in text
    assert "def plain" not in text and "def other" not in text and "CONST" not in text
    assert "def inner" in text  # kept with its enclosing function
    cst.parse_module(pruned)  # libcst accepts it
    # positions of kept code are the original positions
    assert kept.index("def looping(a, n):\n") == original.index("def looping(a, n):\n")


def test_nothing_to_analyse_gives_none() -> None:
    code = "import numpy as np\n\ndef f(a):\n    return a\n"
    tree = ast.parse(code)
    assert prune_to_candidates(code, tree, screen(tree).candidates) is None


def test_functions_under_module_level_if_keep_their_block() -> None:
    code = textwrap.dedent(
        """\
        import sys
        if sys.platform:
            def f(a, n):
                for i in range(n):
                    a[i] = 0
        else:
            def f(a, n):
                pass
        """
    )
    tree = ast.parse(code)
    pruned = prune_to_candidates(code, tree, screen(tree).candidates)
    assert pruned is not None and "if sys.platform:" in pruned
    cst.parse_module(pruned)


def test_source_lines_split_like_python() -> None:
    assert source_lines("a\r\nb\x0cc\rd") == ["a\r\n", "b\x0cc\r", "d"]
