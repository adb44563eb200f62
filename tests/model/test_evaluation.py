"""Metrics on data with known answers, and GroupKFold by family."""

from __future__ import annotations

import math

import numpy as np
import pytest

from greenopt.models.evaluation import bootstrap_intervals, ranking_metrics, spearman
from greenopt.models.training import (
    choose_policy,
    cross_validate,
    evaluate,
    other_sizes_reference,
    policy_predictions,
)

L = math.log


def test_spearman_known_values() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)


def test_perfect_predictions() -> None:
    true = [L(0.5), L(0.8), L(1.2), L(0.3), L(0.9)]
    groups = ["a", "a", "a", "b", "b"]
    m = ranking_metrics(true, true, groups)
    assert m["pairwise_accuracy"] == 1.0
    assert m["top1_regret_mean"] == 0.0 and m["top1_regret_p90"] == 0.0
    assert m["best_in_top2"] == 1.0 and m["harm_rate"] == 0.0
    assert m["mape_ratio"] == pytest.approx(0.0)
    assert (m["n_samples"], m["n_groups"], m["n_groups_multi"], m["n_pairs"]) == (5, 2, 2, 4)


def test_wrong_order_gives_regret_and_harm() -> None:
    # group a: truly best is 0.5 but the prediction picks the 1.2 one (which is harmful)
    true = [L(0.5), L(0.8), L(1.2)]
    pred = [L(0.9), L(0.7), L(0.6)]
    m = ranking_metrics(pred, true, ["a"] * 3)
    assert m["pairwise_accuracy"] == 0.0
    assert m["top1_regret_mean"] == pytest.approx(1.2 / 0.5 - 1)
    assert m["best_in_top2"] == 0.0
    assert m["harm_rate"] == 1.0
    assert m["mape_ratio"] == pytest.approx((0.4 / 0.5 + 0.1 / 0.8 + 0.6 / 1.2) / 3)


def test_robust_regret_figures_ignore_a_few_big_misses() -> None:
    """The median and the 5% trimmed mean of the top-1 regret are not decided by the
    rare group whose first choice is several times worse than the best."""
    true, pred, groups = [], [], []
    for g in range(40):  # 40 groups picked right, one missed by 6x
        true += [L(0.01), L(0.02)]
        pred += [L(0.01), L(0.02)]  # the first candidate predicted best everywhere
        groups += [f"g{g}", f"g{g}"]
    true[0], true[1] = L(0.07), L(0.01)  # the first group's choice is 7x the best
    m = ranking_metrics(pred, true, groups)
    assert m["top1_regret_mean"] == pytest.approx(6.0 / 40)
    assert m["top1_regret_median"] == 0.0
    assert m["top1_regret_trimmed_mean"] == 0.0  # the 2 largest of 40 are cut


def test_pairs_within_noise_are_skipped_and_ties_count_half() -> None:
    true = [L(1.0), L(1.01), L(0.5)]
    pred = [0.0, 0.0, 0.0]
    m = ranking_metrics(pred, true, ["g"] * 3)
    assert m["n_pairs"] == 2  # (1.0, 1.01) is within the 2% noise floor
    assert m["pairwise_accuracy"] == 0.5
    # a predicted saving that measures as no change is not harm
    m2 = ranking_metrics([L(0.5)], [L(1.01)], ["g"])
    assert m2["harm_rate"] == 0.0 and m2["top1_regret_mean"] is None


def test_group_kfold_never_splits_a_family(table) -> None:
    cv = cross_validate(table)
    assert cv.n_splits == 4
    seen: set[str] = set()
    for fold, fams in enumerate(cv.fold_families):
        train_fams = {r.family for r, f in zip(cv.rows, cv.folds, strict=True) if f != fold}
        assert not set(fams) & train_fams
        seen |= set(fams)
    assert seen == {r.family for r in cv.rows}


def test_cross_validated_model_learns_the_synthetic_law(table) -> None:
    cv = cross_validate(table)
    policy = choose_policy(cv)
    report = evaluate(cv, policy)
    assert report["cv"] == "GroupKFold" and report["n_families"] == 4
    assert report["spearman"] > 0.9
    assert report["pairwise_accuracy"] > report["baselines"]["no_change"]["pairwise_accuracy"]
    assert policy["default"] == "model"
    mixed = policy_predictions(cv, policy)
    np.testing.assert_allclose(mixed, cv.model)


def test_resolved_regret_ignores_overlapping_intervals() -> None:
    true = [L(0.010), L(0.012), L(0.5)]
    pred = [L(0.5), L(0.01), L(0.9)]  # picks the 0.012 candidate, best is 0.010
    overlapping = [(0.008, 0.013), (0.009, 0.015), (0.45, 0.55)]
    m = ranking_metrics(pred, true, ["g"] * 3, overlapping)
    assert m["top1_regret_mean"] == pytest.approx(0.2)
    assert m["top1_regret_resolved_mean"] == 0.0
    assert m["top1_regret_abs_mean"] == pytest.approx(0.002)  # 0.012 - 0.010 of the original
    separate = [(0.0099, 0.0101), (0.0119, 0.0121), (0.45, 0.55)]
    m2 = ranking_metrics(pred, true, ["g"] * 3, separate)
    assert m2["top1_regret_resolved_mean"] == pytest.approx(0.0119 / 0.0101 - 1)
    assert ranking_metrics(pred, true, ["g"] * 3)["top1_regret_resolved_mean"] is None


def test_bootstrap_intervals_resample_whole_kernels() -> None:
    rng = np.random.default_rng(1)
    true = rng.normal(size=60)
    groups = [f"k{i // 6}@s{(i // 3) % 2}" for i in range(60)]  # 10 kernels x 2 sizes x 3
    kernels = [g.split("@")[0] for g in groups]
    perfect = bootstrap_intervals(true, true, groups, kernels, n_resamples=50)
    assert perfect["pairwise_accuracy"] == [1.0, 1.0]
    assert perfect["top1_regret_mean"] == [0.0, 0.0]
    noisy = true + rng.normal(scale=1.0, size=60)
    a = bootstrap_intervals(noisy, true, groups, kernels, n_resamples=50, seed=3)
    assert a == bootstrap_intervals(noisy, true, groups, kernels, n_resamples=50, seed=3)
    point = ranking_metrics(noisy, true, groups)
    for key, (lo, hi) in a.items():
        assert lo <= point[key] <= hi and lo < hi, key


def test_other_sizes_reference_uses_only_the_other_sizes(table) -> None:
    cv = cross_validate(table)
    ref = other_sizes_reference(cv)
    row = cv.rows[0]
    others = [
        i
        for i, r in enumerate(cv.rows)
        if (r.kernel, r.candidate, r.view) == (row.kernel, row.candidate, row.view)
        and r.size != row.size
    ]
    assert len(others) == 2
    assert ref[0] == pytest.approx(np.mean(cv.measured[others]))
    report = evaluate(cv, choose_policy(cv))
    assert set(report["intervals90"]) >= {"pairwise_accuracy", "top1_regret_mean"}
    assert report["reference_other_sizes"]["n_samples"] == report["n_samples"]
