"""vectorize `apply` on the statements that change gives the text of a whole-module rewrite."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

from greenopt.optimizer.module_edits import module_code
from greenopt.optimizer.numpy_names import ensure_numpy_import
from greenopt.optimizer.source import SourceModule
from greenopt.passes.vectorize import VectorizePass, _Replacer

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "corpus").glob("*/*.py")) + sorted((ROOT / "examples").glob("*.py"))


def _whole_module(module: SourceModule, opportunities: list) -> str:
    """The rewrite as `apply` did it before: transform, regenerate and parse the module."""
    wanted = {(o.data["line"], o.data["col"]): o for o in opportunities}
    positions = module.statement_positions() or {
        id(node): (rng.start.line, rng.start.column, rng.end.line, rng.end.column)
        for node, rng in module.metadata().resolve(PositionProvider).items()
        if type(node) is cst.For
    }
    transformer = _Replacer(wanted, positions)
    tree = module.tree.visit(transformer)
    if transformer.used_alias is not None:
        tree = ensure_numpy_import(tree, transformer.used_alias)
    return SourceModule.parse(tree.code, module.path).code


def _cases() -> list[tuple[str, str]]:
    out = [(p.stem, p.read_text()) for p in SOURCES]
    # module-level code and comments around the loops, a decorated function, no trailing
    # blank line
    out.append(
        (
            "comments",
            '"""doc"""\nimport numpy\n\n# lead\nx = numpy.zeros(8)\n'
            "for i in range(8):  # trailing\n    x[i] = 2.0\n\n\n"
            "def f(b):\n    a = numpy.empty(len(b))\n    # before\n"
            "    for i in range(len(b)):  # loop\n        # inside\n"
            "        a[i] = b[i] * 2.0  # end\n    return a\n\n\n"
            "@staticmethod\ndef g(b):\n    c = numpy.empty(len(b))\n"
            "    for j in range(len(b)):\n        c[j] = b[j] + 1.0\n    return c\n"
            "# footer comment",
        )
    )
    out.append(("comments_newline", out[-1][1] + "\n"))
    return out


@pytest.mark.parametrize("name,code", _cases(), ids=[c[0] for c in _cases()])
def test_each_fix_and_all_fixes_give_the_whole_module_text(name: str, code: str) -> None:
    module = SourceModule.parse(code, f"{name}.py")
    vectorize = VectorizePass()
    fixable = [
        o
        for o in vectorize.find(module)
        if o.fixable and not o.data.get("note") and "replacement" in o.data
    ]
    if not fixable:
        pytest.skip("nothing to vectorize")
    for chosen in [*([o] for o in fixable), fixable]:
        new = vectorize.apply(module, chosen)
        expected = _whole_module(module, chosen)
        assert new.code == expected
        assert new.tree.code == expected  # parsed on first use, to the same text
        assert new.path == module.path


def test_module_code_is_the_concatenation_of_the_statements() -> None:
    for path in SOURCES[:10]:
        source = SourceModule.parse(path.read_text(), str(path))
        tree = source.tree
        changed = tree.with_changes(body=[*tree.body[1:], tree.body[0]])
        assert module_code(tree, source) == tree.code
        assert module_code(changed, source) == changed.code
