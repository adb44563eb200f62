"""Centred moving average with a window loop per sample."""

import numpy as np

FAMILY = "signal"
KERNEL = "moving_average"
SETUP = "import numpy as np\nrng = np.random.default_rng(73)\nx = rng.standard_normal({n})\ndel rng"
CALL = "moving_average(x, 5)"
SIZES = {"small": {"n": 2000}, "medium": {"n": 8000}, "large": {"n": 25000}}
SHAPES = {"x": ["n"]}


def moving_average(x, half):
    """Mean over [i-half, i+half] for interior samples, zeros at the edges."""
    n = len(x)
    out = np.zeros(n)
    width = 2 * half + 1
    for i in range(half, n - half):
        s = 0.0
        for j in range(i - half, i + half + 1):
            s += x[j]
        out[i] = s / width
    return out
