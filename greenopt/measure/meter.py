"""The energy-meter interface and the choice of a meter by name.

Every meter has the same shape: `start()`, then `stop()` returns a `Reading` with the
joules spent per domain (``package-0``, ``dram-0``, ``gpu-0``, ``cpu`` ...) and the wall
time in between. `MeterInfo` travels with every energy figure so that nothing is
ever printed or stored without its meter name and whether it was measured by a
hardware counter or estimated from CPU time.

`get_meter` is the only way to build one. An unknown name is an `InputError`; a meter
that is unavailable or unreadable is a `MeterError`, and an explicitly requested meter
never falls back to another one. Only ``auto`` tries meters in order (rapl, perf,
estimate) and announces every fallback and its reason through `announce`. GPU energy
is counted only when asked for (``nvml``): on a GPU machine running CPU code it is the
idle GPU's power times the run time (84-125 W on an H200, 25-35x the 3.5 W per busy
thread the estimate charges), which would turn every energy ratio into a time ratio.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from greenopt.errors import InputError, MeterError

#: Names accepted by `get_meter` (and by ``--meter``); "nvml+<cpu meter>" is accepted too.
METER_NAMES: tuple[str, ...] = ("auto", "rapl", "pyrapl", "perf", "nvml", "estimate")
#: CPU meters tried by ``auto`` (and under ``nvml``), in order.
AUTO_CPU_ORDER: tuple[str, ...] = ("rapl", "perf", "estimate")


@dataclass(frozen=True)
class MeterInfo:
    """What every energy figure carries: the meter, whether it measured, and its domains."""

    name: str
    measured: bool
    domains: tuple[str, ...]

    def label(self) -> str:
        """Human label such as ``rapl (measured)`` or ``estimate (estimated)``."""
        return f"{self.name} ({'measured' if self.measured else 'estimated'})"

    def reads_hardware(self) -> bool:
        """Whether any part reads a hardware counter (``nvml+estimate`` does, though estimated)."""
        return self.measured or any(part != "estimate" for part in self.name.split("+"))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{"name", "measured", "domains"}``."""
        return {"name": self.name, "measured": self.measured, "domains": list(self.domains)}

    @staticmethod
    def from_dict(data: dict[str, object]) -> MeterInfo:
        """Inverse of `to_dict`."""
        domains = data.get("domains") or ()
        return MeterInfo(
            name=str(data["name"]),
            measured=bool(data["measured"]),
            domains=tuple(str(d) for d in domains),  # type: ignore[union-attr]
        )


@dataclass(frozen=True)
class Reading:
    """Energy spent between `start()` and `stop()`, per domain, and the wall time.

    `cpu_s` is the CPU time (user + system) of the measuring process over the same
    interval when the meter knows it (the estimate meter does); None otherwise.
    """

    joules: dict[str, float]
    wall_s: float
    cpu_s: float | None = None

    @property
    def total_j(self) -> float:
        """Sum over all domains."""
        return float(sum(self.joules.values()))


class Meter(ABC):
    """One energy meter. Not re-entrant: `start()` and `stop()` alternate."""

    info: MeterInfo

    @abstractmethod
    def start(self) -> None:
        """Begin an interval (reads the counters)."""

    @abstractmethod
    def stop(self) -> Reading:
        """End the interval and return what was spent since `start()`."""

    def close(self) -> None:  # noqa: B027 - optional hook, most meters hold nothing
        """Release resources (threads, subprocesses, library handles)."""

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class CompositeMeter(Meter):
    """Several meters read together; domains are merged (used for ``nvml+<cpu>``)."""

    meters: list[Meter]
    info: MeterInfo = field(init=False)

    def __post_init__(self) -> None:
        """Derive the combined name, label and domains from the parts."""
        self.info = MeterInfo(
            name="+".join(m.info.name for m in self.meters),
            measured=all(m.info.measured for m in self.meters),
            domains=tuple(d for m in self.meters for d in m.info.domains),
        )

    def start(self) -> None:
        """Start every meter (GPU first, so the CPU meter's interval is the inner one)."""
        for m in self.meters:
            m.start()

    def stop(self) -> Reading:
        """Stop in reverse order and merge the readings; wall time from the outermost."""
        readings = [m.stop() for m in reversed(self.meters)]
        joules: dict[str, float] = {}
        cpu_s = None
        for r in readings:
            joules.update(r.joules)
            if r.cpu_s is not None:
                cpu_s = r.cpu_s
        return Reading(joules=joules, wall_s=max(r.wall_s for r in readings), cpu_s=cpu_s)

    def close(self) -> None:
        """Close all meters."""
        for m in self.meters:
            m.close()


def _build_cpu_meter(name: str) -> Meter:
    """Construct one CPU meter by exact name (raises MeterError when unavailable)."""
    if name == "rapl":
        from greenopt.measure.rapl import RaplMeter

        return RaplMeter()
    if name == "pyrapl":
        from greenopt.measure.pyrapl_meter import PyRaplMeter

        return PyRaplMeter()
    if name == "perf":
        from greenopt.measure.perf import PerfMeter

        return PerfMeter()
    if name == "estimate":
        from greenopt.measure.estimate import EstimateMeter

        return EstimateMeter()
    raise InputError(f"unknown meter {name!r} (choose from {', '.join(METER_NAMES)})")


def _build_nvml() -> Meter:
    """Construct the NVML GPU meter (MeterError when no GPU is readable)."""
    from greenopt.measure.nvml import NvmlMeter

    return NvmlMeter()


def _gpu_readable() -> bool:
    """Whether NVML reports a GPU energy counter, without learning its update period."""
    from greenopt.measure.nvml import NvmlMeter

    try:
        NvmlMeter(align=False).close()
    except MeterError:
        return False
    return True


def _first_cpu_meter(announce: Callable[[str], None] | None) -> Meter:
    """The first of `AUTO_CPU_ORDER` that works; each failure is announced."""
    failures: list[str] = []
    for name in AUTO_CPU_ORDER:
        try:
            meter = _build_cpu_meter(name)
        except MeterError as exc:
            failures.append(f"{name}: {exc}")
            if announce is not None:
                announce(f"{exc}")
            continue
        if announce is not None and failures:
            announce(f"using meter {meter.info.label()}")
        return meter
    raise MeterError("no energy meter works: " + "; ".join(failures))  # pragma: no cover


def get_meter(name: str = "auto", announce: Callable[[str], None] | None = None) -> Meter:
    """Build the meter called `name`.

    ``auto``: the first of rapl, perf and estimate that works; every fallback is
    announced with its reason, and so is a readable GPU whose energy is left out.
    ``nvml``: NVML GPU energy plus the first CPU meter that works (never GPU alone).
    ``nvml+rapl`` etc.: exactly those meters. Any other explicit name: exactly that
    meter or a `MeterError` (never a silent fallback).
    """
    if not isinstance(name, str) or not name:
        raise InputError("meter name must be a non-empty string")
    name = name.strip().lower()
    if name == "auto":
        cpu = _first_cpu_meter(announce)
        if announce is not None and _gpu_readable():
            announce(
                "an NVIDIA GPU is readable; its energy is not counted "
                "(use --meter nvml when the code runs on the GPU)"
            )
        return cpu
    if name == "nvml":
        gpu = _build_nvml()
        try:
            cpu = _first_cpu_meter(announce)
        except MeterError:  # pragma: no cover - estimate always works
            gpu.close()
            raise
        return CompositeMeter([gpu, cpu])
    if name.startswith("nvml+"):
        rest = name[len("nvml+") :]
        if rest not in AUTO_CPU_ORDER and rest != "pyrapl":
            raise InputError(f"unknown meter {name!r} (choose from {', '.join(METER_NAMES)})")
        gpu = _build_nvml()
        try:
            cpu = _build_cpu_meter(rest)
        except MeterError:
            gpu.close()
            raise
        return CompositeMeter([gpu, cpu])
    if name not in METER_NAMES:
        raise InputError(f"unknown meter {name!r} (choose from {', '.join(METER_NAMES)})")
    return _build_cpu_meter(name)


def validate_meter_name(name: str) -> str:
    """Normalise a meter name or raise InputError, without touching any hardware."""
    norm = name.strip().lower() if isinstance(name, str) else ""
    if norm in METER_NAMES:
        return norm
    if norm.startswith("nvml+") and norm[len("nvml+") :] in (*AUTO_CPU_ORDER, "pyrapl"):
        return norm
    raise InputError(f"unknown meter {name!r} (choose from {', '.join(METER_NAMES)})")
