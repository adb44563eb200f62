"""Tests of the foundation shared by every command: CLI errors, config, source I/O, registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from greenopt.cli import main
from greenopt.config import Config, load_config
from greenopt.errors import InputError
from greenopt.optimizer.source import SourceModule, atomic_write, read_source, unified_diff
from greenopt.passes.registry import PASSES, parse_pass_list, pass_for_code


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_help_lists_every_command_without_importing_them() -> None:
    code = (
        "import sys; from greenopt.cli import main; rc = main(['--help']);"
        "heavy = [m for m in ('numpy', 'numba', 'sklearn', 'scipy') if m in sys.modules];"
        "print('HEAVY', heavy); sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for name in ("measure", "rewrite", "check", "analyze", "train", "model"):
        assert name in out.stdout
    assert "HEAVY []" in out.stdout


def test_read_source_errors(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.py").write_bytes("x = 'é'\n".encode("latin-1"))
    with pytest.raises(InputError, match="no such file"):
        read_source(tmp_path / "missing.py")
    with pytest.raises(InputError, match="binary"):
        read_source(tmp_path / "bin.py")
    with pytest.raises(InputError, match="not UTF-8"):
        read_source(tmp_path / "latin.py")
    with pytest.raises(InputError, match="is a directory"):
        read_source(tmp_path)


def test_parse_syntax_error_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"m\.py:2:.*syntax error"):
        SourceModule.parse("x = 1\ndef f(:\n", "m.py")


def test_atomic_write_refuses_unparsable_text_and_keeps_original(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text("x = 1\n")
    os.chmod(target, 0o640)
    with pytest.raises(InputError):
        atomic_write(target, "def broken(:\n")
    assert target.read_text() == "x = 1\n"
    atomic_write(target, "x = 2\n")
    assert target.read_text() == "x = 2\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temp file left behind


def test_unified_diff() -> None:
    assert unified_diff("a\n", "a\n", "m.py") == ""
    diff = unified_diff("a\n", "b\n", "m.py")
    assert diff.startswith("--- a/m.py\n+++ b/m.py\n") and "-a\n+b\n" in diff


def test_config_defaults_and_values(tmp_path: Path) -> None:
    assert load_config(tmp_path) == Config()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.greenopt]\nselect = ['vectorize']\nrtol = 1e-5\n"
        "[tool.greenopt.workloads]\n'pkg/mod.py' = [{setup = 'x = 1', call = 'f(x)'}]\n"
    )
    cfg = load_config(tmp_path / "pkg" / "mod.py")
    assert cfg.select == ("vectorize",) and cfg.rtol == 1e-5
    assert cfg.workloads["pkg/mod.py"][0].calls == ("f(x)",)
    assert cfg.root == tmp_path


@pytest.mark.parametrize(
    "body",
    ["rtol = 'loose'", "unknown-key = 1", "select = 'vectorize'", "samples = 1", "workloads = 3"],
)
def test_config_errors(tmp_path: Path, body: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.greenopt]\n{body}\n")
    with pytest.raises(InputError):
        load_config(tmp_path)


def test_registry_names_and_codes() -> None:
    assert parse_pass_list("jit, vectorize") == ["vectorize", "jit"]
    assert parse_pass_list(None) == list(PASSES)
    with pytest.raises(InputError, match="unknown pass"):
        parse_pass_list("vectorise")
    assert pass_for_code("GO101") == "vectorize" and pass_for_code("GO402") == "jit"
    assert pass_for_code("E501") is None


def test_unified_diff_of_an_absolute_path_has_clean_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = unified_diff("a\n", "b\n", str(tmp_path / "pkg" / "m.py"))
    assert inside.startswith("--- a/pkg/m.py\n+++ b/pkg/m.py\n")
    outside = unified_diff("a\n", "b\n", "/elsewhere/m.py")
    assert outside.startswith("--- a/elsewhere/m.py\n")
