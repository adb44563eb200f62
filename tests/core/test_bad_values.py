"""Values that used to slip through: infinite timeouts, NaN tolerances, empty files
and calls, symlink loops. Each is one line on stderr and exit 2; a batch goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.cli import main

KERNEL = "def f(n):\n    s = 0.0\n    for i in range(n):\n        s += i\n    return s\n"


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "inf"],
        ["--timeout", "1e308"],
        ["--rtol", "nan"],
        ["--atol", "inf"],
        ["--call", " "],
    ],
)
def test_rewrite_rejects_values_that_cannot_work(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "k.py"
    module.write_text(KERNEL)
    calls = [] if "--call" in args else ["--call", "f(10)"]
    assert main(["rewrite", str(module), *calls, *args]) == 2
    _one_line(capsys.readouterr().err)
    assert module.read_text() == KERNEL


@pytest.mark.parametrize("args", [["--timeout", "inf"], ["--min-sample-s", "inf"]])
def test_measure_rejects_infinite_times(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["measure", "--setup", "x = 1", "--call", "x + 1", "--no-store", *args]) == 2
    assert "finite" in _one_line(capsys.readouterr().err)


def test_empty_files_are_bad_input_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("\n\n")
    assert main(["rewrite", "--static", str(empty)]) == 2
    assert "empty file" in _one_line(capsys.readouterr().err)
    assert main(["rewrite", str(empty), "--call", "f(1)"]) == 2
    assert "empty file" in _one_line(capsys.readouterr().err)
    assert main(["measure", str(empty), "--no-store"]) == 2
    assert "empty script" in _one_line(capsys.readouterr().err)
    # a batch reports the empty file and goes on with the others
    good = tmp_path / "good.py"
    good.write_text(KERNEL)
    assert main(["rewrite", "--static", str(empty), str(good)]) == 2
    assert "empty file" in capsys.readouterr().err


def test_a_symlink_loop_is_one_bad_file_in_a_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    good = tmp_path / "good.py"
    good.write_text(KERNEL)
    assert main(["check", "--no-predict", str(tmp_path / "loop1"), str(good)]) == 2
    captured = capsys.readouterr()
    assert "loop1" in _one_line(captured.err) and "good.py" in captured.out


def test_check_json_lists_every_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    good, empty = tmp_path / "good.py", tmp_path / "empty.py"
    good.write_text(KERNEL)
    empty.write_text("")
    missing = tmp_path / "missing.py"
    code = main(["check", "--no-predict", "--format", "json", str(good), str(missing), str(empty)])
    assert code == 2
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["errors"] == len(data["errors"]) == 2
    assert any("missing.py: no such file" in e for e in data["errors"])
