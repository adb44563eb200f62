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


@dataclass
class NvmlMeter(Meter):
    """Sum of per-device GPU energy counters."""

    info: MeterInfo = field(init=False)

    def __post_init__(self) -> None:
        """Initialise NVML and check every device's energy counter is readable."""
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
        self._t0 = 0.0

    def _read(self) -> list[int]:
        """Every device's energy counter (mJ)."""
        try:
            return [int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(h)) for h in self._handles]
        except Exception as exc:
            raise MeterError(f"nvml: reading GPU energy failed ({exc})") from None

    def start(self) -> None:
        """Read every device's counter."""
        self._start_mj = self._read()
        self._t0 = time.perf_counter()

    def stop(self) -> Reading:
        """Joules per device since `start()`."""
        end = self._read()
        wall = time.perf_counter() - self._t0
        joules = {
            f"gpu-{i}": (e - s) / 1e3
            for i, (s, e) in enumerate(zip(self._start_mj, end, strict=True))
        }
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
