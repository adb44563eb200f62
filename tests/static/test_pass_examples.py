"""Every registered pass's EXAMPLES (before -> after) and UNCHANGED sources, run as tests.

Generic over the registry: whichever pass modules exist are exercised, Fixit
VALID/INVALID style. Passes are constructed with each example's `options`.
"""

from __future__ import annotations

import importlib.util

import libcst as cst
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.registry import CODE_PREFIX, PASSES, pass_class


def _importable(name: str) -> bool:
    module = PASSES[name].split(":")[0]
    return importlib.util.find_spec(module) is not None


NAMES = [n for n in PASSES if _importable(n)]
EXAMPLES = [
    pytest.param(n, i, id=f"{n}-example{i}")
    for n in NAMES
    for i in range(len(pass_class(n).EXAMPLES))
]
UNCHANGED = [
    pytest.param(n, i, id=f"{n}-unchanged{i}")
    for n in NAMES
    for i in range(len(pass_class(n).UNCHANGED))
]


def _rewrite(name: str, code: str, options: dict) -> tuple[str, list]:
    instance = pass_class(name)(**options)
    module = SourceModule.parse(code, "mod.py")
    found = instance.find(module)
    return instance.apply(module, [o for o in found if o.fixable]).code, found


def test_vectorize_is_registered_and_importable() -> None:
    assert "vectorize" in NAMES
    assert pass_class("vectorize").name == "vectorize"


@pytest.mark.parametrize("name,index", EXAMPLES)
def test_example_rewrites_to_after(name: str, index: int) -> None:
    example = pass_class(name).EXAMPLES[index]
    assert example.before != example.after
    new, found = _rewrite(name, example.before, dict(example.options))
    assert new == example.after
    cst.parse_module(new)
    for opp in found:
        assert opp.pass_name == name
        assert opp.code.startswith(CODE_PREFIX[name])
        assert opp.code in pass_class(name).codes


@pytest.mark.parametrize("name,index", EXAMPLES)
def test_example_is_idempotent(name: str, index: int) -> None:
    example = pass_class(name).EXAMPLES[index]
    again, _ = _rewrite(name, example.after, dict(example.options))
    assert again == example.after


@pytest.mark.parametrize("name,index", UNCHANGED)
def test_unchanged_source_stays_unchanged(name: str, index: int) -> None:
    source = pass_class(name).UNCHANGED[index]
    new, found = _rewrite(name, source, {})
    assert new == source
    assert not [o for o in found if o.fixable]
