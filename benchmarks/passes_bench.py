"""Energy ratios of the loop-fusion, dtype-reduction and jit passes, and a peer comparison.

Two parts, on the kernels in `benchmarks/pass_kernels/` (each with its workload below):

1. Per pass: the pass (one jit variant at a time) is applied directly to the kernel,
   the result is checked against the original on the workload (max relative error;
   float64-tight rtol 1e-9, or the loosened rtol used for dtype-reduction), and the
   workload's energy is compared original vs variant with interleaved A/B samples
   (`greenopt.measure.runner.compare`, best available meter).
2. Peer comparison, measured side by side in the same run: the original, greenopt's
   output (the validated pipeline `greenopt.optimize`, default tolerance, all
   passes; if the pipeline is unavailable the passes are applied directly and the
   table says so), and "simply @numba.njit(cache=True) on every function".

Every energy figure carries its meter and whether it was measured or estimated: on
a machine without RAPL/perf counters the meter is `estimate` (CPU-time power model),
so ratios are meaningful and absolute joules approximate.

    .venv/bin/python benchmarks/passes_bench.py --quick --json out.json
    .venv/bin/python benchmarks/passes_bench.py --kernels particles,hashing
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KERNELS = HERE / "pass_kernels"
sys.path.insert(0, str(HERE.parent))

import libcst as cst  # noqa: E402
import numpy as np  # noqa: E402

from greenopt.errors import GreenoptError  # noqa: E402
from greenopt.measure.runner import RunOptions, compare  # noqa: E402
from greenopt.measure.workload import Workload, prepare  # noqa: E402
from greenopt.optimizer.source import SourceModule  # noqa: E402
from greenopt.passes.base import Pass  # noqa: E402
from greenopt.passes.dtype_reduction import DtypeReductionPass  # noqa: E402
from greenopt.passes.import_edits import ensure_import  # noqa: E402
from greenopt.passes.jit import JitPass  # noqa: E402
from greenopt.passes.loop_fusion import LoopFusionPass  # noqa: E402
from greenopt.passes.numba_check import describe_error  # noqa: E402

#: rtol at which dtype-reduction is tried (the user's loosened tolerance)
DTYPE_RTOL = 1e-3
TIGHT_RTOL = 1e-9


@dataclass(frozen=True)
class KernelSpec:
    """A kernel module of pass_kernels/ and its workload (`{n}` is the size)."""

    name: str
    setup: str
    calls: tuple[str, ...]
    n_full: int
    n_quick: int

    def workload(self, module_path: Path, quick: bool, module_name: str | None = None) -> Workload:
        """The workload against `module_path` (imported under the kernel's name)."""
        n = self.n_quick if quick else self.n_full
        return Workload(
            setup=self.setup.format(n=n),
            calls=self.calls,
            module_path=str(module_path),
            module_name=module_name or self.name,
            label=self.name,
        )


SPECS = (
    KernelSpec(
        "sweeps",
        "import numpy as np\nx = np.random.rand({n})\ny = np.random.rand({n})",
        ("scale_then_weight(x, y)",),
        400_000,
        100_000,
    ),
    KernelSpec(
        "temporaries",
        "import numpy as np\na, b, c, d = (np.random.rand({n}) for _ in range(4))",
        ("magnitude(a, b, c, d)",),
        4_000_000,
        1_000_000,
    ),
    KernelSpec(
        "stencil",
        "import numpy as np\nu = np.random.rand({n})",
        ("smooth(u, 20)",),
        2_000_000,
        500_000,
    ),
    KernelSpec(
        "particles",
        "import numpy as np\npos = np.random.rand({n}, 3) * 10.0 + np.arange({n})[:, None]",
        ("lj_energy(pos)",),
        400,
        200,
    ),
    KernelSpec(
        "recurrence",
        "import numpy as np\nx = np.random.rand({n})",
        ("ema(x, 0.1)",),
        400_000,
        100_000,
    ),
    KernelSpec(
        "vectorised",
        "import numpy as np\nz = np.random.rand({n}, 200)",
        ("softmax_rows(z)",),
        4000,
        1000,
    ),
    KernelSpec(
        "hashing",
        "import numpy as np\ncodes = [int(c) for c in np.random.randint(0, 256, {n})]",
        ("poly_hash(codes)",),
        40_000,
        10_000,
    ),
)
#: (label, pass factory, rtol) of the per-pass part
PASS_VARIANTS: tuple[tuple[str, Any, float], ...] = (
    ("loop-fusion", LoopFusionPass, TIGHT_RTOL),
    ("dtype-reduction", DtypeReductionPass, DTYPE_RTOL),
    ("jit:plain", lambda: JitPass(variants=("plain",)), TIGHT_RTOL),
    ("jit:parallel", lambda: JitPass(variants=("parallel",)), TIGHT_RTOL),
    ("jit:fastmath", lambda: JitPass(variants=("fastmath",)), TIGHT_RTOL),
)


@dataclass
class Row:
    """One measured variant of one kernel."""

    kernel: str
    variant: str
    opportunities: list[str] = field(default_factory=list)
    correct: bool | None = None
    max_rel_error: float | None = None
    rtol: float = TIGHT_RTOL
    ratio: float | None = None
    ci95: tuple[float, float] | None = None
    energy_original_j: float | None = None
    energy_variant_j: float | None = None
    cold_energy_j: float | None = None
    meter: str = ""
    measured: bool = False
    note: str = ""


# --- variants ------------------------------------------------------------------------------


def apply_pass(pass_: Pass, code: str) -> tuple[str, list[str], str]:
    """(new code, opportunity codes applied, reasons reported without a fix)."""
    module = SourceModule.parse(code)
    found = pass_.find(module)
    fixable = [o for o in found if o.fixable]
    reasons = "; ".join(f"{o.code} {o.message}" for o in found if not o.fixable)
    if not fixable:
        return code, [], reasons
    return pass_.apply(module, fixable).code, [o.code for o in fixable], reasons


def njit_everything(code: str) -> str:
    """The naive peer: `@numba.njit(cache=True)` on every module-level function."""
    tree = cst.parse_module(code)
    body = []
    for stmt in tree.body:
        if isinstance(stmt, cst.FunctionDef):
            decorator = cst.Decorator(decorator=cst.parse_expression("numba.njit(cache=True)"))
            stmt = stmt.with_changes(decorators=[decorator, *stmt.decorators])
        body.append(stmt)
    new_tree, _ = ensure_import(tree.with_changes(body=body), "numba")
    return new_tree.code


def greenopt_output(
    spec: KernelSpec, path: Path, quick: bool, meter: str, samples: int, min_sample_s: float | None
) -> tuple[str, str]:
    """(code, how it was obtained): the validated pipeline, or the passes applied directly."""
    try:
        from greenopt.optimizer.pipeline import optimize
    except ImportError:
        optimize = None
    failure = ""
    if optimize is not None:
        try:
            result = optimize(
                path,
                [spec.workload(path, quick)],
                meter=meter,
                samples=samples,
                min_sample_s=min_sample_s,
            )
        except Exception as exc:  # noqa: BLE001 - report and fall back, do not hide
            failure = f"pipeline failed ({type(exc).__name__}: {str(exc)[:80]}); "
            optimize = None
    if optimize is not None:
        accepted = [
            f"{f.name}: {'+'.join(f.passes)}" for f in result.functions if f.verdict == "accepted"
        ]
        return result.new_code, "greenopt.optimize (validated): " + (
            "; ".join(accepted) or "no change"
        )
    code = path.read_text()
    for pass_ in (LoopFusionPass(), JitPass(variants=("plain",))):
        code, _, _ = apply_pass(pass_, code)
    return code, failure + "passes applied directly (loop-fusion, jit plain; not validated)"


# --- running ---------------------------------------------------------------------------------


def outputs(workload: Workload) -> list[Any]:
    """Return values of the workload's calls plus the arrays of its namespace after them."""
    prepared = prepare(workload)
    values = [call() for call in prepared.calls]
    arrays = [v for k, v in sorted(prepared.namespace.items()) if isinstance(v, np.ndarray)]
    return values + arrays


def max_rel_error(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Largest relative difference between matching outputs (inf on shape/type mismatch)."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        if isinstance(x, (list, tuple)):
            worst = max(worst, max_rel_error(x, y))
            continue
        xa, ya = np.asarray(x), np.asarray(y)
        if xa.shape != ya.shape:
            return math.inf
        if xa.dtype == object or ya.dtype == object:
            if not np.array_equal(xa, ya):
                return math.inf
            continue
        xf, yf = xa.astype(np.float64), ya.astype(np.float64)
        if xa.dtype.kind in "iu" and (xa != ya).any():
            return math.inf if (xa.astype(object) != ya.astype(object)).any() else worst
        diff = np.abs(xf - yf)
        scale = np.maximum(np.abs(xf), 1e-300)
        if diff.size:
            worst = max(worst, float(np.max(diff / scale)))
    return worst


def evaluate(
    spec: KernelSpec,
    original: Path,
    variant_code: str,
    label: str,
    rtol: float,
    args: argparse.Namespace,
    options: RunOptions,
    workdir: Path,
) -> Row:
    """Check and measure one variant of one kernel against the original."""
    row = Row(spec.name, label, rtol=rtol)
    variant_dir = workdir / label.replace(":", "-").replace(" ", "_")
    variant_dir.mkdir(parents=True, exist_ok=True)
    variant_path = variant_dir / original.name
    variant_path.write_text(variant_code)
    # the in-process check imports its own copy, so Numba's on-disk cache next to the
    # measured file stays cold and the measurement's cold-call energy includes compilation
    check_path = variant_dir / "check" / original.name
    check_path.parent.mkdir()
    check_path.write_text(variant_code)
    try:
        want = outputs(spec.workload(original, args.quick))
        got = outputs(spec.workload(check_path, args.quick))
        row.max_rel_error = max_rel_error(want, got)
        row.correct = row.max_rel_error <= rtol
    except Exception as exc:  # noqa: BLE001 - a failing variant is a result
        row.correct = False
        row.note = f"fails: {describe_error(exc)[1][:160]}"
        return row
    try:
        comp = compare(
            spec.workload(original, args.quick),
            spec.workload(variant_path, args.quick),
            args.meter,
            options,
        )
    except GreenoptError as exc:
        row.note = f"measurement failed: {exc}"
        return row
    row.ratio = float(comp.ratio)
    row.ci95 = (float(comp.ci95[0]), float(comp.ci95[1]))
    row.energy_original_j = float(comp.a.energy_median_j)
    row.energy_variant_j = float(comp.b.energy_median_j)
    row.cold_energy_j = comp.b.cold_energy_j
    row.meter, row.measured = comp.a.meter.name, bool(comp.a.meter.measured)
    return row


def run_kernel(spec: KernelSpec, args: argparse.Namespace, options: RunOptions) -> list[Row]:
    """Per-pass rows and peer rows of one kernel."""
    original = KERNELS / f"{spec.name}.py"
    code = original.read_text()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"greenopt-passes-{spec.name}-") as tmp:
        workdir = Path(tmp)
        if not args.peers_only:
            for label, factory, rtol in PASS_VARIANTS:
                new_code, applied, reasons = apply_pass(factory(), code)
                if not applied:
                    rows.append(Row(spec.name, label, rtol=rtol, note=reasons or "no opportunity"))
                    continue
                row = evaluate(spec, original, new_code, label, rtol, args, options, workdir)
                row.opportunities = applied
                rows.append(row)
        peer_code, how = greenopt_output(
            spec, original, args.quick, args.meter, options.samples, options.min_sample_s
        )
        if peer_code == code:
            rows.append(
                Row(
                    spec.name,
                    "peer:greenopt",
                    ratio=1.0,
                    correct=True,
                    max_rel_error=0.0,
                    note=how + " (output = original)",
                )
            )
        else:
            row = evaluate(
                spec, original, peer_code, "peer:greenopt", TIGHT_RTOL, args, options, workdir
            )
            row.note = (row.note + "; " if row.note else "") + how
            rows.append(row)
        rows.append(
            evaluate(
                spec,
                original,
                njit_everything(code),
                "peer:njit-all",
                TIGHT_RTOL,
                args,
                options,
                workdir,
            )
        )
    return rows


# --- output ----------------------------------------------------------------------------------


def render(rows: list[Row]) -> None:
    """Print the per-pass and peer tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    meters = sorted({r.meter for r in rows if r.meter})
    measured = {r.measured for r in rows if r.meter}
    label = "measured" if measured == {True} else "estimated"
    for title, pick in (
        ("per pass (applied directly)", lambda r: not r.variant.startswith("peer:")),
        (
            "peer comparison: original vs greenopt vs @njit on every function",
            lambda r: r.variant.startswith("peer:"),
        ),
    ):
        table = Table(title=f"{title} — meter: {', '.join(meters) or '-'} ({label})")
        for col in (
            "kernel",
            "variant",
            "codes",
            "correct (max rel err)",
            "E ratio [95% CI]",
            "E original",
            "E variant",
            "note",
        ):
            table.add_column(col, overflow="fold")
        for r in filter(pick, rows):
            correct = (
                "-"
                if r.correct is None
                else (
                    f"{'yes' if r.correct else 'NO'} ({r.max_rel_error:.1e})"
                    if r.max_rel_error is not None
                    else ("yes" if r.correct else "NO")
                )
            )
            ratio = (
                "-"
                if r.ratio is None
                else (f"{r.ratio:.3f}" + (f" [{r.ci95[0]:.3f}, {r.ci95[1]:.3f}]" if r.ci95 else ""))
            )
            table.add_row(
                r.kernel,
                r.variant,
                ",".join(r.opportunities),
                correct,
                ratio,
                "-" if r.energy_original_j is None else f"{r.energy_original_j * 1e3:.2f} mJ",
                "-" if r.energy_variant_j is None else f"{r.energy_variant_j * 1e3:.2f} mJ",
                r.note,
            )
        console.print(table)
    console.print(
        "E ratio = median energy of the variant / original per workload run (< 1 saves "
        f"energy); {label} with meter {', '.join(meters) or '-'}. dtype-reduction is checked "
        f"at rtol {DTYPE_RTOL:g}, everything else at {TIGHT_RTOL:g}. Warm runs: JIT compile "
        "energy is excluded (see cold_energy_j in the JSON)."
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", help="comma-separated kernel names (default: all)")
    parser.add_argument("--meter", default="auto")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--min-sample-s", type=float, default=None)
    parser.add_argument("--quick", action="store_true", help="small sizes, 4 samples of >= 0.05 s")
    parser.add_argument("--peers-only", action="store_true", help="skip the per-pass part")
    parser.add_argument("--json", dest="json_path", help="write the rows to this JSON file")
    args = parser.parse_args(argv)
    names = args.kernels.split(",") if args.kernels else [s.name for s in SPECS]
    known = {s.name: s for s in SPECS}
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"unknown kernel(s): {', '.join(unknown)}")
    if args.quick:
        options = RunOptions(samples=4, min_sample_s=0.05, idle_baseline=False)
    else:
        options = RunOptions(samples=args.samples, min_sample_s=args.min_sample_s)
    rows: list[Row] = []
    started = time.perf_counter()
    for name in names:
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.extend(run_kernel(known[name], args, options))
    render(rows)
    if args.json_path:
        data = {
            "benchmark": "greenopt passes (loop-fusion, dtype-reduction, jit) and peers",
            "options": {
                "samples": options.samples,
                "min_sample_s": options.min_sample_s,
                "quick": args.quick,
                "dtype_rtol": DTYPE_RTOL,
            },
            "seconds": time.perf_counter() - started,
            "rows": [asdict(r) for r in rows],
        }
        Path(args.json_path).write_text(json.dumps(data, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
