"""`analyze --out` at a path that cannot be a directory is one line and exit 2, creating nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.cli import main

SOURCE = "def f(x):\n    s = 0\n    for v in x:\n        s += v\n    return s\n"


def _analyze(tmp_path: Path, out: str) -> list[str]:
    src = tmp_path / "k.py"
    src.write_text(SOURCE)
    return ["analyze", str(src), "--out", out, "--jobs", "1", "--no-progress"]


@pytest.mark.parametrize("below", ["sub", "a/b"])
def test_out_below_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], below: str
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    assert main(_analyze(tmp_path, str(afile / below))) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "cannot create output directory" in lines[0], captured.err
    assert "Traceback" not in captured.err and afile.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "k.py"]


def test_out_that_is_a_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    assert main(_analyze(tmp_path, str(afile))) == 2
    assert "--out must be a directory" in capsys.readouterr().err
    assert afile.read_text() == "keep\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_out_where_no_directory_can_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_analyze(tmp_path, "/proc/greenopt-nope")) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "/proc/greenopt-nope" in lines[0], captured.err
    assert "internal error" not in captured.err


def test_a_missing_nested_out_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "deep"
    assert main(_analyze(tmp_path, str(out))) == 0
    assert (out / "greenopt-analysis.sqlite").exists()
