"""Finite impulse response filter, direct form, two loops."""

import numpy as np

FAMILY = "signal"
KERNEL = "fir_filter"
SETUP = "import numpy as np\nrng = np.random.default_rng(70)\nx = rng.standard_normal({n})\nh = np.hanning(16) / 8.0\ndel rng"
CALL = "fir_filter(x, h)"
SIZES = {"small": {"n": 1000}, "medium": {"n": 4000}, "large": {"n": 12000}}
SHAPES = {"x": ["n"], "h": [16]}


def fir_filter(x, h):
    """y[n] = sum_k h[k] x[n-k] (zero initial state)."""
    n = len(x)
    taps = len(h)
    y = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(taps):
            if i - k >= 0:
                acc += h[k] * x[i - k]
        y[i] = acc
    return y
