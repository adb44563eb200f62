"""Full linear convolution of two sequences by the definition."""

import numpy as np

FAMILY = "signal"
KERNEL = "convolve_full"
SETUP = "import numpy as np\nrng = np.random.default_rng(75)\na = rng.standard_normal({n})\nb = rng.standard_normal({m})\ndel rng"
CALL = "convolve_full(a, b)"
SIZES = {"small": {"n": 400, "m": 30}, "medium": {"n": 1200, "m": 40}, "large": {"n": 3000, "m": 50}}
SHAPES = {"a": ["n"], "b": ["m"]}


def convolve_full(a, b):
    """c[i + j] += a[i] b[j]."""
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for j in range(m):
            c[i + j] += a[i] * b[j]
    return c
