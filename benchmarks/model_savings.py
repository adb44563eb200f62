"""How many measurements the cost model saves in `rewrite`, and what that costs in regret.

`rewrite` measures only the top-k candidates the model ranks best (k = 2 by
default) instead of every candidate. From the training table, with predictions
made out of fold (GroupKFold by kernel family, so every kernel is predicted by a
model that never saw its family), this prints for k = 1, 2, 3 and for each ranking
(learned model, roofline baseline, and the expected value of a random order):

* measurements: sum over groups of min(k, candidates) vs sum of candidates;
* regret: per group, measured ratio of the best of the k measured candidates /
  measured ratio of the best candidate overall − 1 (mean and 90th percentile);
* found best: fraction of groups where the truly best candidate was measured.

A group is one kernel at one workload size. Both feature views are reported:
sizes known (as in `greenopt train` and in `rewrite`, which binds its workload's argument
sizes) and unknown (as in `check`).

    .venv/bin/python benchmarks/model_savings.py [--data TABLE.json] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from greenopt.models.table import read_table
from greenopt.models.training import cross_validate

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1] / "greenopt" / "models" / "data" / "training_table.json"
)


def top_k_outcome(pred: np.ndarray, true: np.ndarray, k: int) -> tuple[int, float, bool]:
    """(measurements, regret, best found) for one group when the k best-predicted are measured."""
    order = np.argsort(pred, kind="mergesort")[:k]
    chosen = float(np.min(true[order]))
    best = float(np.min(true))
    return len(order), math.exp(chosen - best) - 1.0, bool(np.isclose(chosen, best))


def near_tie_outcome(
    pred: np.ndarray, true: np.ndarray, k: int, within: float, cap: int
) -> tuple[int, float, bool]:
    """Like `top_k_outcome`, plus the next candidates (up to `cap` in all) whose predicted
    ratio is within a factor `within` of the predicted best: a near tie the model cannot
    separate is measured instead of trusted."""
    order = np.argsort(pred, kind="mergesort")
    extra = [j for j in order[k:cap] if pred[j] - pred[order[0]] <= math.log(within)]
    chosen_idx = [*order[:k], *extra]
    chosen = float(np.min(true[chosen_idx]))
    best = float(np.min(true))
    return len(chosen_idx), math.exp(chosen - best) - 1.0, bool(np.isclose(chosen, best))


def random_outcome(true: np.ndarray, k: int) -> tuple[float, float, float]:
    """Expected (measurements, regret, best found) of measuring k candidates chosen at random."""
    n = len(true)
    k = min(k, n)
    ranked = np.sort(true)
    best = ranked[0]
    # P(the minimum of a random k-subset is the j-th smallest) = C(n-1-j, k-1) / C(n, k)
    total = math.comb(n, k)
    regret = 0.0
    for j in range(n - k + 1):
        p = math.comb(n - 1 - j, k - 1) / total
        regret += p * (math.exp(ranked[j] - best) - 1.0)
    return float(k), regret, k / n


def summarise(
    rows: list[Any], pred: np.ndarray, true: np.ndarray, k: int, within: float | None = None
) -> dict[str, Any]:
    """Savings and regret of top-k measurement with predictions `pred` (None: random);
    with `within`, near ties of the predicted best are measured too (up to k + 1)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[r.group].append(i)
    measured = every = 0.0
    regrets: list[float] = []
    found: list[float] = []
    for idx in groups.values():
        t = true[idx]
        every += len(idx)
        if pred is None:
            m, reg, hit = random_outcome(t, k)
        elif within is not None:
            m, reg, hit = near_tie_outcome(pred[idx], t, k, within, k + 1)
        else:
            m, reg, hit = top_k_outcome(pred[idx], t, k)
        measured += m
        regrets.append(reg)
        found.append(float(hit))
    return {
        "k": k,
        "groups": len(groups),
        "measurements": measured,
        "measurements_all": every,
        "saved": 1.0 - measured / every if every else 0.0,
        "regret_mean": float(np.mean(regrets)),
        "regret_p90": float(np.percentile(regrets, 90)),
        "found_best": float(np.mean(found)),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="training table JSON")
    parser.add_argument("--json", dest="json_path", default=None, help="write results as JSON")
    args = parser.parse_args(argv)
    table = read_table(args.data)
    cv = cross_validate(table)
    results: dict[str, Any] = {"data": args.data, "views": {}}
    print(
        f"{'view':8s} {'ranking':9s} {'k':>2s} {'measured':>14s} {'saved':>7s} "
        f"{'regret mean':>12s} {'regret p90':>11s} {'found best':>11s}"
    )
    for view in ("sized", "unsized"):
        idx = [i for i, r in enumerate(cv.rows) if r.view == view]
        if not idx:
            continue
        rows = [cv.rows[i] for i in idx]
        true = cv.measured[idx]
        rankings = {"model": cv.model[idx], "roofline": cv.roofline[idx], "random": None}
        out: dict[str, Any] = {}
        for name, pred in rankings.items():
            for k in (1, 2, 3):
                s = summarise(rows, pred, true, k)
                out[f"{name}@{k}"] = s
                print(
                    f"{view:8s} {name:9s} {k:2d} {s['measurements']:6.0f}/{s['measurements_all']:<7.0f} "
                    f"{s['saved']:7.1%} {s['regret_mean']:12.1%} {s['regret_p90']:11.1%} "
                    f"{s['found_best']:11.1%}"
                )
        for within in (1.1, 1.2, 1.5):  # top 2, and the third when predicted that close
            s = summarise(rows, cv.model[idx], true, 2, within)
            out[f"model@2+tie{within}"] = s
            print(
                f"{view:8s} {f'tie {within}':9s} {'2+':>2s} {s['measurements']:6.0f}/{s['measurements_all']:<7.0f} "
                f"{s['saved']:7.1%} {s['regret_mean']:12.1%} {s['regret_p90']:11.1%} "
                f"{s['found_best']:11.1%}"
            )
        results["views"][view] = out
    meters = sorted({f"{r.meter} ({'measured' if r.measured else 'estimated'})" for r in cv.rows})
    print(f"energies: {', '.join(meters)}; predictions out of fold (GroupKFold by family)")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
