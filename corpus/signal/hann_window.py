"""Apply a Hann window sample by sample with math.cos."""

import math

import numpy as np

FAMILY = "signal"
KERNEL = "hann_window"
SETUP = "import numpy as np\nrng = np.random.default_rng(78)\nx = rng.standard_normal({n})\ndel rng"
CALL = "hann_window(x)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"x": ["n"]}


def hann_window(x):
    """x[i] * 0.5 (1 - cos(2 pi i / (n - 1)))."""
    n = len(x)
    out = np.empty(n)
    for i in range(n):
        out[i] = x[i] * 0.5 * (1.0 - math.cos(2.0 * math.pi * i / (n - 1)))
    return out
