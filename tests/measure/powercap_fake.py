"""Fake Linux powercap trees in temporary directories, for testing the RAPL reader.

`FakePowercap` lays zones out like /sys/class/powercap (flat `intel-rapl:N` and
`intel-rapl:N:M` directories, each with `name`, `energy_uj`, `max_energy_range_uj`);
`PowerWriter` is a background thread that advances a zone's counter at a known
power from a clock (so the value is exact whatever the write cadence), wrapping at
the zone's range like the hardware counter.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


class FakePowercap:
    """A writable fake powercap root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "intel-rapl").mkdir(exist_ok=True)  # the control-type directory, not a zone

    def zone(
        self,
        dirname: str,
        name: str,
        energy_uj: int = 0,
        max_range_uj: int | None = 262_143_328_850,
    ) -> Path:
        """Create zone `dirname` (e.g. ``intel-rapl:0:2``) named `name`."""
        d = self.root / dirname
        d.mkdir(parents=True, exist_ok=True)
        (d / "name").write_text(name + "\n")
        if max_range_uj is not None:
            (d / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
        self.set(dirname, energy_uj)
        return d

    def set(self, dirname: str, energy_uj: int) -> None:
        """Atomically set a zone's counter."""
        path = self.root / dirname / "energy_uj"
        tmp = path.with_name(f"energy_uj.tmp{threading.get_ident()}")
        tmp.write_text(f"{int(energy_uj)}\n")
        os.replace(tmp, path)

    def get(self, dirname: str) -> int:
        """A zone's current counter."""
        return int((self.root / dirname / "energy_uj").read_text())


class PowerWriter:
    """Advance zone counters at `watts` each, wrapping at `max_range_uj`, until stopped."""

    def __init__(
        self,
        fake: FakePowercap,
        zones: dict[str, float],
        max_range_uj: int = 262_143_328_850,
        period_s: float = 0.001,
    ) -> None:
        self.fake = fake
        self.zones = zones
        self.max_range_uj = max_range_uj
        self.period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            elapsed = time.monotonic() - self._t0
            for dirname, watts in self.zones.items():
                self.fake.set(dirname, int(watts * elapsed * 1e6) % self.max_range_uj)
            self._stop.wait(self.period_s)

    def __enter__(self) -> PowerWriter:
        self._t0 = time.monotonic()
        for dirname in self.zones:
            self.fake.set(dirname, 0)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
