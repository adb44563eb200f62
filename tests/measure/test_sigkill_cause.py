"""A child killed by SIGKILL is called out of memory only on evidence (the kernel's OOM-kill
count rose meanwhile), and a child that stops answering without exiting is named as such."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.measure import runner
from greenopt.measure.processes import oom_kills, sigkill_cause
from greenopt.measure.runner import ChildCrashed, ChildOutOfMemory, RunOptions, measure
from greenopt.measure.workload import Workload
from greenopt.optimizer import executor
from greenopt.optimizer.executor import ChildLimits, run_child

QUICK = RunOptions(samples=2, min_sample_s=0.01, timeout_s=30, idle_baseline=False)
KILLED = Workload(setup="import os", calls=("os.kill(os.getpid(), 9)",))
needs_counter = pytest.mark.skipif(oom_kills() is None, reason="no oom_kill in /proc/vmstat")


def test_oom_kills_reads_the_vmstat_counter(tmp_path: Path) -> None:
    vmstat = tmp_path / "vmstat"
    vmstat.write_text("nr_free_pages 12\noom_kill 7\npgfault 3\n")
    assert oom_kills(str(vmstat)) == 7
    vmstat.write_text("nr_free_pages 12\n")  # kernels before 4.13
    assert oom_kills(str(vmstat)) is None
    vmstat.write_text("oom_kill many\n")
    assert oom_kills(str(vmstat)) is None
    assert oom_kills(str(tmp_path / "missing")) is None


def test_sigkill_cause() -> None:
    assert sigkill_cause(3, 4) == "oom"
    assert sigkill_cause(3, 3) == "other"
    assert sigkill_cause(None, 3) == sigkill_cause(3, None) == "unknown"


@needs_counter
def test_measure_says_a_sigkill_without_an_oom_kill_came_from_elsewhere() -> None:
    with pytest.raises(ChildCrashed) as info:
        measure(KILLED, "estimate", QUICK)
    assert not isinstance(info.value, ChildOutOfMemory)
    assert "killed by SIGKILL (not by the kernel's OOM killer" in str(info.value)


def test_measure_calls_it_out_of_memory_when_the_oom_count_rose(monkeypatch) -> None:
    counts = iter([5, 6])
    monkeypatch.setattr(runner, "oom_kills", lambda: next(counts))
    with pytest.raises(ChildOutOfMemory, match="killed by the kernel's OOM killer"):
        measure(KILLED, "estimate", QUICK)


def test_measure_without_a_counter_keeps_the_hedged_guess(monkeypatch) -> None:
    monkeypatch.setattr(runner, "oom_kills", lambda: None)
    with pytest.raises(ChildOutOfMemory, match="most likely out of memory"):
        measure(KILLED, "estimate", QUICK)


@needs_counter
def test_worker_says_a_sigkill_without_an_oom_kill_is_a_crash() -> None:
    wl = Workload(setup="import os\nos.kill(os.getpid(), 9)", calls=("1",))
    out = run_child("outputs", {"workload": wl}, ChildLimits(30, 2048))
    assert out.status == "crash", out
    assert "not by the kernel's OOM killer" in out.message


def test_worker_calls_it_oom_when_the_oom_count_rose(monkeypatch) -> None:
    counts = iter([5, 6])
    monkeypatch.setattr(executor, "oom_kills", lambda: next(counts))
    wl = Workload(setup="import os\nos.kill(os.getpid(), 9)", calls=("1",))
    out = run_child("outputs", {"workload": wl}, ChildLimits(30, 2048))
    assert out.status == "oom" and out.message == "killed by the kernel's OOM killer", out


def test_a_child_that_closes_its_pipes_and_lives_on_is_not_called_out_of_memory() -> None:
    # it used to be killed, then reported as "killed by SIGKILL, most likely out of memory"
    wl = Workload(setup="import os, time\nos.closerange(3, 4096)\ntime.sleep(60)", calls=("1",))
    with pytest.raises(ChildCrashed) as info:
        measure(wl, "estimate", QUICK)
    assert not isinstance(info.value, ChildOutOfMemory)
    assert "stopped answering but did not exit" in str(info.value)
