"""Validate the ``nvml`` meter on a real GPU: its energy counter against the driver's power.

    .venv/bin/python benchmarks/nvml_validation.py [--json PATH] [--seconds S]

greenopt's ``nvml`` meter reads ``nvmlDeviceGetTotalEnergyConsumption`` (mJ). This
script checks, on the machine it runs on, that what the meter reports is the GPU's
energy: for each phase (GPU idle, CPU busy with the GPU idle, GPU busy with a matrix
product loop) it compares the meter's joules with the integral of
``nvmlDeviceGetPowerUsage`` polled in a thread over the same steady-state window, and
reports both mean powers and their relative difference. It also polls the counter
as fast as it can to find how often the driver updates it, which bounds the
shortest sample the meter can resolve, and it measures short idle samples with the
meter's aligned reads and with plain reads, whose spread is the meter's own error.
The GPU load needs PyTorch or CuPy; without
either that phase is skipped and says so. Without a readable GPU the script prints
why and exits 0: there is nothing to validate.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from greenopt.errors import MeterError

#: A phase's counter energy and integrated power agree when within this fraction.
AGREEMENT = 0.10
#: Power polling interval (s); NVML's power reading is itself averaged over ~1 s.
POLL_S = 0.02
#: Load run before a phase's window opens, so the 1 s power average has settled.
SETTLE_S = 2.0
#: Idle intervals (length, count) whose spread shows the meter's own error.
SHORT_S = 0.3
SHORT_REPEATS = 12
#: How long the energy counter is polled to find its update period (s).
COUNTER_POLL_S = 1.0


@dataclass
class PowerTrace:
    """Power samples (W) at perf_counter times (s), polled over a window."""

    times: list[float]
    watts: list[float]


@dataclass
class PhaseResult:
    """One phase: the meter's energy and the integrated power over the same window."""

    phase: str
    seconds: float
    counter_j: float
    integrated_j: float
    counter_mean_w: float
    integrated_mean_w: float
    relative_difference: float
    power_samples: int
    agrees: bool


def integrate(trace: PowerTrace, t0: float, t1: float) -> float:
    """Joules under the piecewise-linear power trace between `t0` and `t1`.

    The trace is clipped to the window; before the first and after the last sample
    the nearest sample's power is held.
    """
    if t1 <= t0 or not trace.times:
        return 0.0
    pts = sorted(zip(trace.times, trace.watts, strict=True))
    times = [t for t, _ in pts]
    watts = [w for _, w in pts]

    def power_at(t: float) -> float:
        if t <= times[0]:
            return watts[0]
        if t >= times[-1]:
            return watts[-1]
        lo, hi = 0, len(times) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if times[mid] <= t:
                lo = mid
            else:
                hi = mid
        span = times[hi] - times[lo]
        frac = 0.0 if span == 0 else (t - times[lo]) / span
        return watts[lo] + frac * (watts[hi] - watts[lo])

    knots = [t0, *(t for t in times if t0 < t < t1), t1]
    return sum(
        0.5 * (power_at(a) + power_at(b)) * (b - a) for a, b in zip(knots, knots[1:], strict=False)
    )


def relative_difference(counter_j: float, integrated_j: float) -> float:
    """|counter − integrated| / integrated (inf when nothing was integrated)."""
    if integrated_j <= 0:
        return float("inf")
    return abs(counter_j - integrated_j) / integrated_j


def update_period(values: Sequence[int], times: Sequence[float]) -> float | None:
    """Median seconds between changes of a polled counter, or None if it never changed twice."""
    changes = [
        t for prev, cur, t in zip(values, values[1:], times[1:], strict=False) if cur != prev
    ]
    if len(changes) < 2:
        return None
    gaps = sorted(b - a for a, b in zip(changes, changes[1:], strict=False))
    return gaps[len(gaps) // 2]


class PowerPoller:
    """Poll ``nvmlDeviceGetPowerUsage`` (mW, summed over devices) in a thread."""

    def __init__(self, nvml: Any, handles: Sequence[Any], interval_s: float = POLL_S) -> None:
        """Remember the library, the devices and the polling interval."""
        self._nvml = nvml
        self._handles = list(handles)
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.trace = PowerTrace(times=[], watts=[])

    def _run(self) -> None:
        while not self._stop.is_set():
            mw = sum(int(self._nvml.nvmlDeviceGetPowerUsage(h)) for h in self._handles)
            self.trace.times.append(time.perf_counter())
            self.trace.watts.append(mw / 1e3)
            self._stop.wait(self._interval)

    def __enter__(self) -> PowerPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_phase(
    name: str,
    meter: Any,
    nvml: Any,
    handles: Sequence[Any],
    seconds: float,
    work: Callable[[float], None],
) -> PhaseResult:
    """Run `work` for SETTLE_S, then meter and poll power over `seconds` more of it."""
    with PowerPoller(nvml, handles) as poller:
        work(SETTLE_S)
        # the meter's interval runs from start()'s return to stop()'s call: an aligned
        # meter waits for a counter step inside both calls, outside the interval
        meter.start()
        t0 = time.perf_counter()
        work(seconds)
        t1 = time.perf_counter()
        reading = meter.stop()
        time.sleep(2 * POLL_S)  # one more sample past the window's end
    counter_j = sum(reading.joules.values())
    integrated_j = integrate(poller.trace, t0, t1)
    window = t1 - t0
    diff = relative_difference(counter_j, integrated_j)
    return PhaseResult(
        phase=name,
        seconds=window,
        counter_j=counter_j,
        integrated_j=integrated_j,
        counter_mean_w=counter_j / window,
        integrated_mean_w=integrated_j / window,
        relative_difference=diff,
        power_samples=sum(1 for t in poller.trace.times if t0 <= t <= t1),
        agrees=diff <= AGREEMENT,
    )


def sleep_for(seconds: float) -> None:
    """GPU idle, CPU idle."""
    time.sleep(seconds)


def cpu_busy_for(seconds: float) -> None:
    """GPU idle, one CPU busy in the interpreter (what greenopt's own workloads do)."""
    end = time.perf_counter() + seconds
    acc = 0.0
    while time.perf_counter() < end:
        for i in range(10_000):
            acc += i * 0.5


def gpu_load() -> tuple[str, Callable[[float], None]] | None:
    """A matrix-product loop on the GPU with PyTorch or CuPy, or None when neither works."""
    try:
        import torch

        if torch.cuda.is_available():
            a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
            b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)

            def torch_busy(seconds: float) -> None:
                end = time.perf_counter() + seconds
                while time.perf_counter() < end:
                    for _ in range(8):
                        torch.matmul(a, b)
                    torch.cuda.synchronize()

            return "torch bf16 8192x8192 matmul", torch_busy
    except Exception:  # noqa: BLE001 - any failure means "no torch load here"
        pass
    try:
        import cupy

        x = cupy.random.rand(4096, 4096, dtype=cupy.float32)

        def cupy_busy(seconds: float) -> None:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                for _ in range(8):
                    x @ x
                cupy.cuda.Device().synchronize()

        return "cupy float32 4096x4096 matmul", cupy_busy
    except Exception:  # noqa: BLE001
        return None


def counter_update_period(nvml: Any, handle: Any, seconds: float | None = None) -> dict[str, Any]:
    """Poll one device's energy counter as fast as possible; its update period and resolution."""
    seconds = COUNTER_POLL_S if seconds is None else seconds
    values: list[int] = []
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        values.append(int(nvml.nvmlDeviceGetTotalEnergyConsumption(handle)))
        times.append(time.perf_counter())
    steps = sorted({b - a for a, b in zip(values, values[1:], strict=False) if b != a})
    return {
        "polls": len(values),
        "poll_us": 1e6 * seconds / max(len(values), 1),
        "update_period_s": update_period(values, times),
        "smallest_step_mj": steps[0] if steps else None,
        "monotonic": all(b >= a for a, b in zip(values, values[1:], strict=False)),
    }


def short_sample_spread(
    nvml_meter: Any, plain_meter: Any, seconds: float, repeats: int
) -> dict[str, Any]:
    """Mean GPU power over `repeats` idle intervals of `seconds`, read aligned and plainly.

    The GPU's idle power is steady, so the spread of these figures is the meter's own
    error: a plain read loses up to one counter step at each end.
    """
    spread: dict[str, Any] = {"seconds": seconds, "repeats": repeats}
    for key, meter in (("aligned", nvml_meter), ("plain", plain_meter)):
        watts = []
        for _ in range(repeats):
            meter.start()
            time.sleep(seconds)
            reading = meter.stop()
            watts.append(sum(reading.joules.values()) / reading.wall_s)
        mean = sum(watts) / len(watts)
        sd = (sum((w - mean) ** 2 for w in watts) / max(len(watts) - 1, 1)) ** 0.5
        spread[key] = {"mean_w": mean, "cv": sd / mean if mean else float("inf"), "watts": watts}
    return spread


def _device_facts(nvml: Any, handles: Sequence[Any]) -> list[dict[str, Any]]:
    """Name and power limit of each device (best effort: older drivers lack some calls)."""
    facts = []
    for i, h in enumerate(handles):
        fact: dict[str, Any] = {"index": i}
        for key, call in (
            ("name", "nvmlDeviceGetName"),
            ("power_limit_mw", "nvmlDeviceGetEnforcedPowerLimit"),
        ):
            try:
                value = getattr(nvml, call)(h)
                fact[key] = value.decode() if isinstance(value, bytes) else value
            except Exception:  # noqa: BLE001 - optional facts
                fact[key] = None
        facts.append(fact)
    return facts


def validate(seconds: float) -> dict[str, Any]:
    """Every phase on this machine's GPUs, or why there is nothing to validate."""
    from greenopt.measure.nvml import NvmlMeter

    try:
        meter = NvmlMeter()
    except MeterError as exc:
        return {"available": False, "reason": str(exc)}
    nvml = meter._nvml  # the library the meter itself initialised
    handles = meter._handles
    try:
        result: dict[str, Any] = {
            "available": True,
            "meter": meter.info.label(),
            "devices": _device_facts(nvml, handles),
            "agreement_threshold": AGREEMENT,
            "counter": counter_update_period(nvml, handles[0]),
            "learnt_periods_s": list(meter.periods),
        }
        plain = NvmlMeter(align=False)
        try:
            result["short_samples"] = short_sample_spread(meter, plain, SHORT_S, SHORT_REPEATS)
        finally:
            plain.close()
        phases = [("gpu idle", sleep_for), ("cpu busy, gpu idle", cpu_busy_for)]
        load = gpu_load()
        if load is None:
            result["gpu_load"] = "skipped: neither PyTorch nor CuPy can use the GPU here"
        else:
            result["gpu_load"] = load[0]
            phases.append(("gpu busy", load[1]))
        result["phases"] = [
            asdict(run_phase(name, meter, nvml, handles, seconds, work)) for name, work in phases
        ]
    finally:
        meter.close()
    result["all_agree"] = all(p["agrees"] for p in result["phases"])
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the validation, print a summary, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", dest="json_path", default=None, help="write results as JSON here")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="metered window per phase (default 5)"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        print("error: --seconds must be positive", file=sys.stderr)
        return 2
    result = validate(args.seconds)
    if not result["available"]:
        print(f"nvml unavailable here, nothing to validate: {result['reason']}")
    else:
        c = result["counter"]
        names = ", ".join(str(d.get("name")) for d in result["devices"])
        print(f"{result['meter']} on {names}")
        print(
            f"  counter: updated every {c['update_period_s']} s, smallest step "
            f"{c['smallest_step_mj']} mJ, monotonic {c['monotonic']} ({c['polls']} polls)"
        )
        sh = result["short_samples"]
        print(
            f"  {sh['repeats']} idle samples of {sh['seconds']} s: aligned reads "
            f"{sh['aligned']['mean_w']:.1f} W, CV {100 * sh['aligned']['cv']:.2f}%; plain reads "
            f"{sh['plain']['mean_w']:.1f} W, CV {100 * sh['plain']['cv']:.2f}%"
        )
        print(f"  gpu load: {result['gpu_load']}")
        for p in result["phases"]:
            print(
                f"  {p['phase']:<20} meter {p['counter_j']:9.2f} J ({p['counter_mean_w']:7.1f} W)"
                f"  power integral {p['integrated_j']:9.2f} J ({p['integrated_mean_w']:7.1f} W)"
                f"  diff {100 * p['relative_difference']:5.1f}%  {'ok' if p['agrees'] else 'DISAGREE'}"
            )
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
