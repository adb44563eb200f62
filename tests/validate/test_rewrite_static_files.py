"""`greenopt rewrite --static FILE...`: several files, one bad file does not stop the others."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAFE = """import numpy as np


def f(n):
    a = np.ones(n)
    out = np.zeros(n)
    for i in range(n):
        out[i] = a[i] * 2.0
    return out
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "greenopt", "rewrite", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_static_rewrites_every_file_and_reports_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SAFE)
    (tmp_path / "b.py").write_text(SAFE.replace("def f", "def g"))
    (tmp_path / "bad.py").write_text("def broken(:\n")
    out = _run(
        "--static", "--write", "-q", "a.py", "bad.py", "b.py", "--json", "r.json", cwd=tmp_path
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "bad.py" in out.stderr and "Traceback" not in out.stderr
    for name in ("a.py", "b.py"):
        assert "out[:n] = a[:n] * 2.0" in (tmp_path / name).read_text()
    assert (tmp_path / "bad.py").read_text() == "def broken(:\n"
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["path"] for f in report["files"]] == ["a.py", "b.py"] and len(report["errors"]) == 1


def test_several_files_need_static_and_no_output_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SAFE)
    (tmp_path / "b.py").write_text(SAFE)
    validated = _run("a.py", "b.py", "--call", "f(3)", cwd=tmp_path)
    assert validated.returncode == 2 and "one FILE" in validated.stderr
    one_output = _run("--static", "a.py", "b.py", "-o", "out.py", cwd=tmp_path)
    assert one_output.returncode == 2 and "-o/--output takes one FILE" in one_output.stderr
    assert (tmp_path / "a.py").read_text() == SAFE and not (tmp_path / "out.py").exists()


def test_select_and_ignore_flags_filter_like_check(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SAFE)
    (tmp_path / "b.py").write_text(SAFE)
    ignored = _run("--static", "--write", "-q", "a.py", "--ignore", "GO1", cwd=tmp_path)
    assert ignored.returncode == 0, ignored.stderr
    assert (tmp_path / "a.py").read_text() == SAFE  # the only fix is a GO1xx one
    selected = _run("--static", "--write", "-q", "b.py", "--select", "vectorize", cwd=tmp_path)
    assert selected.returncode == 0 and "out[:n] = a[:n] * 2.0" in (tmp_path / "b.py").read_text()
    bad = _run("--static", "a.py", "--ignore", "GO1,nonsense", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nonsense" in bad.stderr


def test_validated_rewrite_ignore_flag_keeps_jit_out(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SAFE)
    out = _run(
        "a.py",
        "--call",
        "f(50)",
        "--passes",
        "jit",
        "--ignore",
        "GO4",
        "--json",
        "r.json",
        "-q",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    (fn,) = json.loads((tmp_path / "r.json").read_text())["functions"]
    assert fn["verdict"] == "unchanged" and fn["candidates"] == []
    assert out.stdout == ""  # no diff
