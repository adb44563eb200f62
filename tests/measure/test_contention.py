"""The contention probe (fake /proc/stat) and training's re-measurement of disturbed comparisons."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from greenopt.measure.contention import (
    Contention,
    ContentionProbe,
    read_proc_stat,
    wait_until_quiet,
)
from greenopt.models.collect import CollectOptions, Collector
from greenopt.store import Store

HZ = float(os.sysconf("SC_CLK_TCK"))


def write_stat(path: Path, user: int, system: int = 0, steal: int = 0, idle: int = 1000) -> None:
    """A /proc/stat with the aggregate line and one per-CPU line (ticks)."""
    path.write_text(
        f"cpu  {user} 0 {system} {idle} 0 0 0 {steal} 0 0\n"
        f"cpu0 {user} 0 {system} {idle} 0 0 0 {steal} 0 0\n"
        "intr 1 2 3\nctxt 42\n"
    )


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_read_proc_stat_sums_busy_columns_and_steal(tmp_path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 5000 7 3 2 11 0 0\n")
    busy, steal = read_proc_stat(stat)
    assert busy == pytest.approx((100 + 20 + 30 + 3 + 2) / HZ)
    assert steal == pytest.approx(11 / HZ)


@pytest.mark.parametrize("text", ["", "intr 1 2\n", "cpu  a b c d\n", "cpu 1 2\n"])
def test_read_proc_stat_malformed_is_none(tmp_path, text) -> None:
    stat = tmp_path / "stat"
    stat.write_text(text)
    assert read_proc_stat(stat) is None


def test_read_proc_stat_missing_is_none(tmp_path) -> None:
    assert read_proc_stat(tmp_path / "nope") is None


def test_read_proc_stat_of_this_machine() -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat here")
    busy, steal = read_proc_stat()
    assert busy > 0 and steal >= 0


def test_probe_subtracts_own_cpu_time(tmp_path) -> None:
    """2 s wall; the system was busy 3 CPU-s, 1.5 of them ours: 0.75 foreign CPUs."""
    stat, clock, own = tmp_path / "stat", Clock(), [10.0]
    probe = ContentionProbe(stat_path=stat, own_cpu=lambda: own[0], clock=clock)
    write_stat(stat, user=1000, steal=50)
    probe.start()
    write_stat(stat, user=1000 + int(2 * HZ), system=int(1 * HZ), steal=50 + int(0.2 * HZ))
    own[0] += 1.5
    clock.now += 2.0
    seen = probe.stop()
    assert seen is not None
    assert seen.wall_s == pytest.approx(2.0)
    assert seen.foreign_cpus == pytest.approx(0.75)
    assert seen.steal_cpus == pytest.approx(0.1)
    assert seen.other_cpus == pytest.approx(0.85)
    assert seen.contended(0.5) and not seen.contended(1.0)


def test_probe_clamps_negative_foreign_time(tmp_path) -> None:
    """Own CPU time slightly above the tick-sampled system total is not negative load."""
    stat, clock, own = tmp_path / "stat", Clock(), [0.0]
    probe = ContentionProbe(stat_path=stat, own_cpu=lambda: own[0], clock=clock)
    write_stat(stat, user=0)
    probe.start()
    write_stat(stat, user=int(HZ))
    own[0] = 1.05
    clock.now += 1.0
    seen = probe.stop()
    assert seen is not None and seen.foreign_cpus == 0.0


def test_probe_without_proc_stat_reports_nothing(tmp_path) -> None:
    probe = ContentionProbe(stat_path=tmp_path / "missing")
    probe.start()
    assert probe.stop() is None


class ScriptedProbe(ContentionProbe):
    """A probe whose `stop()` returns the next scripted contention (None: unreadable)."""

    def __init__(self, script: list[float | None]) -> None:
        super().__init__(clock=Clock())
        self.script = list(script)
        self.stops = 0

    def start(self) -> None:
        pass

    def stop(self) -> Contention | None:
        self.stops += 1
        self.clock.now += 1.0  # type: ignore[attr-defined]
        value = self.script.pop(0)
        return None if value is None else Contention(1.0, value, 0.0)


def test_wait_until_quiet_returns_at_the_first_quiet_window() -> None:
    probe, slept = ScriptedProbe([1.0, 0.9, 0.1, 1.0]), []
    seen = wait_until_quiet(probe, 0.25, timeout_s=60, sleep=slept.append)
    assert seen is not None and seen.foreign_cpus == 0.1
    assert probe.stops == 3 and slept == [1.0, 1.0, 1.0]


def test_wait_until_quiet_gives_up_at_the_timeout() -> None:
    probe = ScriptedProbe([1.0] * 10)
    seen = wait_until_quiet(probe, 0.25, timeout_s=2.5, sleep=lambda s: None)
    assert seen is not None and seen.contended(0.25)
    assert probe.stops == 3


def test_wait_until_quiet_unreadable_ends_the_wait() -> None:
    probe = ScriptedProbe([None, 0.1])
    assert wait_until_quiet(probe, 0.25, timeout_s=60, sleep=lambda s: None) is None
    assert probe.stops == 1


def _collector(tmp_path, script, retries=2) -> tuple[Collector, ScriptedProbe]:
    probe = ScriptedProbe(script)
    collector = Collector(
        Store(tmp_path / "s.sqlite"),
        CollectOptions(retries=retries, max_other_cpus=0.25, quiet_wait_s=0.0),
        "estimate",
        False,
        "m",
        workdir=str(tmp_path),
        probe=probe,
        sleep=lambda s: None,
    )
    return collector, probe


def test_contended_comparison_is_measured_again(tmp_path) -> None:
    # measurement 1 contended (0.9), quiet window (0.0), measurement 2 quiet (0.05)
    collector, _ = _collector(tmp_path, [0.9, 0.0, 0.05])
    results = iter(["first", "second"])
    retries: list[int] = []
    value, seen, attempts = collector._compare_quietly(lambda: next(results), retries.append)
    collector.close()
    assert (value, attempts, retries) == ("second", 2, [1])
    assert seen is not None and seen.foreign_cpus == 0.05


def test_always_contended_keeps_the_least_disturbed_result(tmp_path) -> None:
    # measurements at 0.9, 0.5, 0.7, each retry preceded by a (still busy) wait window
    collector, _ = _collector(tmp_path, [0.9, 1.0, 0.5, 1.0, 0.7])
    results = iter(["a", "b", "c"])
    value, seen, attempts = collector._compare_quietly(lambda: next(results))
    collector.close()
    assert (value, attempts) == ("b", 3)
    assert seen is not None and seen.foreign_cpus == 0.5


def test_quiet_comparison_is_measured_once(tmp_path) -> None:
    collector, probe = _collector(tmp_path, [0.1])
    value, seen, attempts = collector._compare_quietly(lambda: "only")
    collector.close()
    assert (value, attempts, probe.stops) == ("only", 1, 1)


def test_no_retries_records_a_contended_result_as_is(tmp_path) -> None:
    collector, _ = _collector(tmp_path, [0.9], retries=0)
    value, seen, attempts = collector._compare_quietly(lambda: "x")
    collector.close()
    assert (value, attempts) == ("x", 1) and seen is not None and seen.contended(0.25)


def test_unreadable_system_counters_keep_the_first_result(tmp_path) -> None:
    collector, _ = _collector(tmp_path, [None])
    value, seen, attempts = collector._compare_quietly(lambda: "x")
    collector.close()
    assert (value, seen, attempts) == ("x", None, 1)


def _stored_row(size: str, status: str, other: float | None):
    from greenopt.models.table import TrainingRow

    return TrainingRow(
        kernel="fa/k",
        family="fa",
        size=size,
        function="k",
        candidate="c1",
        passes=["jit"],
        recipe="jit",
        status=status,
        meter="estimate",
        measured=False,
        machine_id="m",
        ratio=0.5 if status == "measured" else None,
        other_cpus=other,
    )


@pytest.mark.parametrize("remeasure", [False, True])
def test_remeasure_contended_reopens_disturbed_and_unknown_rows(tmp_path, remeasure) -> None:
    from greenopt.models.table import record_row

    store = Store(tmp_path / "s.sqlite")
    rows = {
        "quiet": _stored_row("quiet", "measured", 0.1),
        "busy": _stored_row("busy", "measured", 0.9),
        "unknown": _stored_row("unknown", "measured", None),  # before the probe existed
        "rejected": _stored_row("rejected", "not-equivalent", None),
    }
    for row in rows.values():
        record_row(store, row)
    collector = Collector(
        store,
        CollectOptions(max_other_cpus=0.25, remeasure_contended=remeasure),
        "estimate",
        False,
        "m",
        workdir=str(tmp_path),
    )
    done = {key[1] for key in collector.done}
    collector.close()
    assert done == ({"quiet", "rejected"} if remeasure else set(rows))
