"""Energy before/after `greenopt rewrite` on a suite of naive kernels (benchmarks/kernels/).

For every kernel `benchmarks/kernels/NAME.py` with its workload file
`NAME_workload.py`, this runs the validated rewrite (`greenopt.optimize`, the API
behind `greenopt rewrite`) and then measures the whole workload on the original and
on the rewritten module in a fresh, independent interleaved A/B comparison (the
selection measurements are biased towards the winner; this one is not). It prints a
table and optionally writes JSON.

Every energy figure carries its meter and whether it was measured or estimated: on
a machine without RAPL/perf counters the meter is `estimate` (CPU-time power model),
so the ratios are meaningful and the absolute joules approximate.

    .venv/bin/python benchmarks/rewrite_suite.py                 # all kernels, defaults
    .venv/bin/python benchmarks/rewrite_suite.py --quick --json out.json
    .venv/bin/python benchmarks/rewrite_suite.py --kernels axpby,heat1d --passes vectorize
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KERNELS = HERE / "kernels"
sys.path.insert(0, str(HERE.parent))

from greenopt.errors import GreenoptError  # noqa: E402
from greenopt.measure.runner import RunOptions, compare  # noqa: E402
from greenopt.optimizer.pipeline import optimize  # noqa: E402
from greenopt.optimizer.workloads import from_workload_file, with_module  # noqa: E402


@dataclass
class KernelResult:
    """Outcome of one kernel: what was accepted and the energy before/after."""

    kernel: str
    accepted: list[str] = field(default_factory=list)  # "function: passes"
    refused: list[str] = field(default_factory=list)  # "function: reason"
    energy_before_j: float | None = None
    energy_after_j: float | None = None
    ratio: float | None = None
    ci95: tuple[float, float] | None = None
    cold_after_j: float | None = None  # first call of the rewritten module (JIT compile included)
    meter: str = ""
    measured: bool = False
    seconds: float = 0.0
    error: str | None = None


def kernel_names() -> list[str]:
    """Kernels that have a workload file, sorted."""
    return sorted(p.stem for p in KERNELS.glob("*.py") if not p.stem.endswith("_workload"))


def run_kernel(name: str, args: argparse.Namespace, options: RunOptions) -> KernelResult:
    """Rewrite one kernel and measure its workload before and after."""
    res = KernelResult(kernel=name)
    start = time.perf_counter()
    module = KERNELS / f"{name}.py"
    workload_file = KERNELS / f"{name}_workload.py"
    try:
        result = optimize(
            module,
            [workload_file],
            passes=args.passes,
            meter=args.meter,
            samples=options.samples,
            min_sample_s=options.min_sample_s,
            rtol=args.rtol,
        )
        res.meter, res.measured = result.meter_name, result.meter_measured
        for fr in result.functions:
            if fr.verdict == "accepted":
                res.accepted.append(f"{fr.name}: {'+'.join(fr.passes)}")
            elif fr.verdict in ("rejected", "unchanged"):
                res.refused.append(f"{fr.name}: {fr.verdict} ({fr.reason})")
        if not result.changed:  # nothing to compare: an A/A run would only show noise
            res.seconds = time.perf_counter() - start
            return res
        with tempfile.TemporaryDirectory(prefix="greenopt-bench-") as tmp:
            before_dir, after_dir = Path(tmp, "before"), Path(tmp, "after")
            before_dir.mkdir()
            after_dir.mkdir()
            (before_dir / module.name).write_text(result.original_code)
            (after_dir / module.name).write_text(result.new_code)
            wl = from_workload_file(module, workload_file)
            a = with_module(wl, str(before_dir / module.name), [str(KERNELS)])
            b = with_module(wl, str(after_dir / module.name), [str(KERNELS)])
            comp = compare(a, b, args.meter, options)
        res.energy_before_j = float(comp.a.energy_median_j)
        res.energy_after_j = float(comp.b.energy_median_j)
        res.ratio = float(comp.ratio)
        res.ci95 = (float(comp.ci95[0]), float(comp.ci95[1]))
        if comp.b.cold_energy_j is not None:
            res.cold_after_j = float(comp.b.cold_energy_j)
        res.meter, res.measured = comp.a.meter.name, bool(comp.a.meter.measured)
    except GreenoptError as exc:
        res.error = str(exc)
    res.seconds = time.perf_counter() - start
    return res


def render(results: list[KernelResult]) -> None:
    """Print the suite's table to stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120))
    measured = {r.measured for r in results if r.meter}
    meters = sorted({r.meter for r in results if r.meter})
    label = "measured" if measured == {True} else "estimated"
    table = Table(title=f"greenopt rewrite suite — meter: {', '.join(meters)} ({label})")
    for col in (
        "kernel",
        "accepted rewrites",
        "energy before",
        "energy after",
        "ratio [95% CI]",
        "first call after",
        "s",
    ):
        table.add_column(col, justify="left" if col in ("kernel", "accepted rewrites") else "right")
    for r in results:
        if r.error:
            table.add_row(r.kernel, f"error: {r.error}", "-", "-", "-", "-", f"{r.seconds:.0f}")
            continue
        if r.ratio is None:
            table.add_row(
                r.kernel, "none (unchanged)", "-", "-", "1 (same code)", "-", f"{r.seconds:.0f}"
            )
            continue
        table.add_row(
            r.kernel,
            "; ".join(r.accepted) or "none",
            f"{r.energy_before_j * 1e3:.1f} mJ",
            f"{r.energy_after_j * 1e3:.1f} mJ",
            f"{r.ratio:.3f} [{r.ci95[0]:.3f}, {r.ci95[1]:.3f}]",
            "-" if r.cold_after_j is None else f"{r.cold_after_j * 1e3:.1f} mJ",
            f"{r.seconds:.0f}",
        )
    console.print(table)
    console.print(
        "Energies: medians per run of the whole workload after warm-up; 'first call after' "
        "is the very first call of the rewritten module in a fresh process (with any JIT "
        "compilation)."
    )
    for r in results:
        for refused in r.refused:
            console.print(f"  {r.kernel}: {refused}", markup=False)
    if label == "estimated":
        console.print(
            "estimated: no hardware energy counter here; ratios come from the CPU-time power model."
        )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the suite, print the table, write JSON on request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", help="comma-separated kernel names (default: all)")
    parser.add_argument("--passes", help="passes to try (default: all)")
    parser.add_argument("--meter", default="auto")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--min-sample-s", type=float, default=None)
    parser.add_argument("--rtol", type=float, default=None)
    parser.add_argument("--quick", action="store_true", help="4 samples of >= 0.05 s")
    parser.add_argument("--json", dest="json_path", help="write results to this JSON file")
    args = parser.parse_args(argv)
    names = args.kernels.split(",") if args.kernels else kernel_names()
    unknown = sorted(set(names) - set(kernel_names()))
    if unknown:
        parser.error(f"unknown kernel(s): {', '.join(unknown)}")
    if args.quick:
        options = RunOptions(samples=4, min_sample_s=0.05)
    else:
        options = RunOptions(samples=args.samples, min_sample_s=args.min_sample_s)
    results = []
    for name in names:
        print(f"rewriting {name} ...", file=sys.stderr, flush=True)
        results.append(run_kernel(name, args, options))
    render(results)
    if args.json_path:
        data: dict[str, Any] = {
            "suite": "greenopt rewrite suite",
            "options": {"samples": options.samples, "min_sample_s": options.min_sample_s},
            "kernels": [r.__dict__ for r in results],
        }
        Path(args.json_path).write_text(json.dumps(data, indent=2) + "\n")
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
