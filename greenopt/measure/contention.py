"""How busy the machine was with *other* work while we measured (Linux ``/proc/stat``).

Energy and CPU-time readings taken while other processes compete for the cores are
biased, and `parallel=True` code suffers most: its threads wait for cores held by
someone else. `ContentionProbe` brackets a measurement and reports the average
number of CPUs that were busy with work other than this process and its waited-for
children (`foreign_cpus`), plus hypervisor steal time (`steal_cpus`, CPUs taken
by other guests of a VM)::

    foreign = (system busy time - own CPU time) / wall time

System busy time is the sum of the ``user nice system irq softirq`` columns of
``/proc/stat``'s aggregate ``cpu`` line (in clock ticks); own CPU time comes from
`resource.getrusage` (``RUSAGE_SELF`` + ``RUSAGE_CHILDREN``, so children must have
been waited for when the probe stops, as `greenopt.measure.runner` does). Where
``/proc/stat`` cannot be read (macOS, a sandbox) the probe reports nothing rather
than a guess.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: default ``/proc/stat`` location (tests pass a fake file)
PROC_STAT = "/proc/stat"
#: default limit: average foreign CPUs above which a measurement counts as contended
DEFAULT_MAX_OTHER_CPUS = 0.25


@dataclass(frozen=True)
class CpuSnapshot:
    """System-wide busy and steal seconds, this process tree's CPU seconds, and the clock."""

    busy_s: float
    steal_s: float
    own_s: float
    wall_s: float


@dataclass(frozen=True)
class Contention:
    """Average CPUs used by other work (`foreign_cpus`) and stolen (`steal_cpus`) over `wall_s`."""

    wall_s: float
    foreign_cpus: float
    steal_cpus: float

    @property
    def other_cpus(self) -> float:
        """CPUs taken by other work in all: foreign processes plus steal."""
        return self.foreign_cpus + self.steal_cpus

    def contended(self, max_other_cpus: float) -> bool:
        """True when other work (foreign or stolen) averaged more than `max_other_cpus` CPUs."""
        return self.other_cpus > max_other_cpus


def read_proc_stat(path: str | Path = PROC_STAT) -> tuple[float, float] | None:
    """(busy seconds, steal seconds) summed over all CPUs, or None when unreadable/malformed."""
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            first = fh.readline().split()
    except OSError:
        return None
    if len(first) < 5 or first[0] != "cpu":
        return None
    try:
        ticks = [int(v) for v in first[1:]]
    except ValueError:
        return None
    ticks += [0] * (8 - len(ticks))
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks[:8]
    hz = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
    return (user + nice + system + irq + softirq) / hz, steal / hz


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process and of every child it has waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class ContentionProbe:
    """Brackets a measurement: `start()`, run it (waiting for its children), `stop()`.

    `stat_path`, `own_cpu` and `clock` are the probe's inputs, replaceable in tests.
    """

    stat_path: str | Path = PROC_STAT
    own_cpu: Callable[[], float] = own_cpu_seconds
    clock: Callable[[], float] = time.monotonic
    _start: CpuSnapshot | None = None

    def snapshot(self) -> CpuSnapshot | None:
        """The current counters, or None when the system's are unreadable."""
        stat = read_proc_stat(self.stat_path)
        if stat is None:
            return None
        return CpuSnapshot(
            busy_s=stat[0], steal_s=stat[1], own_s=self.own_cpu(), wall_s=self.clock()
        )

    def start(self) -> None:
        """Take the opening snapshot."""
        self._start = self.snapshot()

    def stop(self) -> Contention | None:
        """Contention since `start()`; None when unreadable or no time passed."""
        begin, end = self._start, self.snapshot()
        self._start = None
        if begin is None or end is None:
            return None
        wall = end.wall_s - begin.wall_s
        if wall <= 0:
            return None
        foreign = (end.busy_s - begin.busy_s) - (end.own_s - begin.own_s)
        steal = end.steal_s - begin.steal_s
        return Contention(
            wall_s=wall,
            foreign_cpus=max(0.0, foreign / wall),
            steal_cpus=max(0.0, steal / wall),
        )


def wait_until_quiet(
    probe: ContentionProbe,
    max_other_cpus: float,
    timeout_s: float,
    window_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Contention | None:
    """Watch `window_s`-long windows until one is quiet or `timeout_s` has passed.

    Returns the last window's contention (None when unreadable, which ends the wait).
    """
    deadline = probe.clock() + timeout_s
    while True:
        probe.start()
        sleep(window_s)
        seen = probe.stop()
        if seen is None or not seen.contended(max_other_cpus) or probe.clock() >= deadline:
            return seen
