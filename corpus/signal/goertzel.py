"""Goertzel algorithm: power of one frequency bin (recursive loop)."""

import math

FAMILY = "signal"
KERNEL = "goertzel"
SETUP = "import numpy as np\nrng = np.random.default_rng(79)\nx = rng.standard_normal({n})\ndel rng"
CALL = "goertzel(x, 0.1)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def goertzel(x, freq):
    """|X(freq)|^2 with the second-order recursion."""
    coeff = 2.0 * math.cos(2.0 * math.pi * freq)
    s1 = 0.0
    s2 = 0.0
    for i in range(len(x)):
        s0 = x[i] + coeff * s1 - s2
        s2 = s1
        s1 = s0
    return s1 * s1 + s2 * s2 - coeff * s1 * s2
