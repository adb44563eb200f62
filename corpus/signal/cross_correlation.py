"""Cross-correlation of two signals at a range of lags with loops."""

import numpy as np

FAMILY = "signal"
KERNEL = "cross_correlation"
SETUP = "import numpy as np\nrng = np.random.default_rng(81)\na = rng.standard_normal({n})\nb = rng.standard_normal({n})\ndel rng"
CALL = "cross_correlation(a, b, 16)"
SIZES = {"small": {"n": 500}, "medium": {"n": 1800}, "large": {"n": 6000}}
SHAPES = {"a": ["n"], "b": ["n"]}


def cross_correlation(a, b, maxlag):
    """r[k] = sum_t a[t] b[t+k] for k in 0..maxlag-1."""
    n = len(a)
    r = np.zeros(maxlag)
    for k in range(maxlag):
        for t in range(n - k):
            r[k] += a[t] * b[t + k]
    return r
