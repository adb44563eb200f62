"""Biased autocorrelation for lags 0..L-1 with two loops."""

import numpy as np

FAMILY = "signal"
KERNEL = "autocorrelation"
SETUP = "import numpy as np\nrng = np.random.default_rng(72)\nx = rng.standard_normal({n})\ndel rng"
CALL = "autocorrelation(x, 20)"
SIZES = {"small": {"n": 600}, "medium": {"n": 2000}, "large": {"n": 7000}}
SHAPES = {"x": ["n"]}


def autocorrelation(x, lags):
    """r[k] = (1/n) sum_t x[t] x[t+k]."""
    n = len(x)
    r = np.zeros(lags)
    for k in range(lags):
        s = 0.0
        for t in range(n - k):
            s += x[t] * x[t + k]
        r[k] = s / n
    return r
