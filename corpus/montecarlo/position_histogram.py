"""Histogram of particle positions into bins (scatter with repeated indices)."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "position_histogram"
SETUP = "import numpy as np\nrng = np.random.default_rng(99)\nx = rng.random({n})\ndel rng"
CALL = "position_histogram(x, 64)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def position_histogram(x, bins):
    """counts[b] = number of x in [b/bins, (b+1)/bins)."""
    counts = np.zeros(bins)
    for i in range(len(x)):
        b = int(x[i] * bins)
        if b >= bins:
            b = bins - 1
        counts[b] += 1.0
    return counts
