"""Each pass's EXAMPLES and UNCHANGED lists, run here (independently of tests/static)."""

from __future__ import annotations

import libcst as cst
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.registry import pass_class

from .helpers import rewrite

MY_PASSES = ("loop-fusion", "dtype-reduction", "jit")
EXAMPLES = [
    pytest.param(name, i, id=f"{name}-example{i}")
    for name in MY_PASSES
    for i in range(len(pass_class(name).EXAMPLES))
]
UNCHANGED = [
    pytest.param(name, i, id=f"{name}-unchanged{i}")
    for name in MY_PASSES
    for i in range(len(pass_class(name).UNCHANGED))
]


@pytest.mark.parametrize("name,index", EXAMPLES)
def test_example_rewrites_exactly(name: str, index: int) -> None:
    cls = pass_class(name)
    example = cls.EXAMPLES[index]
    assert example.before != example.after
    new_code, found = rewrite(cls(**example.options), example.before)
    assert new_code == example.after
    cst.parse_module(new_code)
    for opp in found:
        assert opp.pass_name == name
        assert opp.code.startswith(
            {"loop-fusion": "GO2", "dtype-reduction": "GO3", "jit": "GO4"}[name]
        )
        assert opp.code in cls.codes
        assert opp.site.function is not None and opp.site.path == "mod.py"


@pytest.mark.parametrize("name,index", EXAMPLES)
def test_example_is_idempotent(name: str, index: int) -> None:
    cls = pass_class(name)
    example = cls.EXAMPLES[index]
    again, _ = rewrite(cls(**example.options), example.after)
    assert again == example.after


@pytest.mark.parametrize("name,index", UNCHANGED)
def test_unchanged_stays_unchanged(name: str, index: int) -> None:
    cls = pass_class(name)
    source = cls.UNCHANGED[index]
    new_code, found = rewrite(cls(), source)
    assert new_code == source
    assert not [o for o in found if o.fixable]


@pytest.mark.parametrize("name", MY_PASSES)
def test_apply_with_no_opportunities_returns_same_module(name: str) -> None:
    module = SourceModule.parse(pass_class(name).EXAMPLES[0].before)
    assert pass_class(name)().apply(module, []).code == module.code


def test_workload_passes_are_never_static_safe() -> None:
    for name in ("dtype-reduction", "jit"):
        cls = pass_class(name)
        assert cls.needs_workload
        for example in cls.EXAMPLES:
            _, found = rewrite(cls(**example.options), example.before)
            assert found and not any(o.static_safe for o in found)
