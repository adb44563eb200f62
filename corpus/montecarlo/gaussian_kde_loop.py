"""Gaussian kernel density estimate at query points, two loops with np.exp per pair."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "gaussian_kde_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(81)\nsamples = rng.standard_normal({n})\nqueries = np.linspace(-3.0, 3.0, {m})\ndel rng"
CALL = "gaussian_kde_loop(samples, queries, 0.3)"
SIZES = {
    "small": {"n": 300, "m": 80},
    "medium": {"n": 600, "m": 150},
    "large": {"n": 900, "m": 200},
}
SHAPES = {"samples": ["n"], "queries": ["m"]}


def gaussian_kde_loop(samples, queries, h):
    """density[q] = mean_j exp(-((queries[q] - samples[j]) / h)^2 / 2) / (h sqrt(2 pi))."""
    n = len(samples)
    norm = 1.0 / (n * h * np.sqrt(2.0 * np.pi))
    density = np.zeros(len(queries))
    for q in range(len(queries)):
        s = 0.0
        for j in range(n):
            z = (queries[q] - samples[j]) / h
            s += np.exp(-0.5 * z * z)
        density[q] = s * norm
    return density
