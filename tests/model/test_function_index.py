"""`FunctionIndex` finds exactly the function `find_function_node` finds, in one walk."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from greenopt.models.features import FunctionIndex, find_function_node

ROOT = Path(__file__).resolve().parents[2]

#: functions at several depths, repeated names, and every kind of statement block
TRICKY = textwrap.dedent(
    """
    import numpy as np

    class Grid:
        def step(self, u):
            def inner(v):
                return v
            return inner(u)

        async def run(self):
            pass

    try:
        def step(u):  # as deep as the method, but after the class
            return u
    except ValueError:
        def fallback():
            pass
    else:
        def inner():
            pass
    finally:
        def cleanup():
            pass

    match np.__name__:
        case "numpy":
            def chosen():
                pass
        case _:
            def chosen():
                pass

    for i in range(3):
        def looped():
            pass
    else:
        def after_loop():
            pass

    while False:
        def never():
            pass

    with open(__file__) as fh:
        def handle():
            def step(x):
                return x
            return step

    if True:
        def cleanup():
            pass
        def fallback():  # shallower than the handler's (a handler is a node of its own)
            pass
        def chosen():  # shallower than the match cases'
            pass
    """
)


def _names(tree: ast.Module) -> set[str | None]:
    names: set[str | None] = {None, "", "missing", "Grid.<locals>.missing"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names |= {node.name, f"Outer.{node.name}", f"f.<locals>.{node.name}"}
    return names


def _same_answers(tree: ast.Module) -> None:
    index = FunctionIndex.of(tree)
    for name in _names(tree):
        assert index.find(name) is find_function_node(tree, name), name


def test_tricky_module_same_answers_as_the_full_walk() -> None:
    tree = ast.parse(TRICKY)
    _same_answers(tree)
    index = FunctionIndex.of(tree)
    lines = TRICKY.splitlines()

    def line_of(name: str) -> str:
        node = index.find(name)
        assert node is not None
        return lines[node.lineno - 1].strip()

    # same depth: the first in statement order (the class's method before `try`'s function)
    assert line_of("Grid.step") == "def step(self, u):"
    # a handler or a match case adds a level, so the later `if`'s functions come first
    assert line_of("fallback").startswith("def fallback():  # shallower")
    assert line_of("chosen").startswith("def chosen():  # shallower")
    assert line_of("cleanup") == "def cleanup():" and index.find("cleanup").lineno < 30
    assert index.first is find_function_node(tree) and line_of("run") == "async def run(self):"


@pytest.mark.parametrize(
    "code",
    ["", "x = 1\n", "lambda: 0\n", "if x:\n    y = [lambda: 1]\n"],
    ids=["empty", "assignment", "lambda", "nested-lambda"],
)
def test_modules_without_functions_find_nothing(code: str) -> None:
    tree = ast.parse(code)
    assert FunctionIndex.of(tree).find("f") is None is find_function_node(tree, "f")
    assert FunctionIndex.of(tree).first is None


def test_repository_sources_same_answers() -> None:
    files = sorted((ROOT / "corpus").glob("*/*.py")) + sorted((ROOT / "greenopt").rglob("*.py"))
    assert len(files) > 50
    for path in files:
        _same_answers(ast.parse(path.read_text(encoding="utf-8")))
