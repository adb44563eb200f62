"""The ``pyrapl`` meter: RAPL through the pyRAPL library, for users who already rely on it.

pyRAPL reads the same powercap counters as the ``rapl`` meter but has **no
wrap-around handling**: a counter that wraps during an interval (every few minutes
to hours depending on the CPU) gives a wrong, possibly negative figure. Prefer
``rapl``. Needs the optional extra ``greenopt[rapl]``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from greenopt.errors import MeterError
from greenopt.measure.meter import Meter, MeterInfo, Reading


def _import_pyrapl() -> Any:
    """Import pyRAPL quietly (it logs warnings about optional pandas/pymongo outputs)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            import pyRAPL
    except ImportError:
        raise MeterError("pyrapl: pyRAPL is not installed (pip install 'greenopt[rapl]')") from None
    finally:
        root.setLevel(level)
    return pyRAPL


@dataclass
class PyRaplMeter(Meter):
    """Package and DRAM energy per socket via ``pyRAPL.Measurement``."""

    info: MeterInfo = field(init=False)

    def __post_init__(self) -> None:
        """Set pyRAPL up and probe one measurement (MeterError when RAPL is absent)."""
        self._lib = _import_pyrapl()
        try:
            self._lib.setup()
            probe = self._lib.Measurement("greenopt-probe")
            probe.begin()
            probe.end()
            result = probe.result
        except PermissionError:
            from greenopt.measure.rapl import PERMISSION_FIX

            raise MeterError(
                f"pyrapl: permission denied reading RAPL counters; fix: {PERMISSION_FIX}"
            ) from None
        except Exception as exc:  # pyRAPL raises its own exception types when RAPL is absent
            raise MeterError(f"pyrapl: RAPL not available ({type(exc).__name__}: {exc})") from None
        domains = [f"package-{i}" for i in range(len(result.pkg or []))]
        domains += [f"dram-{i}" for i in range(len(result.dram or []))]
        self.info = MeterInfo(name="pyrapl", measured=True, domains=tuple(domains))
        self._m: Any = None
        self._t0 = 0.0

    def start(self) -> None:
        """Begin a pyRAPL measurement."""
        self._m = self._lib.Measurement("greenopt")
        self._t0 = time.perf_counter()
        self._m.begin()

    def stop(self) -> Reading:
        """End it; pyRAPL reports µJ per socket."""
        self._m.end()
        wall = time.perf_counter() - self._t0
        result = self._m.result
        joules = {f"package-{i}": v / 1e6 for i, v in enumerate(result.pkg or [])}
        joules.update({f"dram-{i}": v / 1e6 for i, v in enumerate(result.dram or [])})
        return Reading(joules=joules, wall_s=wall)
