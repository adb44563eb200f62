"""The timed loop: fused expressions vs the general loop, error attribution, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenopt.measure.rounds import CallFailed, fused_rounds, make_rounds
from greenopt.measure.workload import Workload, prepare


def rounds_for(setup: str, *calls: str) -> tuple[Callable[[int], None], dict[str, Any]]:
    """The rounds function of a workload and its namespace."""
    wl = Workload(setup=setup, calls=calls)
    prepared = prepare(wl)
    return make_rounds(wl.calls, prepared.calls, prepared.namespace), prepared.namespace


def test_expressions_are_fused_and_see_the_namespace() -> None:
    run, ns = rounds_for("seen = []\ndef f(v):\n    seen.append(v)", "f(1)", "f(len(seen))")
    run(3)
    assert ns["seen"] == [1, 1, 1, 3, 1, 5]
    assert fused_rounds(("f(1)", "[i for i in range(3)]"), {}) is not None


@pytest.mark.parametrize("expr", ["(y := 3)", "x = 1", "assert True", "del z"])
def test_walrus_and_statements_use_the_general_loop(expr: str) -> None:
    assert fused_rounds((expr,), {}) is None


def test_walrus_binds_in_the_workload_namespace() -> None:
    run, ns = rounds_for("", "(y := 41)", "y + 1")
    run(1)
    assert ns["y"] == 41


def test_statements_mutate_the_namespace() -> None:
    run, ns = rounds_for("x = 0", "x = x + 1")
    run(4)
    assert ns["x"] == 4


@pytest.mark.parametrize(
    "calls",
    [("1 + 1", "1 / 0", "2 + 2"), ("x = 1", "1 / 0")],
)
def test_the_failing_call_is_identified(calls: tuple[str, ...]) -> None:
    run, _ = rounds_for("", *calls)
    with pytest.raises(CallFailed) as info:
        run(2)
    assert info.value.index == 1 and isinstance(info.value.exc, ZeroDivisionError)


def test_failure_inside_a_called_function_points_at_the_call() -> None:
    run, _ = rounds_for("def f():\n    return {}['k']", "None", "None", "f()")
    with pytest.raises(CallFailed) as info:
        run(1)
    assert info.value.index == 2 and isinstance(info.value.exc, KeyError)


@pytest.mark.parametrize("fused", [True, False])
def test_exit_zero_ends_the_call_normally_and_nonzero_fails(fused: bool) -> None:
    setup = "import sys\ncount = []\ndef ok():\n    sys.exit(0)\ndef bad():\n    sys.exit(5)"
    extra = "count.append(1)" if fused else "count += [1]"
    run, ns = rounds_for(setup, "ok()", extra)
    run(3)
    assert ns["count"] == [1, 1, 1]
    run, _ = rounds_for(setup, extra, "bad()")
    with pytest.raises(CallFailed) as info:
        run(1)
    assert info.value.index == 1 and isinstance(info.value.exc, SystemExit)


def test_memory_error_names_its_call() -> None:
    run, _ = rounds_for("def f():\n    raise MemoryError", "None", "f()")
    with pytest.raises(CallFailed) as info:
        run(1)
    assert info.value.index == 1 and isinstance(info.value.exc, MemoryError)
