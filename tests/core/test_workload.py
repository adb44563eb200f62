"""Tests of the workload preparation that every child process uses (DESIGN §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.errors import WorkloadError
from greenopt.measure.workload import Workload, prepare

MODULE = "import numpy as np\n\ndef double(x):\n    return 2 * x\n"


def _module(tmp_path: Path) -> str:
    path = tmp_path / "mymod.py"
    path.write_text(MODULE)
    return str(path)


def test_module_importable_under_its_name_and_names_visible(tmp_path: Path) -> None:
    wl = Workload(
        setup="import mymod\nimport numpy as np\nx = np.arange(3.0)",
        calls=("double(x)", "mymod.double(1)"),
        module_path=_module(tmp_path),
    )
    prepared = prepare(wl)
    first, second = (call() for call in prepared.calls)
    assert list(first) == [0.0, 2.0, 4.0] and second == 2
    assert "double" in prepared.module_names and "x" not in prepared.module_names


def test_seeding_is_identical_across_preparations(tmp_path: Path) -> None:
    setup = (
        "import random, numpy as np\n"
        "a = np.random.rand(4)\nb = np.random.default_rng().random(4)\n"
        "c = np.random.default_rng().random(2)\nd = random.random()"
    )
    wl = Workload(setup=setup, calls=("a",), module_path=_module(tmp_path))
    one, two = prepare(wl).namespace, prepare(wl).namespace
    for key in "abcd":
        assert (one[key] == two[key]).all() if key != "d" else one[key] == two[key]
    assert not (one["b"][:2] == one["c"]).all()  # successive default_rng() differ
    other = prepare(wl.with_seed(1)).namespace
    assert not (other["a"] == one["a"]).all()


def test_statement_calls_are_allowed(tmp_path: Path) -> None:
    wl = Workload(setup="y = [0]", calls=("y[0] = 5",), module_path=_module(tmp_path))
    prepared = prepare(wl)
    assert prepared.calls[0]() is None and prepared.namespace["y"] == [5]


@pytest.mark.parametrize(
    ("setup", "call", "match"),
    [
        ("x = 1", "double(", "syntax error in call"),
        ("x = (", "double(1)", "syntax error in setup"),
        ("raise ValueError('bad input')", "double(1)", "setup raised ValueError: bad input"),
    ],
)
def test_bad_workloads(tmp_path: Path, setup: str, call: str, match: str) -> None:
    with pytest.raises(WorkloadError, match=match):
        prepare(Workload(setup=setup, calls=(call,), module_path=_module(tmp_path)))


def test_workload_needs_a_call() -> None:
    with pytest.raises(WorkloadError):
        Workload(setup="x = 1")
