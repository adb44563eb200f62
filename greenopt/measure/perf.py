"""The ``perf`` meter: RAPL energy through Linux perf events (``power/energy-pkg/``, ``energy-ram``).

Useful where powercap is not exposed but the ``power`` PMU is (AMD Zen included).
The meter runs ``perf stat -a -x, -I 100 -e power/energy-pkg/[,power/energy-ram/]``
for each interval. Interval mode is what makes the start exact: perf needs some
milliseconds to open its counters, and its first interval line proves they are
counting; `start()` returns at that line and the energy of that first interval is
discarded, so the figure covers (first line, SIGINT] ≈ the timed region. `stop()`
sends SIGINT; should perf not print the last partial interval, the energy of the
covered intervals is scaled to the sample's wall time (at most one interval of
100 ms is extrapolated, hence the ≥ 1 s default sample for hardware meters).

The perf binary is ``$GREENOPT_PERF`` or ``perf`` on PATH. System-wide events need
``kernel.perf_event_paranoid`` <= 0 or root / CAP_PERFMON; the MeterError says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

from greenopt.errors import MeterError
from greenopt.measure.meter import Meter, MeterInfo, Reading

PERF_ENV = "GREENOPT_PERF"
EVENTS = {"package": "power/energy-pkg/", "dram": "power/energy-ram/"}
INTERVAL_MS = 100
START_TIMEOUT_S = 10.0

PARANOID_FIX = (
    "run as root, or `sudo sysctl kernel.perf_event_paranoid=0` (or grant CAP_PERFMON to perf)"
)


def perf_binary() -> str:
    """The perf executable to use, or MeterError when none is installed."""
    explicit = os.environ.get(PERF_ENV)
    found = shutil.which(explicit) if explicit else shutil.which("perf")
    if not found:
        raise MeterError("perf: the perf tool is not installed (package linux-tools / linux-perf)")
    return found


@dataclass(frozen=True)
class PerfLine:
    """One parsed CSV record of ``perf stat -x,``."""

    time_s: float | None
    value: float | None  # None for <not counted> / <not supported>
    unit: str
    event: str


def parse_line(line: str, interval: bool) -> PerfLine | None:
    """Parse one ``-x,`` output line; None for comments and blank lines."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    fields = line.split(",")
    t: float | None = None
    if interval:
        try:
            t = float(fields[0])
        except (ValueError, IndexError):
            return None
        fields = fields[1:]
    if len(fields) < 3:
        return None
    raw, unit, event = fields[0].strip(), fields[1].strip(), fields[2].strip()
    if not event:
        return None
    try:
        value: float | None = float(raw)
    except ValueError:
        if raw.startswith("<"):
            value = None
        else:
            return None
    return PerfLine(time_s=t, value=value, unit=unit, event=event)


def _explain_failure(stderr: str) -> str:
    """One-line reason (with the fix where there is one) from perf's stderr."""
    low = stderr.lower()
    if "paranoid" in low or "permission" in low or "access to performance monitoring" in low:
        return f"system-wide energy events not permitted; fix: {PARANOID_FIX}"
    if "event syntax error" in low or "unknown term" in low or "not supported" in low:
        return "the kernel exposes no power/energy-pkg/ event on this machine"
    tail = " ".join(stderr.split())[:200]
    return tail or "perf failed"


def probe_events(binary: str) -> list[str]:
    """Domains (``package``, ``dram``) whose events perf can count system-wide here."""
    domains: list[str] = []
    reason = ""
    for domain, event in EVENTS.items():
        try:
            proc = subprocess.run(
                [binary, "stat", "-a", "-x", ",", "-e", event, "--", "sleep", "0.01"],
                capture_output=True,
                text=True,
                timeout=15,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MeterError(f"perf: cannot run {binary}: {exc}") from None
        parsed = [parse_line(line, interval=False) for line in proc.stderr.splitlines()]
        ok = proc.returncode == 0 and any(p is not None and p.value is not None for p in parsed)
        if ok:
            domains.append(domain)
        elif domain == "package":
            reason = _explain_failure(proc.stderr)
            break
    if "package" not in domains:
        raise MeterError(f"perf: {reason}")
    return domains


def _to_joules(value: float, unit: str) -> float:
    """A perf energy value in joules, whatever unit perf printed."""
    unit = unit.strip().lower()
    if unit in ("joules", "j", ""):
        return value
    if unit in ("mj", "millijoules"):
        return value / 1e3
    if unit in ("uj", "microjoules"):
        return value / 1e6
    return value


@dataclass
class PerfMeter(Meter):
    """Package (+ DRAM) energy from ``perf stat -a`` in interval mode."""

    binary: str | None = None
    info: MeterInfo = field(init=False)

    def __post_init__(self) -> None:
        """Find perf and the events it can count here."""
        self.binary = self.binary or perf_binary()
        self.domains = probe_events(self.binary)
        self.info = MeterInfo(
            name="perf", measured=True, domains=tuple(f"{d}-all" for d in self.domains)
        )
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._first = threading.Event()
        self._reader: threading.Thread | None = None
        self._t0 = 0.0

    def _read(self) -> None:
        """Reader thread: collect perf's stderr lines and signal the first interval line."""
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._lines.append(line)
            if parse_line(line, interval=True) is not None:
                self._first.set()
        self._first.set()

    def start(self) -> None:
        """Launch perf and return once its first interval line shows the counters are live."""
        assert self.binary is not None
        events = ",".join(EVENTS[d] for d in self.domains)
        self._lines = []
        self._first.clear()
        self._proc = subprocess.Popen(
            [self.binary, "stat", "-a", "-x", ",", "-I", str(INTERVAL_MS), "-e", events],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, name="greenopt-perf", daemon=True)
        self._reader.start()
        if not self._first.wait(START_TIMEOUT_S) or self._proc.poll() not in (None, 0):
            self.close()
            raise MeterError(f"perf: {_explain_failure(''.join(self._lines))}")
        self._t0 = time.perf_counter()

    def stop(self) -> Reading:
        """SIGINT perf, collect its interval lines and sum those after the first interval."""
        if self._proc is None:
            raise MeterError("perf: stop() without start()")
        wall = time.perf_counter() - self._t0
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._proc = None
        return Reading(joules=self.sum_lines(self._lines, wall), wall_s=wall)

    def sum_lines(self, lines: list[str], wall_s: float | None = None) -> dict[str, float]:
        """Joules per domain from interval lines, excluding the first interval.

        If perf did not print the last partial interval (the lines cover less than
        `wall_s`), the covered energy is scaled up to `wall_s`: the missing tail is at
        most one interval, charged at the run's average power. Lines stamped more
        than one interval after the sample's end are not the sample's: they come from
        a perf that went on counting after the SIGINT (until `stop` killed it).
        """
        parsed = [p for p in (parse_line(line, interval=True) for line in lines) if p is not None]
        if not parsed:
            raise MeterError("perf: no counter output")
        times = [p.time_s for p in parsed if p.time_s is not None]
        first_t = min(times)
        if wall_s is not None:
            end = first_t + wall_s + INTERVAL_MS / 1000.0
            parsed = [p for p in parsed if p.time_s is None or p.time_s <= end]
            times = [t for t in times if t <= end]
        last_t = max(times)
        if last_t <= first_t:
            raise MeterError(
                f"perf: no complete {INTERVAL_MS} ms interval inside the sample; use longer samples (--min-sample-s)"
            )
        covered = last_t - first_t
        scale = wall_s / covered if wall_s is not None and wall_s > covered else 1.0
        out = {f"{d}-all": 0.0 for d in self.domains}
        for p in parsed:
            if p.time_s is None or p.time_s <= first_t:
                continue
            if p.value is None:
                raise MeterError(f"perf: event {p.event} was not counted")
            for d, event in EVENTS.items():
                if f"{d}-all" in out and p.event.rstrip("/").endswith(
                    event.strip("/").split("/")[-1]
                ):
                    out[f"{d}-all"] += _to_joules(p.value, p.unit)
        return {k: v * scale for k, v in out.items()}

    def close(self) -> None:
        """Kill a perf process left running."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
