"""Bootstrap distribution of the sample mean from pre-drawn resampling indices."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "bootstrap_mean"
SETUP = "import numpy as np\nrng = np.random.default_rng(226)\ndata = 5.0 + 2.0 * rng.standard_normal({n})\nidx = rng.integers(0, {n}, size=({b}, {n}), dtype=np.int64)\ndel rng"
CALL = "bootstrap_mean(data, idx)"
SIZES = {
    "small": {"b": 100, "n": 200},
    "medium": {"b": 200, "n": 400},
    "large": {"b": 400, "n": 800},
}
SHAPES = {"data": ["n"], "idx": ["b", "n"]}


def bootstrap_mean(data, idx):
    """means[b] = mean of data[idx[b, :]] for each bootstrap resample b."""
    nboot, n = idx.shape
    means = np.empty(nboot)
    for b in range(nboot):
        s = 0.0
        for i in range(n):
            s += data[idx[b, i]]
        means[b] = s / n
    return means
