"""The ``nvml`` meter: NVIDIA GPU energy from ``nvmlDeviceGetTotalEnergyConsumption``.

The counter is millijoules since the driver was loaded (Volta and newer), one per
device; each device is a domain ``gpu-N``. It is always combined with a CPU meter
(``nvml+rapl``, ``nvml+perf``, ``nvml+estimate``) by `greenopt.measure.meter.get_meter`,
since a Python program's energy is never GPU-only. Needs the optional extra
``greenopt[gpu]`` (nvidia-ml-py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from greenopt.errors import MeterError
from greenopt.measure.meter import Meter, MeterInfo, Reading


def _import_pynvml() -> Any:
    """Import pynvml or raise MeterError naming the extra to install."""
    try:
        import pynvml
    except ImportError:
        raise MeterError(
            "nvml: nvidia-ml-py is not installed (pip install 'greenopt[gpu]')"
        ) from None
    return pynvml


#: Longest wait for a GPU energy counter to tick (s); drivers update it every ~100 ms.
MAX_TICK_WAIT_S = 0.5


@dataclass
class NvmlMeter(Meter):
    """Sum of per-device GPU energy counters, read between the counters' updates.

    The driver updates each counter in steps (every 100 ms on an H200, 8-70 J a
    step there), so two plain reads miss up to one step at each end: ±10% of a
    one-second sample. With `align` (the default) `start()` waits for a step and
    starts the interval there, and `stop()` waits for the next step and takes the
    share of it that falls inside the interval, by time, using the update period
    learnt when the meter was built. The waits are outside the interval.
    """

    align: bool = True
    info: MeterInfo = field(init=False)

    def __post_init__(self) -> None:
        """Initialise NVML, check every device's energy counter, learn each one's period."""
        self._nvml = _import_pynvml()
        try:
            self._nvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
            raise MeterError(f"nvml: no NVIDIA driver/GPU available ({exc})") from None
        try:
            count = self._nvml.nvmlDeviceGetCount()
            self._handles = [self._nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            if not self._handles:
                raise MeterError("nvml: no GPU found")
            for h in self._handles:
                self._nvml.nvmlDeviceGetTotalEnergyConsumption(h)
        except MeterError:
            self._shutdown()
            raise
        except Exception as exc:
            self._shutdown()
            raise MeterError(f"nvml: GPU energy counter not readable ({exc})") from None
        self.info = MeterInfo(
            name="nvml", measured=True, domains=tuple(f"gpu-{i}" for i in range(len(self._handles)))
        )
        self._start_mj: list[int] = []
        self._start_tick: list[float] = []
        self._t0 = 0.0
        self.periods: list[float | None] = self._learn_periods() if self.align else []

    def _read(self) -> list[int]:
        """Every device's energy counter (mJ)."""
        try:
            return [int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(h)) for h in self._handles]
        except Exception as exc:
            raise MeterError(f"nvml: reading GPU energy failed ({exc})") from None

    def _next_ticks(
        self, after: list[int], wait: list[bool] | None = None
    ) -> tuple[list[int], list[float | None]]:
        """Poll until the counters in `wait` differ from `after` (or MAX_TICK_WAIT_S passes).

        Returns each device's new value and when it was first seen (None: no step came,
        or not waited for).
        """
        wait = [True] * len(after) if wait is None else wait
        values = list(after)
        seen: list[float | None] = [None] * len(after)
        deadline = time.perf_counter() + MAX_TICK_WAIT_S
        while any(w and t is None for w, t in zip(wait, seen, strict=True)):
            if time.perf_counter() >= deadline:
                break
            now_values = self._read()
            now = time.perf_counter()
            for i, v in enumerate(now_values):
                if wait[i] and seen[i] is None and v != after[i]:
                    values[i], seen[i] = v, now
        return values, seen

    def _learn_periods(self) -> list[float | None]:
        """Each counter's update period: the time between two steps (None: it did not step)."""
        values, first = self._next_ticks(self._read())
        _, second = self._next_ticks(values, [t is not None for t in first])
        return [
            b - a if a is not None and b is not None and b > a else None
            for a, b in zip(first, second, strict=True)
        ]

    def _aligned(self) -> list[bool]:
        """Which devices are read at their steps (those whose period was learnt)."""
        return [p is not None for p in self.periods] if self.align else [False] * len(self._handles)

    def start(self) -> None:
        """Read every counter; for aligned devices, just after the counter's next step."""
        aligned = self._aligned()
        if not any(aligned):
            self._start_mj = self._read()
            self._t0 = time.perf_counter()
            self._start_tick = [self._t0] * len(self._handles)
            return
        self._start_mj, ticks = self._next_ticks(self._read(), aligned)
        self._t0 = time.perf_counter()
        # a device that stepped before the last one has [tick, t0] inside its reading
        self._start_tick = [self._t0 if t is None else t for t in ticks]

    def stop(self) -> Reading:
        """Joules per device since `start()`."""
        t_stop = time.perf_counter()
        end = self._read()
        wall = t_stop - self._t0
        aligned = self._aligned()
        nxt, ticks = self._next_ticks(end, aligned) if any(aligned) else (end, [None] * len(end))
        joules: dict[str, float] = {}
        for i, (s, e) in enumerate(zip(self._start_mj, end, strict=True)):
            mj = float(e - s)
            period, tick = (self.periods[i] if aligned[i] else None), ticks[i]
            if period is not None and tick is not None:
                # the step after t_stop covers [tick - period, tick]; take its share before t_stop
                share = min(max((t_stop - (tick - period)) / period, 0.0), 1.0)
                mj += share * (nxt[i] - e)
            span = t_stop - self._start_tick[i]
            if span > wall > 0:
                mj *= wall / span  # remove the part before t0 (devices that stepped early)
            joules[f"gpu-{i}"] = mj / 1e3
        return Reading(joules=joules, wall_s=wall)

    def _shutdown(self) -> None:
        """Shut NVML down, ignoring errors of a half-initialised library."""
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down a library that may be half-initialised
            pass

    def close(self) -> None:
        """Shut NVML down."""
        self._shutdown()
