"""How honest are the measurement verdicts? A simulation of the energy gate.

`rewrite` accepts a candidate only if the upper end of the 95% BCa bootstrap CI of
median(E_candidate) / median(E_original) over interleaved A/B samples is below
1 − ε, ε = max(A/A noise, 2%) (DESIGN §4). This script feeds that very code
(`greenopt.measure.statistics.ratio_ci`, `noise_floor` and
`greenopt.optimizer.validation.energy_rule`) synthetic samples whose true ratio is
known, and reports for each number of samples and noise level:

* `coverage`: how often the "95%" CI contains the true ratio (bootstrap CIs of a
  median from few samples are too narrow: read the CI as approximate below ~20);
* `false_accept`: how often a candidate that saves nothing (true ratio 1.0) passes
  the gate, with ε from an A/A run of the same size (the gate's real error rate);
* `accept_10pct`: how often a candidate that truly saves 10% passes (the power).

Noise model, per sample, on log energy: a drift shared by the A and B sample of a
pair (they run back to back), plus independent noise of each; `normal` or heavy
tailed (`t3`, Student t with 3 degrees of freedom, scaled to the same spread).
These are models, not measurements of this machine: `meter_overhead.py` measures
the A/A noise here.

    .venv/bin/python benchmarks/verdict_calibration.py [--quick] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from greenopt.measure.statistics import noise_floor, ratio_ci
from greenopt.optimizer.validation import energy_rule


@dataclass
class Cell:
    """The gate's behaviour for one number of samples, noise level and noise shape."""

    samples: int
    sigma: float
    shape: str
    trials: int
    coverage: float
    false_accept: float
    accept_10pct: float


def _noise(rng: np.random.Generator, shape: str, sigma: float, n: int) -> np.ndarray:
    """`n` log-noise values of spread `sigma` (t3 scaled to unit variance first)."""
    if shape == "t3":
        return sigma * rng.standard_t(3, n) / np.sqrt(3.0)
    return rng.normal(0.0, sigma, n)


def _pair(
    rng: np.random.Generator, shape: str, sigma: float, n: int, true_ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved A/B samples (joules) with a shared per-pair drift."""
    drift = _noise(rng, shape, sigma, n)
    a = np.exp(drift + _noise(rng, shape, sigma, n))
    b = true_ratio * np.exp(drift + _noise(rng, shape, sigma, n))
    return a, b


def simulate(samples: int, sigma: float, shape: str, trials: int, seed: int) -> Cell:
    """Run `trials` A/A + A/B rounds through the real CI and gate code."""
    rng = np.random.default_rng(seed)
    covered = false_accept = accept_10 = 0
    for _ in range(trials):
        a, b = _pair(rng, shape, sigma, samples, 1.0)
        _, lo, hi = ratio_ci(a, b, n_resamples=1000)
        noise = noise_floor((lo, hi))  # this A/A run is the ε of the next two
        a, b = _pair(rng, shape, sigma, samples, 1.0)
        _, lo, hi = ratio_ci(a, b, n_resamples=1000)
        covered += lo <= 1.0 <= hi
        false_accept += energy_rule(hi, noise)[1]
        a, b = _pair(rng, shape, sigma, samples, 0.9)
        _, lo, hi = ratio_ci(a, b, n_resamples=1000)
        accept_10 += energy_rule(hi, noise)[1]
    return Cell(
        samples=samples,
        sigma=sigma,
        shape=shape,
        trials=trials,
        coverage=covered / trials,
        false_accept=false_accept / trials,
        accept_10pct=accept_10 / trials,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials and settings")
    parser.add_argument("--trials", type=int, default=None, help="rounds per setting")
    parser.add_argument("--json", dest="json_path", help="write the cells as JSON")
    args = parser.parse_args(argv)
    trials = args.trials or (150 if args.quick else 600)
    sample_counts = (5, 10) if args.quick else (3, 5, 7, 10, 20)
    sigmas = (0.05,) if args.quick else (0.02, 0.05, 0.10)
    shapes = ("normal",) if args.quick else ("normal", "t3")
    cells = []
    print(f"{'samples':>7} {'sigma':>6} {'shape':>6} {'coverage':>9} {'false acc':>9} {'power':>6}")
    for seed, (shape, sigma, n) in enumerate(
        (shape, sigma, n) for shape in shapes for sigma in sigmas for n in sample_counts
    ):
        cell = simulate(n, sigma, shape, trials, seed)
        cells.append(cell)
        print(
            f"{n:>7} {sigma:>6.2f} {shape:>6} {cell.coverage:>9.3f} "
            f"{cell.false_accept:>9.3f} {cell.accept_10pct:>6.3f}",
            flush=True,
        )
    if args.json_path:
        document = {
            "what": "95% BCa ratio CI coverage and the energy gate's acceptance rates "
            "on simulated interleaved samples (true ratio 1.0 and 0.9)",
            "trials": trials,
            "cells": [asdict(c) for c in cells],
        }
        Path(args.json_path).write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
