"""Logistic sigmoid of a vector, element by element with math.exp."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "sigmoid_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(12)\nx = rng.standard_normal({n})\ndel rng"
CALL = "sigmoid_naive(x)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"x": ["n"]}


def sigmoid_naive(x):
    """1 / (1 + exp(-x))."""
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = 1.0 / (1.0 + math.exp(-x[i]))
    return out
