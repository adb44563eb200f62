"""Accuracy of energy-ratio predictions, as used to decide what to measure.

All metrics take predicted and measured **log** ratios (log E_candidate/E_original)
and the ranking group of each sample (the same kernel at the same size: the
candidates that compete in one `rewrite`). Definitions (also in docs/model.md):

* `spearman`: Spearman rank correlation of predicted vs measured ratio over all
  samples (average ranks for ties; 0 when either side is constant).
* `pairwise_accuracy`: over every pair of candidates in the same group whose
  measured ratios differ by more than the noise floor `NOISE_EPS` (2%), the
  fraction the prediction orders the same way; a predicted tie counts one half.
* `top1_regret_*`: per group with >= 2 candidates, measured ratio of the
  predicted-best candidate / measured ratio of the truly best one − 1; mean and
  90th percentile.
* `top1_regret_abs_mean`: per group with >= 2 candidates, measured ratio of the
  predicted-best candidate − measured ratio of the truly best one, i.e. the share
  of the *original's* energy that the choice leaves unsaved; mean. It puts the
  relative regret in proportion: 80% regret between ratios 0.0018 and 0.0010 is
  0.08% of the original's energy.
* `best_in_top2`: per group with >= 2 candidates, fraction in which the truly best
  candidate is among the two with the lowest predictions.
* `harm_rate`: per group, the fraction in which the predicted-best candidate is
  predicted to save energy (ratio < 1) but measures worse than the original by
  more than the noise floor (ratio > 1 + `NOISE_EPS`).
* `mape_ratio`: mean |predicted ratio − measured ratio| / measured ratio.
* `top1_regret_resolved_mean` (only when the measurements' 95% CIs are given):
  the part of the top-1 regret that the measurements can resolve, per group
  max(0, CI low of the chosen / CI high of the best − 1). A regret between two
  candidates whose CIs overlap counts 0. Reported next to, never instead of,
  the raw regret.

Predicted ties are broken by sample order, so a constant predictor (the
no-change baseline) picks an arbitrary but deterministic candidate.

`bootstrap_intervals` says how precisely a table of this size pins these
figures down: it recomputes them on tables resampled kernel by kernel.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import trim_mean

#: relative difference below which two energies count as equal (DESIGN §4's minimum ε)
NOISE_EPS = 0.02
#: share of groups cut from each end for the trimmed mean of the top-1 regret
TRIM = 0.05


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of `values`, ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_vals = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson of average ranks); 0 if either is constant."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(x) < 2:
        return 0.0
    rx, ry = _ranks(x), _ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denom = math.sqrt(float((rx * rx).sum()) * float((ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def _groups(groups: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        out[g].append(i)
    return dict(out)


def ranking_metrics(
    predicted_log: Sequence[float],
    measured_log: Sequence[float],
    groups: Sequence[str],
    ci95: Sequence[tuple[float, float] | None] | None = None,
) -> dict[str, Any]:
    """All metrics of the module docstring for one set of predictions.

    `ci95` (optional) holds each sample's 95% CI of the measured ratio.
    """
    pred = np.asarray(predicted_log, dtype=np.float64)
    true = np.asarray(measured_log, dtype=np.float64)
    if pred.shape != true.shape or len(pred) != len(groups):
        raise ValueError("predictions, measurements and groups differ in length")
    eps_log = math.log1p(NOISE_EPS)
    pairs = correct = 0.0
    regrets: list[float] = []
    abs_regrets: list[float] = []
    resolved: list[float] = []
    top2_hits: list[float] = []
    harms: list[float] = []
    for members in _groups(groups).values():
        idx = np.asarray(members)
        p, t = pred[idx], true[idx]
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                if abs(t[a] - t[b]) <= eps_log:
                    continue
                pairs += 1
                if p[a] == p[b]:
                    correct += 0.5
                elif (p[a] < p[b]) == (t[a] < t[b]):
                    correct += 1
        order = np.argsort(p, kind="mergesort")
        chosen = order[0]
        harms.append(1.0 if p[chosen] < 0 and t[chosen] > eps_log else 0.0)
        if len(idx) >= 2:
            best = int(np.argmin(t))
            regrets.append(math.exp(t[chosen] - t[best]) - 1.0)
            abs_regrets.append(math.exp(t[chosen]) - math.exp(t[best]))
            if ci95 is not None:
                ci_chosen, ci_best = ci95[int(idx[chosen])], ci95[int(idx[best])]
                if ci_chosen and ci_best and ci_best[1] > 0:
                    resolved.append(max(0.0, ci_chosen[0] / ci_best[1] - 1.0))
                else:
                    resolved.append(math.exp(t[chosen] - t[best]) - 1.0)
            top2_hits.append(1.0 if best in set(order[:2].tolist()) else 0.0)
    return {
        "spearman": spearman(pred, true),
        "pairwise_accuracy": (correct / pairs) if pairs else None,
        "top1_regret_mean": float(np.mean(regrets)) if regrets else None,
        "top1_regret_p90": float(np.percentile(regrets, 90)) if regrets else None,
        # robust to the few groups missed by several times, which decide the mean
        "top1_regret_median": float(np.median(regrets)) if regrets else None,
        "top1_regret_trimmed_mean": float(trim_mean(regrets, TRIM)) if regrets else None,
        "top1_regret_abs_mean": float(np.mean(abs_regrets)) if abs_regrets else None,
        "best_in_top2": float(np.mean(top2_hits)) if top2_hits else None,
        "harm_rate": float(np.mean(harms)) if harms else None,
        "mape_ratio": float(np.mean(np.abs(np.exp(pred) - np.exp(true)) / np.exp(true)))
        if len(pred)
        else None,
        "top1_regret_resolved_mean": float(np.mean(resolved)) if resolved else None,
        "n_samples": int(len(pred)),
        "n_groups": len(harms),
        "n_groups_multi": len(regrets),
        "n_pairs": int(pairs),
    }


def mean_abs_log_error(predicted_log: Sequence[float], measured_log: Sequence[float]) -> float:
    """Mean |log predicted − log measured| (the per-pass policy's selection criterion)."""
    p = np.asarray(predicted_log, dtype=np.float64)
    t = np.asarray(measured_log, dtype=np.float64)
    return float(np.mean(np.abs(p - t))) if len(p) else math.inf


#: metrics that `bootstrap_intervals` reports
BOOTSTRAP_METRICS = (
    "spearman",
    "pairwise_accuracy",
    "best_in_top2",
    "top1_regret_mean",
    "harm_rate",
)


def bootstrap_intervals(
    predicted_log: Sequence[float],
    measured_log: Sequence[float],
    groups: Sequence[str],
    clusters: Sequence[str],
    n_resamples: int = 200,
    level: float = 0.9,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Percentile intervals of the ranking metrics under resampling of `clusters`.

    A cluster (a kernel: all its sizes and candidates) is drawn with replacement
    as a whole, so the rows' dependence within a kernel is kept; a cluster drawn
    twice counts as two kernels (its groups are renamed per draw). Returns
    `{metric: [low, high]}` for `BOOTSTRAP_METRICS` at the central `level`;
    deterministic for a given `seed`.
    """
    pred = np.asarray(predicted_log, dtype=np.float64)
    true = np.asarray(measured_log, dtype=np.float64)
    members: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(clusters):
        members[c].append(i)
    names = sorted(members)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {m: [] for m in BOOTSTRAP_METRICS}
    for _ in range(n_resamples):
        picks = rng.integers(0, len(names), len(names))
        rows: list[int] = []
        labels: list[str] = []
        for draw, k in enumerate(picks.tolist()):
            idx = members[names[k]]
            rows.extend(idx)
            labels.extend(f"{groups[i]}#{draw}" for i in idx)
        m = ranking_metrics(pred[rows], true[rows], labels)
        for key in BOOTSTRAP_METRICS:
            if m[key] is not None:
                draws[key].append(float(m[key]))
    tail = (1.0 - level) / 2.0 * 100.0
    return {
        key: [float(np.percentile(v, tail)), float(np.percentile(v, 100.0 - tail))]
        for key, v in draws.items()
        if v
    }
