"""A child's stderr is drained into a bounded buffer: a workload printing without end
fills neither the disk nor the parent's memory, and a crash still shows its last line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from greenopt.measure.processes import StderrTail
from greenopt.measure.runner import ChildCrashed, RunOptions, measure
from greenopt.measure.workload import Workload
from greenopt.optimizer.executor import ChildLimits, run_child

QUICK = RunOptions(samples=2, min_sample_s=0.01, timeout_s=30, idle_baseline=False)

#: 20 MB on stderr, then a last line; the setup checks that its stderr is no file on disk
CHATTY = (
    "import os, stat, sys\n"
    "assert not stat.S_ISREG(os.fstat(2).st_mode), 'stderr is a file'\n"
    "for _ in range(20):\n"
    "    sys.stderr.write('x' * (1 << 20) + '\\n')\n"
    "sys.stderr.write('the last words\\n')\n"
    "sys.stderr.flush()\n"
)


def test_tail_keeps_only_the_end_of_a_long_stream() -> None:
    tail = StderrTail(keep=1000)
    code = "import sys\nfor i in range(200000): sys.stderr.write(f'line {i}\\n')"
    try:
        proc = subprocess.Popen([sys.executable, "-c", code], stderr=tail.write_fd)
    finally:
        tail.started()
    assert proc.wait(60) == 0
    text = tail.text()
    assert len(text) == 1000
    assert text.endswith("line 199999\n")
    assert len(tail._kept) <= 2 * 1000  # never more than twice what it keeps


def test_tail_of_a_process_that_never_started_is_empty() -> None:
    tail = StderrTail()
    with pytest.raises(FileNotFoundError):
        try:
            subprocess.Popen(["/nonexistent/greenopt-test"], stderr=tail.write_fd)
        finally:
            tail.started()
    assert tail.text() == ""


def test_measure_after_a_flood_of_stderr_still_names_the_last_line() -> None:
    wl = Workload(setup=CHATTY + "os._exit(3)\n", calls=("1",))
    with pytest.raises(ChildCrashed) as info:
        measure(wl, "estimate", QUICK)
    assert str(info.value) == "child process exited with status 3 (the last words)"


def test_measure_runs_a_workload_that_floods_stderr() -> None:
    m = measure(Workload(setup=CHATTY, calls=("sum(range(100))",)), "estimate", QUICK)
    assert m.samples == 2


def test_worker_after_a_flood_of_stderr_reports_its_last_line() -> None:
    wl = Workload(setup=CHATTY + "os._exit(3)\n", calls=("1",))
    out = run_child("outputs", {"workload": wl}, ChildLimits(30, 2048))
    assert out.status == "crash"
    assert out.message == "child exited with code 3: the last words", out.message
