"""Does the shipped table's ranking hold on another machine? The shipped table and model
against a re-measurement of the corpus elsewhere.

Measure the corpus on the other machine into a store, then compare:

    .venv/bin/greenopt train --measure-only --sizes medium --samples 7 --store other.sqlite
    .venv/bin/python benchmarks/machine_transfer.py other.sqlite [--size medium] [--json OUT]

The rows are joined on (kernel, candidate hash) at one workload size (sized view) and
scored with `model eval`'s own metrics (`ranking_metrics`, one group per kernel):

* `table -> other`: the shipped table's measurements as the predictor of the other
  machine's: how far a perfect copy of this machine's measurements can go there (a
  ceiling for any predictor trained here);
* `model -> other` and `model -> table`: the model's out-of-fold predictions
  (GroupKFold by family, as `model eval`) judged by either machine's measurements;
* `other -> table`: the reverse of the first.

It also prints how far the per-row ratios differ and which Numba flags win on each.
The "other" store may as well hold a second measurement on the same machine: the
comparison then says how well the measurements repeat (`--limit`/`--families` on the
`train --measure-only` that fills it keep it short; rows it lacks are left out).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from greenopt.models.evaluation import ranking_metrics
from greenopt.models.table import TrainingRow, read_table, store_rows
from greenopt.models.training import cross_validate
from greenopt.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flag_choice import DEFAULT_DATA, flag_mode  # noqa: E402

Key = tuple[str, str]


def winners(logs: dict[Key, float], code: dict[Key, str]) -> Counter[str]:
    """Which flags the best candidate of each kernel has."""
    best: dict[str, tuple[Key, float]] = {}
    for key, value in logs.items():
        if key[0] not in best or value < best[key[0]][1]:
            best[key[0]] = (key, value)
    return Counter(flag_mode(code[key]) or "not Numba" for key, _ in best.values())


def compare(
    table_rows: list[TrainingRow],
    table_log: list[float],
    model_log: list[float],
    other_rows: list[TrainingRow],
    size: str,
) -> dict[str, Any]:
    """The four scorings of the module docstring on the rows both machines measured."""
    here = {
        (r.kernel, r.candidate): (t, m, r)
        for r, t, m in zip(table_rows, table_log, model_log, strict=True)
        if r.view == "sized" and r.size == size
    }
    there = {
        (r.kernel, r.candidate): math.log(float(r.ratio))  # type: ignore[arg-type]
        for r in other_rows
        if r.usable and r.view == "sized" and r.size == size
    }
    common = sorted(set(here) & set(there))
    groups = [k for k, _ in common]
    other = [there[c] for c in common]
    table = [here[c][0] for c in common]
    model = [here[c][1] for c in common]
    scores = {
        "table -> other": ranking_metrics(table, other, groups),
        "model -> other": ranking_metrics(model, other, groups),
        "model -> table": ranking_metrics(model, table, groups),
        "other -> table": ranking_metrics(other, table, groups),
    }
    diff = np.abs(np.array(other) - np.array(table))
    code = {c: here[c][2].candidate_code for c in common}
    return {
        "size": size,
        "rows_common": len(common),
        "rows_only_table": len(set(here) - set(there)),
        "rows_only_other": len(set(there) - set(here)),
        "kernels": len(set(groups)),
        "scores": scores,
        "abs_log_ratio_difference": {
            "median": float(np.median(diff)) if len(diff) else None,
            "p90": float(np.percentile(diff, 90)) if len(diff) else None,
        },
        "winners_table": dict(winners(dict(zip(common, table, strict=True)), code)),
        "winners_other": dict(winners(dict(zip(common, other, strict=True)), code)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="measurement store of the other machine")
    parser.add_argument("--size", default="medium", help="workload size label")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="training table JSON")
    parser.add_argument("--json", dest="json_path", help="write the result as JSON")
    args = parser.parse_args(argv)
    store = Store(args.store)
    try:
        other_rows = store_rows(store)
    finally:
        store.close()
    cv = cross_validate(read_table(args.data))
    result = compare(cv.rows, list(cv.measured), list(cv.model), other_rows, args.size)
    print(
        f"size {result['size']}: {result['rows_common']} rows on both machines "
        f"({result['kernels']} kernels), {result['rows_only_table']} only in the table, "
        f"{result['rows_only_other']} only in the store"
    )
    for name, m in result["scores"].items():
        print(
            f"  {name:15s} Spearman {m['spearman']:.3f}  pairwise {m['pairwise_accuracy']:.1%}  "
            f"best in top-2 {m['best_in_top2']:.1%}  top-1 regret {m['top1_regret_mean']:.1%} "
            f"(trimmed {m['top1_regret_trimmed_mean']:.1%})  harm {m['harm_rate']:.1%}"
        )
    d = result["abs_log_ratio_difference"]
    print(f"  |log(other / table)| per row: median {d['median']:.3f}, p90 {d['p90']:.3f}")
    print(f"  winning flags, table: {result['winners_table']}")
    print(f"  winning flags, other: {result['winners_other']}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(result, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
