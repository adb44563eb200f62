"""`greenopt train`'s measurement sessions: grouped (one original per kernel and size) vs one per candidate.

Measures the same corpus kernels twice in one run, on fresh temporary stores:

* **per candidate**: `group_size=1`, every candidate × size in its own session
  with its own original child (how `train` measured before `compare_many`);
* **grouped**: the default, all of a kernel's candidates at one size in one
  session against one original child.

Prints the wall time of each and their ratio, and how far the two agree: the
median |log ratio| difference per row, and the fraction of candidate pairs (same
kernel and size, measured ratios more than 2% apart in both runs) that the two
runs order the same way. Nothing is written to the shipped data.

    .venv/bin/python benchmarks/train_sessions.py [--kernels ai/relu_layer,fluid/heat2d] \\
        [--samples 5] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from greenopt.models.collect import CollectOptions, Collector, load_passes, plan
from greenopt.models.corpus import default_corpus_dir, load_corpus
from greenopt.models.table import TrainingRow
from greenopt.store import Store

DEFAULT_KERNELS = "linalg/saxpy_loop,fluid/heat2d,image/brightness_contrast"


def measure_all(
    kernel_keys: list[str], samples: int, group_size: int, workdir: Path
) -> tuple[float, list[TrainingRow]]:
    """Wall seconds and rows of measuring every candidate of the kernels with `group_size`."""
    kernels = [k for k in load_corpus(default_corpus_dir()) if k.key in kernel_keys]
    missing = set(kernel_keys) - {k.key for k in kernels}
    if missing:
        raise SystemExit(f"unknown corpus kernels: {', '.join(sorted(missing))}")
    passes, _ = load_passes()
    the_plan = plan(kernels, passes)
    store = Store(workdir / f"store-{group_size}.sqlite")
    options = CollectOptions(meter="estimate", samples=samples, group_size=group_size)
    collector = Collector(store, options, "estimate", False, "bench", workdir=str(workdir))
    rows: list[TrainingRow] = []
    start = time.perf_counter()
    try:
        for kernel in kernels:
            tasks = [t for t in the_plan.tasks if t.kernel.key == kernel.key]
            rows.extend(collector.run_kernel(kernel, tasks))
    finally:
        collector.close()
        store.close()
    return time.perf_counter() - start, rows


def agreement(a: list[TrainingRow], b: list[TrainingRow]) -> dict[str, Any]:
    """How the two runs' measured ratios agree, row by row and in within-group order."""
    ra = {(r.kernel, r.size, r.candidate): r.ratio for r in a if r.usable}
    rb = {(r.kernel, r.size, r.candidate): r.ratio for r in b if r.usable}
    common = sorted(set(ra) & set(rb))
    diffs = sorted(abs(math.log(ra[k] / rb[k])) for k in common)  # type: ignore[operator]
    eps = math.log1p(0.02)
    same = total = 0
    for i, ki in enumerate(common):
        for kj in common[i + 1 :]:
            if ki[:2] != kj[:2]:
                continue
            da = math.log(ra[ki] / ra[kj])  # type: ignore[operator]
            db = math.log(rb[ki] / rb[kj])  # type: ignore[operator]
            if abs(da) <= eps or abs(db) <= eps:
                continue
            total += 1
            same += (da > 0) == (db > 0)
    return {
        "rows_compared": len(common),
        "median_abs_log_ratio_diff": diffs[len(diffs) // 2] if diffs else None,
        "pairs_compared": total,
        "pairs_same_order": (same / total) if total else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both protocols and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernels", default=DEFAULT_KERNELS, help="comma-separated corpus keys")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.kernels.split(",") if k.strip()]
    with tempfile.TemporaryDirectory(prefix="greenopt-bench-train-") as tmp:
        single_s, single = measure_all(keys, args.samples, 1, Path(tmp))
        grouped_s, grouped = measure_all(keys, args.samples, CollectOptions().group_size, Path(tmp))
    result = {
        "kernels": keys,
        "samples": args.samples,
        "meter": "estimate (estimated)",
        "per_candidate_s": round(single_s, 2),
        "grouped_s": round(grouped_s, 2),
        "speedup": round(single_s / grouped_s, 3) if grouped_s > 0 else None,
        "rows": {"per_candidate": len(single), "grouped": len(grouped)},
        "agreement": agreement(single, grouped),
    }
    print(
        f"{len(keys)} kernels, {len(grouped)} rows, samples {args.samples}, meter estimate\n"
        f"per-candidate sessions {single_s:.1f} s, grouped sessions {grouped_s:.1f} s: "
        f"{result['speedup']}x"
    )
    agree = result["agreement"]
    print(
        f"agreement: median |log ratio diff| {agree['median_abs_log_ratio_diff']}, "
        f"same order in {agree['pairs_same_order']} of {agree['pairs_compared']} pairs"
    )
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
