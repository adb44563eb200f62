"""CLI robustness traps of check, rewrite, analyze, measure and the config (hunt16).

Subprocess-based: every test runs ``sys.executable -m greenopt.cli`` in a tmp_path and
checks the contract for bad input: exit 2, one line on stderr naming the problem (no
traceback, no "internal error"), nothing modified, no partial output left behind.

Tests that need a file the process cannot read or write drop CAP_DAC_OVERRIDE with
`setpriv` when running as root (root otherwise reads and writes any file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_run import assert_input_error, run

KERNEL = """import numpy as np


def double(a, n):
    a = np.asarray(a, dtype=np.float64)
    out = np.zeros(n)
    for i in range(n):
        out[i] = a[i] * 2.0
    return out
"""


def _drop_dac() -> list[str]:
    """A command prefix under which permission bits apply (root drops DAC override)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission bits are not enforced")
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here: permission bits are not enforced")
    return prefix


def test_check_directory_with_unreadable_subdirectory(tmp_path: Path) -> None:
    """`check DIR` where DIR has a subdirectory it cannot read: the venv probe
    (`sub/pyvenv.cfg`) raises PermissionError -> internal error, exit 70, and the
    readable file next to it is never checked (the batch stops)."""
    (tmp_path / "ud" / "sub").mkdir(parents=True)
    (tmp_path / "ud" / "good.py").write_text(KERNEL)
    (tmp_path / "ud" / "sub" / "other.py").write_text(KERNEL)
    (tmp_path / "ud" / "sub").chmod(0)
    try:
        proc = run(["check", "ud"], tmp_path, prefix=_drop_dac())
    finally:
        (tmp_path / "ud" / "sub").chmod(0o755)
    assert "internal error" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "good.py:" in proc.stdout  # the batch went on with the readable file
    assert proc.returncode == 2, proc.stderr  # an error was reported


def test_static_write_on_read_only_file(tmp_path: Path) -> None:
    """`--write` replaces a mode-444 file through rename: a read-only file is rewritten."""
    target = tmp_path / "ro.py"
    target.write_text(KERNEL)
    target.chmod(0o444)
    (tmp_path / "other.py").write_text(KERNEL.replace("double", "triple"))
    proc = run(
        ["rewrite", "--static", "--write", "ro.py", "other.py"], tmp_path, prefix=_drop_dac()
    )
    assert target.read_text() == KERNEL, "read-only file was rewritten"
    assert proc.returncode == 2, proc.stderr
    assert "ro.py" in proc.stderr and "Traceback" not in proc.stderr
    assert "triple" in (tmp_path / "other.py").read_text()
    assert (tmp_path / "other.py").read_text() != KERNEL.replace(
        "double", "triple"
    )  # batch went on


def test_validated_write_on_read_only_file(tmp_path: Path) -> None:
    """Same through the validated rewrite (tiny workload). If nothing is accepted the file
    is not written either way and the test passes vacuously (the jit rewrite of this
    kernel is accepted on the development VM)."""
    target = tmp_path / "ro.py"
    target.write_text(KERNEL)
    target.chmod(0o444)
    proc = run(
        [
            "rewrite",
            "ro.py",
            "--samples",
            "3",
            "--top-k",
            "1",
            "--no-store",
            "--setup",
            "import numpy as np; x = np.ones(2000)",
            "--call",
            "double(x, 2000)",
            "--write",
        ],
        tmp_path,
        prefix=_drop_dac(),
        timeout=300,
    )
    assert target.read_text() == KERNEL, "read-only file was rewritten"
    assert proc.returncode == 2, proc.stderr[-2000:]


def test_analyze_unreachable_scheduler_leaves_output(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(KERNEL)
    proc = run(
        ["analyze", "good.py", "--out", "res", "--scheduler", "tcp://127.0.0.1:1"],
        tmp_path,
        timeout=120,
    )
    assert_input_error(proc)
    assert not (tmp_path / "res").exists() or list((tmp_path / "res").iterdir()) == [], list(
        (tmp_path / "res").iterdir()
    )


@pytest.mark.parametrize(
    "bad",
    [
        ["--rtol", "nan"],
        ["--rtol", "-1"],
        ["--samples", "0"],
        ["--top-k", "-1"],
        ["--timeout", "-1"],
        ["--meter", "bogus"],
        ["--region", "XXX"],
        ["--carbon-intensity", "-1"],
        ["--memory-mb", "-5"],
    ],
    ids=lambda b: " ".join(b),
)
def test_static_rewrite_rejects_bad_flag_values(tmp_path: Path, bad: list[str]) -> None:
    """`rewrite --static` accepts (and ignores) values the validated rewrite rejects."""
    (tmp_path / "m.py").write_text(KERNEL)
    proc = run(["rewrite", "--static", "m.py", *bad], tmp_path)
    assert_input_error(proc)
    assert (tmp_path / "m.py").read_text() == KERNEL


@pytest.mark.parametrize(
    "toml",
    ["rtol = nan", "atol = inf", "carbon-intensity = inf", 'meter = "bogus"', 'region = "XXX"'],
)
def test_config_bad_values_rejected_by_check(tmp_path: Path, toml: str) -> None:
    """`[tool.greenopt] rtol = -1` is exit 2 for `check`, but `rtol = nan`, `atol = inf`,
    an unknown meter or region pass the config validation and `check` exits 1."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.greenopt]\n{toml}\n")
    (tmp_path / "m.py").write_text(KERNEL)
    proc = run(["check", "m.py"], tmp_path)
    assert_input_error(proc)
    assert "pyproject.toml" in proc.stderr


@pytest.mark.parametrize(
    "bad",
    [
        ["--warmup", "-1"],
        ["--min-sample-s", "-1"],
        ["--processes", "0"],
        ["--memory-mb", "-5"],
    ],
    ids=lambda b: b[0],
)
def test_measure_messages_name_the_flag(tmp_path: Path, bad: list[str]) -> None:
    """`warmup must be >= 0`, `min_sample_s must be > 0`, `processes must be ...`,
    `memory limit must be >= 64 MB`: the message should name the option given."""
    proc = run(
        ["measure", "--no-store", "--samples", "2", "--call", "1", *bad], tmp_path, timeout=60
    )
    assert_input_error(proc)
    assert bad[0] in proc.stderr, proc.stderr


def test_rewrite_min_sample_s_message_names_the_flag(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(KERNEL)
    proc = run(
        [
            "rewrite",
            "m.py",
            "--no-store",
            "--samples",
            "3",
            "--top-k",
            "1",
            "--setup",
            "import numpy as np; x = np.ones(10)",
            "--call",
            "double(x, 10)",
            "--min-sample-s",
            "nan",
        ],
        tmp_path,
        timeout=120,
    )
    assert_input_error(proc)
    assert "--min-sample-s" in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", [["rewrite", "--static", "m.py"], ["check", "m.py"]])
def test_output_dash_means_stdout(tmp_path: Path, command: list[str]) -> None:
    """`-o -` is exempted from output-path validation as "stdout"
    (`commands/options.check_output_path`) and `--json -` means stdout in measure/model,
    but `rewrite --static -o -` and `check -o -` write a file literally named `-`."""
    (tmp_path / "m.py").write_text(KERNEL)
    proc = run([*command, "-o", "-"], tmp_path)
    assert not (tmp_path / "-").exists(), "wrote a file named '-'"
    assert proc.stdout.strip(), proc.stderr


# --- beyond the audit's list ------------------------------------------------------------


def test_check_file_below_an_unsearchable_directory(tmp_path: Path) -> None:
    """A named file below a chmod-000 directory: `Path.is_dir()` raises PermissionError on
    Python 3.11 (config look-up, input checks, discovery); it is one error, the batch goes
    on, and `-o -` still prints the report."""
    (tmp_path / "ud" / "sub").mkdir(parents=True)
    (tmp_path / "ud" / "good.py").write_text(KERNEL)
    (tmp_path / "ud" / "sub" / "other.py").write_text(KERNEL)
    (tmp_path / "ud" / "sub").chmod(0)
    try:
        proc = run(
            ["check", "--no-predict", "ud/sub/other.py", "ud/good.py", "-o", "-"],
            tmp_path,
            prefix=_drop_dac(),
        )
    finally:
        (tmp_path / "ud" / "sub").chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert "ud/sub/other.py" in proc.stderr and "good.py:" in proc.stdout


def test_measure_and_rewrite_share_the_memory_floor(tmp_path: Path) -> None:
    """`--memory-mb 100` is refused by both commands with the same minimum."""
    (tmp_path / "m.py").write_text(KERNEL)
    measured = run(["measure", "--no-store", "--call", "1", "--memory-mb", "100"], tmp_path)
    rewritten = run(["rewrite", "--static", "m.py", "--memory-mb", "100"], tmp_path)
    for proc in (measured, rewritten):
        assert_input_error(proc)
        assert "--memory-mb 100" in proc.stderr and "at least 256 MB" in proc.stderr


def test_rewrite_static_output_dash_prints_the_new_code(tmp_path: Path) -> None:
    """`rewrite --static m.py -o -` prints the rewritten module, not a diff."""
    (tmp_path / "m.py").write_text(KERNEL)
    proc = run(["rewrite", "--static", "m.py", "-o", "-", "-q"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("import numpy as np") and "def double" in proc.stdout
    assert (tmp_path / "m.py").read_text() == KERNEL


def test_rewrite_json_dash_prints_the_report_alone(tmp_path: Path) -> None:
    """`rewrite --static m.py --json -` prints the JSON report on stdout instead of the
    diff (stdout holds one parseable document), and writes no file named `-`; several
    files give one combined report."""
    (tmp_path / "m.py").write_text(KERNEL)
    (tmp_path / "n.py").write_text(KERNEL)
    one = run(["rewrite", "--static", "m.py", "--json", "-"], tmp_path)
    assert one.returncode == 0, one.stderr
    report = json.loads(one.stdout)
    assert report["mode"] == "static" and report["path"] == "m.py"
    assert report["changed"] and report["applied"], report
    several = run(["rewrite", "--static", "m.py", "n.py", "--json", "-"], tmp_path)
    assert several.returncode == 0, several.stderr
    assert [f["path"] for f in json.loads(several.stdout)["files"]] == ["m.py", "n.py"]
    assert not (tmp_path / "-").exists(), "wrote a file named '-'"
    assert (tmp_path / "m.py").read_text() == KERNEL


def test_rewrite_json_dash_with_output_dash_is_refused(tmp_path: Path) -> None:
    """`-o - --json -` would interleave the code and the report on stdout: exit 2."""
    (tmp_path / "m.py").write_text(KERNEL)
    proc = run(["rewrite", "--static", "m.py", "-o", "-", "--json", "-"], tmp_path)
    assert_input_error(proc)
    assert "stdout" in proc.stderr and not proc.stdout
