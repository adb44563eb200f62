"""Workloads from flags, config and workload files; syntax errors caught before running."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.config import load_config
from greenopt.errors import InputError, WorkloadError
from greenopt.optimizer.workloads import (
    call_labels,
    collect_workloads,
    from_workload_file,
    subset,
    workload_functions,
)


def test_flags_give_one_workload_with_all_calls(tmp_path: Path) -> None:
    mod = tmp_path / "m.py"
    (wl,) = collect_workloads(mod, setup="x = 1", calls=["f(x)", "g(x)"])
    assert wl.setup == "x = 1" and wl.calls == ("f(x)", "g(x)")
    assert wl.module_path == str(mod) and wl.name == "m"


def test_setup_without_call_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--setup needs at least one --call"):
        collect_workloads(tmp_path / "m.py", setup="x = 1")


@pytest.mark.parametrize(
    ("setup", "call", "match"),
    [("x = (", "f(x)", "syntax error in setup"), ("", "f(x", "syntax error in call 'f\\(x'")],
)
def test_syntax_errors_are_workload_errors_before_anything_runs(
    tmp_path: Path, setup: str, call: str, match: str
) -> None:
    with pytest.raises(WorkloadError, match=match):
        collect_workloads(tmp_path / "m.py", setup=setup, calls=[call])


def test_statement_calls_are_accepted(tmp_path: Path) -> None:
    (wl,) = collect_workloads(tmp_path / "m.py", calls=["y = f(1)"])
    assert wl.calls == ("y = f(1)",)


def test_config_workloads_match_the_file_relative_to_the_config_root(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    mod = tmp_path / "pkg" / "m.py"
    mod.write_text("def f(x):\n    return x\n")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.greenopt.workloads]\n"
        '"pkg/m.py" = [{setup = "x = 2", call = "f(x)"}, {call = ["f(1)", "f(3)"]}]\n'
        '"pkg/other.py" = [{call = "g()"}]\n'
    )
    config = load_config(mod)
    wls = collect_workloads(mod, config=config)
    assert [(w.setup, w.calls) for w in wls] == [("x = 2", ("f(x)",)), ("", ("f(1)", "f(3)"))]
    # flags win over config
    (only,) = collect_workloads(mod, calls=["f(9)"], config=config)
    assert only.calls == ("f(9)",)


def test_workload_file_functions_in_file_order(tmp_path: Path) -> None:
    wf = tmp_path / "wl.py"
    wf.write_text(
        "import m\n\ndef helper():\n    pass\n\n"
        "def workload_b():\n    return m.f(1)\n\n"
        "def workload_a(n=3):\n    return m.f(n)\n"
    )
    assert workload_functions(wf) == ["workload_b", "workload_a"]
    wl = from_workload_file(tmp_path / "m.py", wf)
    assert call_labels(wl) == ["workload_b()", "workload_a()"]
    assert str(tmp_path) in wl.extra_sys_path
    assert call_labels(subset(wl, [1])) == ["workload_a()"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("def workload_x(n):\n    pass\n", "must take no arguments"),
        ("def helper():\n    pass\n", "no workload_\\*\\(\\) functions"),
        ("def workload_x(:\n", "syntax error in workload file"),
    ],
)
def test_bad_workload_files(tmp_path: Path, text: str, match: str) -> None:
    wf = tmp_path / "wl.py"
    wf.write_text(text)
    with pytest.raises(WorkloadError, match=match):
        from_workload_file(tmp_path / "m.py", wf)


def test_missing_workload_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such workload file"):
        from_workload_file(tmp_path / "m.py", tmp_path / "nope.py")
