"""`greenopt rewrite` on the command line: exit codes, one-line errors, outputs, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.cli import main

from .conftest import FAST_FLAGS

KERNELS = '''"""Test kernels."""

import numpy as np


def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out


def unused(x):
    total = 0.0
    for i in range(len(x)):
        total += x[i]
    return total
'''

SETUP = "import numpy as np; x = np.random.rand(100_000); y = np.random.rand(100_000)"


def _module(tmp_path: Path) -> Path:
    path = tmp_path / "kern.py"
    path.write_text(KERNELS)
    return path


def _one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--setup", SETUP, "--call", "saxpy(2.0, x"], "syntax error in call"),
        (
            ["--setup", SETUP, "--call", "sxapy(2.0, x, y)"],
            "NameError: name 'sxapy' is not defined",
        ),
        (
            ["--setup", "raise RuntimeError('no input')", "--call", "saxpy(1, 2, 3)"],
            "setup raised RuntimeError: no input",
        ),
        (["--setup", SETUP], "--setup needs at least one --call"),
        ([], "no workload"),
        (["--call", "saxpy(1, 2, 3)", "--write", "-o", "x.py"], "mutually exclusive"),
        (["--call", "saxpy(1.0, x, y)", "--passes", "nosuchpass"], "unknown pass 'nosuchpass'"),
        (["--workload", "missing_wl.py"], "no such workload file"),
        (["--call", "saxpy(1, 2, 3)", "--json", "no/such/dir/r.json"], "does not exist"),
        (["--static", "-o", "no/such/dir/out.py"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = _module(tmp_path)
    write = [] if {"--write", "-o"} & set(args) else ["--write"]  # must not write on failure
    code = main(["rewrite", str(path), *write, *args, *FAST_FLAGS])
    out, err = capsys.readouterr()
    assert code == 2
    assert message in _one_line_error(err)
    assert out == ""
    assert path.read_text() == KERNELS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kern.py"]


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rewrite", str(tmp_path / "nope.py"), "--call", "f()"])
    assert code == 2
    assert "no such file" in _one_line_error(capsys.readouterr().err)


def test_syntax_error_in_module_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.py"
    path.write_text("def f(:\n")
    code = main(["rewrite", str(path), "--call", "f()"])
    assert code == 2
    err = _one_line_error(capsys.readouterr().err)
    assert "broken.py:1:" in err and "syntax error" in err
    # Python's own position and message, as `check` reports them (not libcst's)
    assert main(["rewrite", str(path), "--static"]) == 2
    static_err = _one_line_error(capsys.readouterr().err)
    assert main(["check", str(path)]) == 2
    check_err = _one_line_error(capsys.readouterr().err)
    assert err == static_err == check_err and "parser error" not in err


@pytest.mark.parametrize("samples", ["0", "1", "-3"])
def test_too_few_samples_exit_2_before_anything_is_measured(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    samples: str,
) -> None:
    """`--samples 0` is an error like 1 and -3 (it once fell back to the default)."""

    def no_meter(name: str) -> None:
        raise AssertionError(f"meter {name!r} opened")

    monkeypatch.setattr("greenopt.measure.meter.get_meter", no_meter)
    path = _module(tmp_path)
    call = ["--setup", SETUP, "--call", "saxpy(2.0, x, y)", "--write"]
    code = main(["rewrite", str(path), *call, *FAST_FLAGS, "--samples", samples])
    out, err = capsys.readouterr()
    assert code == 2
    assert "--samples must be at least 2" in _one_line_error(err)
    assert out == ""
    assert path.read_text() == KERNELS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kern.py"]
