"""Statistics of energy samples: medians and BCa bootstrap confidence intervals.

* One variant: the median of the per-sample values (joules per call) and a 95% BCa
  bootstrap CI of that median (`scipy.stats.bootstrap`, method ``BCa``).
* Two variants: the ratio of medians ``median(b) / median(a)`` and its 95% BCa CI.
  When the samples were taken interleaved (A B B A ...), sample i of A and sample i
  of B ran back to back, so slow drift (thermal state, turbo budget, background
  load) hits both alike: the bootstrap then resamples *pairs* (``paired=True``).
  Otherwise both groups are resampled independently.
* A/A noise: the same workload compared with itself; the half-width of the ratio
  CI around 1, ``max(|1 - lo|, |hi - 1|)``, is the relative noise floor.

All resampling uses a fixed seed so that the same samples always give the same CI.
Degenerate inputs (fewer than three samples, all values equal) fall back to the
observed range, which is exact for constant data and honest for tiny ones.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95
N_RESAMPLES = 2000
SEED = 20240611


def median(values: Sequence[float]) -> float:
    """Median of `values` (NaN for an empty sequence)."""
    return float(np.median(np.asarray(values, dtype=float))) if len(values) else math.nan


def _finite_interval(lo: float, hi: float) -> bool:
    """True for a usable interval (finite, ordered)."""
    return math.isfinite(lo) and math.isfinite(hi) and lo <= hi


def median_ci(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float]:
    """BCa bootstrap CI of the median of `values`.

    Fewer than 3 values or constant values: (min, max). If BCa cannot be computed
    (e.g. a degenerate jackknife), the percentile interval is used instead.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (math.nan, math.nan)
    if x.size < 3 or float(np.ptp(x)) == 0.0:
        return (float(x.min()), float(x.max()))
    from scipy import stats

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (x,),
                np.median,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method=method,
                vectorized=True,
                axis=-1,
                rng=np.random.default_rng(seed),
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if _finite_interval(lo, hi):
            return (lo, hi)
    return (float(x.min()), float(x.max()))  # pragma: no cover - percentile is always finite


def _ratio_of_medians(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """The statistic bootstrapped for two groups: median(b) / median(a)."""
    return np.median(b, axis=axis) / np.median(a, axis=axis)


def ratio_ci(
    a: Sequence[float],
    b: Sequence[float],
    paired: bool = True,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float, float]:
    """``(ratio, lo, hi)``: median(b) / median(a) and its BCa bootstrap CI.

    `paired=True` needs equal lengths and resamples index pairs (samples taken
    interleaved); `paired=False` resamples each group on its own.
    """
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    if xa.size == 0 or xb.size == 0:
        return (math.nan, math.nan, math.nan)
    ratio = float(np.median(xb) / np.median(xa))
    if paired and xa.size != xb.size:
        paired = False
    if min(xa.size, xb.size) < 3 or (np.ptp(xa) == 0.0 and np.ptp(xb) == 0.0):
        lo = float(xb.min() / xa.max())
        hi = float(xb.max() / xa.min())
        return (ratio, min(lo, ratio), max(hi, ratio))
    from scipy import stats

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (xa, xb),
                _ratio_of_medians,
                paired=paired,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method=method,
                vectorized=True,
                axis=-1,
                rng=np.random.default_rng(seed),
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if _finite_interval(lo, hi):
            return (ratio, lo, hi)
    return (ratio, ratio, ratio)  # pragma: no cover


def noise_floor(ci: tuple[float, float]) -> float:
    """Relative noise of an A/A ratio CI: ``max(|1 - lo|, |hi - 1|)``."""
    lo, hi = ci
    return float(max(abs(1.0 - lo), abs(hi - 1.0)))
