"""SIGTERM is handled like Ctrl-C: children killed, temporary directories removed, exit 143."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from greenopt.cli import main

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/cmdline").exists(), reason="needs /proc to find the child"
)


def _pids_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """True as soon as `condition()` holds, False if it never did within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_sigterm_kills_the_child_and_removes_the_temp_dir(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"  # a private TMPDIR: only this run's directories and children
    tmp.mkdir()
    env = dict(
        os.environ,
        TMPDIR=str(tmp),
        GREENOPT_POWERCAP_ROOT=str(tmp_path / "no-powercap"),
        GREENOPT_PERF=str(tmp_path / "no-perf"),
    )
    args = ["--setup", "x = list(range(10**5))", "--call", "sum(x)", "--min-sample-s", "1000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenopt", "measure", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        started = _wait_for(lambda: bool(_pids_mentioning(str(tmp))), 30)
        assert started, "the measurement child never started"
        time.sleep(0.5)  # let the child reach its sampling loop
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 143
        lines = [ln for ln in err.decode().splitlines() if ln.strip()]
        assert lines[-1] == "greenopt: terminated" and "Traceback" not in err.decode()
        assert _wait_for(lambda: not _pids_mentioning(str(tmp)), 5), "child left running"
        assert not list(tmp.glob("greenopt-run-*"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _pids_mentioning(str(tmp)):  # only after a failure: this run's children
            os.kill(pid, signal.SIGKILL)


def test_main_restores_the_previous_sigterm_handler(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert main(["--version"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
