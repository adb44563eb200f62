"""Meter read overhead and A/A noise on this machine.

    .venv/bin/python benchmarks/meter_overhead.py [--json PATH] [--samples N] [--min-sample-s S]
                                                  [--meter NAME]

For every meter (estimate, rapl, perf, pyrapl, nvml) that works here: the mean wall
time of an empty ``start()``/``stop()`` pair, that overhead as a fraction of the
meter's default sample length, and the energy it reports for the empty interval.
Then A/A comparisons (the same workload as A and B, interleaved, through the real
child-process runner; a single-threaded Python loop and a NumPy/BLAS workload) with
``--meter`` (default ``auto``, the best CPU meter available): the ratio, its 95%
CI and the noise floor ``max(|1-lo|, |hi-1|)`` that `greenopt rewrite` uses as ε.
Figures are printed and, with ``--json``, written as JSON. Nothing here asserts a
speed: the numbers describe this machine at this moment.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

from greenopt.errors import MeterError
from greenopt.measure.meter import get_meter
from greenopt.measure.runner import (
    ESTIMATE_MIN_SAMPLE_S,
    HARDWARE_MIN_SAMPLE_S,
    RunOptions,
    compare,
)
from greenopt.measure.statistics import noise_floor
from greenopt.measure.workload import Workload

METERS = ("estimate", "rapl", "perf", "pyrapl", "nvml")
#: start/stop pairs timed per meter (perf starts a process per interval, nvml waits for
#: its counter's steps: few pairs)
PAIRS = {"perf": 3, "nvml": 5}
DEFAULT_PAIRS = 300

#: A/A workloads: a single-threaded interpreted loop, and NumPy with a (multi-threaded) BLAS call.
AA_WORKLOADS = {
    "python-loop": Workload(
        setup="xs = list(range(20_000))", calls=("sum(x * x for x in xs)",), label="python-loop"
    ),
    "numpy-blas": Workload(
        setup="import numpy as np; a = np.random.rand(200_000); b = np.random.rand(200_000)",
        calls=("np.dot(a, b) + (a * b).sum()",),
        label="numpy-blas",
    ),
}


def meter_overhead(name: str) -> dict[str, Any]:
    """Overhead of one meter's empty start/stop pair, or why it is unavailable."""
    try:
        meter = get_meter(name)
    except MeterError as exc:
        return {"meter": name, "available": False, "reason": str(exc)}
    pairs = PAIRS.get(name, DEFAULT_PAIRS)
    try:
        durations, energies = [], []
        for _ in range(pairs):
            t0 = time.perf_counter()
            meter.start()
            reading = meter.stop()
            durations.append(time.perf_counter() - t0)
            energies.append(reading.total_j)
    except MeterError as exc:
        return {"meter": meter.info.name, "available": False, "reason": str(exc)}
    finally:
        meter.close()
    mean_s = statistics.fmean(durations)
    sample_s = HARDWARE_MIN_SAMPLE_S if meter.info.reads_hardware() else ESTIMATE_MIN_SAMPLE_S
    return {
        "meter": meter.info.name,
        "available": True,
        "measured": meter.info.measured,
        "pairs": pairs,
        "start_stop_mean_us": mean_s * 1e6,
        "start_stop_median_us": statistics.median(durations) * 1e6,
        "overhead_fraction_of_default_sample": mean_s / sample_s,
        "empty_interval_energy_j_median": statistics.median(energies),
    }


def aa_run(
    workload: Workload, samples: int, min_sample_s: float | None, meter: str = "auto"
) -> dict[str, Any]:
    """An A/A comparison of `workload` through the runner with `meter`."""
    announced: list[str] = []
    options = RunOptions(samples=samples, min_sample_s=min_sample_s)
    t0 = time.perf_counter()
    c = compare(workload, workload, meter, options, announce=announced.append)
    wall = time.perf_counter() - t0
    return {
        "workload": workload.label,
        "meter": c.a.meter.to_dict(),
        "samples": samples,
        "calls_per_sample": [c.a.calls_per_sample, c.b.calls_per_sample],
        "energy_ratio": c.ratio,
        "energy_ratio_ci95": list(c.ci95),
        "energy_noise_floor": noise_floor(c.ci95),
        "time_ratio": c.time_ratio,
        "time_ratio_ci95": list(c.time_ci95),
        "time_noise_floor": noise_floor(c.time_ci95),
        "energy_cv_a": statistics.pstdev(c.a.energy_j) / statistics.fmean(c.a.energy_j),
        "energy_cv_b": statistics.pstdev(c.b.energy_j) / statistics.fmean(c.b.energy_j),
        "wall_s": wall,
        "announcements": announced,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks, print a summary, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", dest="json_path", default=None, help="write results as JSON here")
    parser.add_argument(
        "--samples", type=int, default=10, help="A/A samples per variant (default 10)"
    )
    parser.add_argument(
        "--min-sample-s", type=float, default=None, help="A/A sample length (default per meter)"
    )
    parser.add_argument(
        "--meter", default="auto", help="meter of the A/A comparisons (default auto)"
    )
    args = parser.parse_args(argv)

    overheads = [meter_overhead(name) for name in METERS]
    print("meter read overhead (empty start/stop pair):")
    for o in overheads:
        if not o["available"]:
            print(f"  {o['meter']:<10} unavailable: {o['reason']}")
            continue
        print(
            f"  {o['meter']:<10} {o['start_stop_mean_us']:10.1f} µs mean "
            f"({o['overhead_fraction_of_default_sample']:.2e} of a default sample), "
            f"empty interval {o['empty_interval_energy_j_median']:.3g} J"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"A/A noise ({args.samples} samples per variant; load average {load:.2f} on {os.cpu_count()} CPUs):"
    )
    runs = []
    for workload in AA_WORKLOADS.values():
        aa = aa_run(workload, args.samples, args.min_sample_s, args.meter)
        runs.append(aa)
        kind = "measured" if aa["meter"]["measured"] else "estimated"
        lo, hi = aa["energy_ratio_ci95"]
        tlo, thi = aa["time_ratio_ci95"]
        print(f"  {aa['workload']} [{aa['meter']['name']}, {kind}, {aa['wall_s']:.1f} s]")
        print(
            f"    energy ratio {aa['energy_ratio']:.4f}  95% CI [{lo:.4f}, {hi:.4f}]  "
            f"noise floor {100 * aa['energy_noise_floor']:.2f}%"
        )
        print(
            f"    time ratio   {aa['time_ratio']:.4f}  95% CI [{tlo:.4f}, {thi:.4f}]  "
            f"noise floor {100 * aa['time_noise_floor']:.2f}%"
        )
        print(
            f"    per-sample energy CV: A {100 * aa['energy_cv_a']:.2f}%, B {100 * aa['energy_cv_b']:.2f}%"
        )
    result = {"load_average_1min": load, "cpus": os.cpu_count(), "meters": overheads, "aa": runs}
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
