"""Row-wise numerically stable softmax written with explicit loops."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "softmax_rows"
SETUP = "import numpy as np\nrng = np.random.default_rng(2)\nx = rng.standard_normal(({r}, {c}))\ndel rng"
CALL = "softmax_rows(x)"
SIZES = {"small": {"r": 20, "c": 200}, "medium": {"r": 50, "c": 400}, "large": {"r": 100, "c": 800}}
SHAPES = {"x": ["r", "c"]}


def softmax_rows(x):
    """Softmax over the last axis, loop over rows and columns."""
    rows, cols = x.shape
    out = np.empty((rows, cols))
    for i in range(rows):
        m = x[i, 0]
        for j in range(cols):
            if x[i, j] > m:
                m = x[i, j]
        total = 0.0
        for j in range(cols):
            out[i, j] = math.exp(x[i, j] - m)
            total += out[i, j]
        for j in range(cols):
            out[i, j] = out[i, j] / total
    return out
