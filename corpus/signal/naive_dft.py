"""Discrete Fourier transform by the O(n^2) definition."""

import math

import numpy as np

FAMILY = "signal"
KERNEL = "naive_dft"
SETUP = "import numpy as np\nrng = np.random.default_rng(71)\nx = rng.standard_normal({n})\ndel rng"
CALL = "naive_dft(x)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 300}}
SHAPES = {"x": ["n"]}


def naive_dft(x):
    """Real and imaginary parts of X[k] = sum_t x[t] exp(-2 pi i k t / n)."""
    n = len(x)
    re = np.zeros(n)
    im = np.zeros(n)
    for k in range(n):
        for t in range(n):
            ang = 2.0 * math.pi * k * t / n
            re[k] += x[t] * math.cos(ang)
            im[k] -= x[t] * math.sin(ang)
    return re, im
