"""The ``rapl`` meter: Intel/AMD RAPL energy counters read directly from Linux powercap.

Zones (``/sys/class/powercap``, or `$GREENOPT_POWERCAP_ROOT` for containers that
mount it elsewhere and for tests with fake trees):

* ``<type>:N`` top-level zones whose ``name`` is ``package-M`` give one domain per
  socket (``package-M``); their ``dram`` sub-zone (``<type>:N:K`` named ``dram``)
  gives ``dram-M``. ``core`` and ``uncore`` sub-zones are parts of the package
  figure and are never added.
* ``psys`` (whole SoC on client parts) includes the packages: used only when the
  machine has no package zone, never on top of them.
* ``intel-rapl-mmio`` exposes the same package counters as the MSR interface
  ``intel-rapl``: a domain found under both is read once, from the MSR zone.

Counters are µJ in ``energy_uj`` and wrap at ``max_energy_range_uj``. A decrease
between two reads is one wrap and is corrected by adding the range; to make sure no
second wrap hides between reads, a polling thread reads all counters at a quarter of
the shortest time any zone could take to wrap (at `ASSUMED_MAX_POWER_W`, or 1.5x the
zone's ``constraint_0_max_power_uw`` when readable), clamped to [5 ms, 10 s]. A zone
without a readable max file still works until it wraps; then the reading fails
rather than report a wrong number.

Since Linux 5.10 (CVE-2020-8694) ``energy_uj`` is readable by root only; the
resulting `MeterError` says how to fix it.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from greenopt.errors import MeterError
from greenopt.measure.meter import Meter, MeterInfo, Reading

ROOT_ENV = "GREENOPT_POWERCAP_ROOT"
DEFAULT_ROOT = "/sys/class/powercap"
#: Power bound used to size the polling interval when a zone states no max power.
ASSUMED_MAX_POWER_W = 1000.0
MIN_POLL_S = 0.005
MAX_POLL_S = 10.0

PERMISSION_FIX = (
    "run as root, or `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*:*/energy_uj` (until reboot), or add the udev rule "
    '`SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod a+r /sys%p/energy_uj"` '
    "to /etc/udev/rules.d/90-powercap.rules"
)

_TOP = re.compile(r"(?P<type>[\w-]*rapl[\w-]*):(?P<idx>\d+)")
_SUB = re.compile(r"(?P<type>[\w-]*rapl[\w-]*):(?P<idx>\d+):(?P<sub>\d+)")
_PACKAGE = re.compile(r"package-(\d+)")


def powercap_root() -> Path:
    """The powercap directory: `$GREENOPT_POWERCAP_ROOT` or /sys/class/powercap."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


@dataclass(frozen=True)
class RaplZone:
    """One counter to read: its domain name, directory, and wrap range (None if unknown)."""

    domain: str
    path: Path
    max_range_uj: int | None
    max_power_w: float | None = None

    @property
    def energy_file(self) -> Path:
        """The ``energy_uj`` counter file."""
        return self.path / "energy_uj"


def _read_text(path: Path) -> str | None:
    """A small sysfs file's text, or None when it does not exist."""
    try:
        return path.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _read_optional_int(path: Path) -> int | None:
    """An integer sysfs attribute, or None when missing or unreadable."""
    try:
        text = path.read_text().strip()
        return int(text)
    except (OSError, ValueError):
        return None


def read_energy_uj(path: Path) -> int:
    """Read one µJ counter; a permission problem becomes a MeterError with the fix."""
    try:
        return int(path.read_text().strip())
    except PermissionError:
        raise MeterError(f"rapl: permission denied reading {path}; fix: {PERMISSION_FIX}") from None
    except (OSError, ValueError) as exc:
        raise MeterError(f"rapl: cannot read {path}: {exc}") from None


def _zone(domain: str, path: Path) -> RaplZone:
    """A RaplZone for the zone directory `path`, with its wrap range and power limit."""
    max_power_uw = _read_optional_int(path / "constraint_0_max_power_uw")
    return RaplZone(
        domain=domain,
        path=path,
        max_range_uj=_read_optional_int(path / "max_energy_range_uj"),
        max_power_w=max_power_uw / 1e6 if max_power_uw else None,
    )


def _subzone_dirs(root: Path, top: Path, ctl: str, idx: str) -> list[Path]:
    """Sub-zone directories of a top zone, whether listed flat in root or nested in the zone."""
    found: dict[str, Path] = {}
    for base in (root, top):
        try:
            entries = list(base.iterdir())
        except OSError:
            continue
        for entry in entries:
            m = _SUB.fullmatch(entry.name)
            if m and m["type"] == ctl and m["idx"] == idx and entry.is_dir():
                found.setdefault(entry.name, entry)
    return [found[k] for k in sorted(found)]


def discover_zones(root: Path | None = None) -> list[RaplZone]:
    """The zones to sum on this machine (see the module docstring for the rules)."""
    root = powercap_root() if root is None else Path(root)
    if not root.is_dir():
        raise MeterError(
            f"rapl: no powercap interface at {root} (no RAPL on this machine or not mounted)"
        )
    tops: list[tuple[str, str, Path]] = []
    for entry in sorted(root.iterdir()):
        m = _TOP.fullmatch(entry.name)
        if m and entry.is_dir():
            tops.append((m["type"], m["idx"], entry))
    packages: dict[str, tuple[int, RaplZone]] = {}
    drams: dict[str, tuple[int, RaplZone]] = {}
    psys: RaplZone | None = None
    for ctl, idx, path in tops:
        name = _read_text(path / "name") or ""
        # MSR ("intel-rapl") first, then other interfaces; mmio duplicates lose.
        rank = 2 if "mmio" in ctl else (0 if ctl == "intel-rapl" else 1)
        pm = _PACKAGE.fullmatch(name)
        if pm:
            domain = f"package-{pm.group(1)}"
            if domain not in packages or rank < packages[domain][0]:
                packages[domain] = (rank, _zone(domain, path))
            for sub in _subzone_dirs(root, path, ctl, idx):
                if (_read_text(sub / "name") or "") == "dram":
                    ddomain = f"dram-{pm.group(1)}"
                    if ddomain not in drams or rank < drams[ddomain][0]:
                        drams[ddomain] = (rank, _zone(ddomain, sub))
        elif name == "psys" and psys is None:
            psys = _zone("psys", path)
        elif name == "dram":
            ddomain = f"dram-{idx}"
            if ddomain not in drams or rank < drams[ddomain][0]:
                drams[ddomain] = (rank, _zone(ddomain, path))
    zones = [z for _, z in sorted(packages.values(), key=lambda rz: rz[1].domain)]
    zones += [z for _, z in sorted(drams.values(), key=lambda rz: rz[1].domain)]
    if not packages:
        if psys is None:
            raise MeterError(f"rapl: no package or psys zone under {root}")
        zones = [psys]
    return zones


class _Counter:
    """Accumulates one zone's µJ across wraps."""

    def __init__(self, zone: RaplZone) -> None:
        """Take the first reading of the zone's counter."""
        self.zone = zone
        self.last = read_energy_uj(zone.energy_file)
        self.total_uj = 0

    def update(self) -> None:
        """Read the counter and add the delta since the last read, correcting one wrap."""
        raw = read_energy_uj(self.zone.energy_file)
        delta = raw - self.last
        if delta < 0:
            if self.zone.max_range_uj is None:
                raise MeterError(
                    f"rapl: counter {self.zone.energy_file} wrapped but "
                    f"{self.zone.path / 'max_energy_range_uj'} is missing or unreadable; cannot correct"
                )
            delta += self.zone.max_range_uj
        self.last = raw
        self.total_uj += delta


def poll_interval_for(zones: list[RaplZone]) -> float:
    """A quarter of the shortest possible wrap time over `zones`, clamped to [5 ms, 10 s]."""
    interval = MAX_POLL_S
    for z in zones:
        if not z.max_range_uj:
            continue
        power = 1.5 * z.max_power_w if z.max_power_w else ASSUMED_MAX_POWER_W
        interval = min(interval, z.max_range_uj / 1e6 / power / 4)
    return max(MIN_POLL_S, interval)


@dataclass
class RaplMeter(Meter):
    """Package (+ DRAM) energy from powercap; see the module docstring."""

    root: Path | None = None
    poll_interval_s: float | None = None
    zones: list[RaplZone] = field(init=False)
    info: MeterInfo = field(init=False)

    def __post_init__(self) -> None:
        """Discover the zones, check they are readable (fail early, with the fix), size the polling."""
        self.zones = discover_zones(self.root)
        for z in self.zones:  # fail now (with the fix) rather than mid-measurement
            read_energy_uj(z.energy_file)
        if self.poll_interval_s is None:
            self.poll_interval_s = poll_interval_for(self.zones)
        self.info = MeterInfo(
            name="rapl", measured=True, domains=tuple(z.domain for z in self.zones)
        )
        self._counters: list[_Counter] = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: MeterError | None = None
        self._t0 = 0.0

    def _poll(self) -> None:
        """Polling thread: read all counters every `poll_interval_s` until stopped."""
        assert self.poll_interval_s is not None
        while not self._stop_event.wait(self.poll_interval_s):
            with self._lock:
                if self._stop_event.is_set():
                    return
                try:
                    for c in self._counters:
                        c.update()
                except MeterError as exc:
                    self._error = exc
                    return

    def start(self) -> None:
        """Read every counter and start the polling thread."""
        self._error = None
        with self._lock:
            self._counters = [_Counter(z) for z in self.zones]
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._poll, name="greenopt-rapl-poll", daemon=True)
        self._t0 = time.perf_counter()
        self._thread.start()

    def stop(self) -> Reading:
        """Final read of every counter; joules per domain since `start()`."""
        with self._lock:
            wall = time.perf_counter() - self._t0
            for c in self._counters:
                c.update()
            self._stop_event.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        return Reading(
            joules={c.zone.domain: c.total_uj / 1e6 for c in self._counters}, wall_s=wall
        )

    def close(self) -> None:
        """Stop the polling thread if a measurement was left running."""
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
