"""Statistics: BCa CIs cover the truth on synthetic samples (fixed seeds), edge cases, noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from greenopt.measure.statistics import median, median_ci, noise_floor, ratio_ci

TRIALS = 40


def test_median_ci_covers_the_true_median_in_most_trials() -> None:
    true_median = 5.0
    covered = 0
    for seed in range(TRIALS):
        rng = np.random.default_rng(seed)
        samples = true_median + rng.normal(0.0, 0.5, size=20)
        lo, hi = median_ci(samples)
        assert lo <= median(samples) <= hi
        covered += lo <= true_median <= hi
    assert covered >= 0.8 * TRIALS


def test_paired_ratio_ci_covers_the_true_ratio_under_drift() -> None:
    true_ratio = 0.8
    covered = 0
    widths_paired, widths_independent = [], []
    for seed in range(TRIALS):
        rng = np.random.default_rng(1000 + seed)
        drift = np.linspace(1.0, 1.3, 16) * rng.lognormal(0.0, 0.05, size=16)  # shared by the pair
        a = 10.0 * drift * rng.lognormal(0.0, 0.01, size=16)
        b = 10.0 * true_ratio * drift * rng.lognormal(0.0, 0.01, size=16)
        ratio, lo, hi = ratio_ci(a, b, paired=True)
        assert lo <= ratio <= hi
        covered += lo <= true_ratio <= hi
        widths_paired.append(hi - lo)
        _, ilo, ihi = ratio_ci(a, b, paired=False)
        widths_independent.append(ihi - ilo)
    assert covered >= 0.8 * TRIALS
    # pairing removes the shared drift: its intervals are narrower
    assert np.median(widths_paired) < np.median(widths_independent)


def test_ci_is_deterministic() -> None:
    x = np.random.default_rng(3).normal(size=12)
    assert median_ci(x) == median_ci(x)
    y = x + 10
    assert ratio_ci(y, y * 1.1) == ratio_ci(y, y * 1.1)


def test_degenerate_inputs() -> None:
    assert median_ci([2.0, 2.0, 2.0, 2.0]) == (2.0, 2.0)
    assert median_ci([1.0, 3.0]) == (1.0, 3.0)
    assert median_ci([4.0]) == (4.0, 4.0)
    lo, hi = median_ci([])
    assert math.isnan(lo) and math.isnan(hi)
    ratio, lo, hi = ratio_ci([2.0, 2.0, 2.0], [3.0, 3.0, 3.0])
    assert (ratio, lo, hi) == (1.5, 1.5, 1.5)
    ratio, lo, hi = ratio_ci([1.0, 2.0], [2.0, 2.0])
    assert lo <= ratio <= hi


def test_unequal_lengths_fall_back_to_independent_resampling() -> None:
    rng = np.random.default_rng(7)
    ratio, lo, hi = ratio_ci(rng.normal(10, 1, 10), rng.normal(20, 1, 12), paired=True)
    assert lo <= ratio <= hi and 1.5 < ratio < 2.5


def test_noise_floor_is_the_larger_distance_from_one() -> None:
    assert noise_floor((0.97, 1.01)) == pytest.approx(0.03)
    assert noise_floor((0.99, 1.05)) == pytest.approx(0.05)
