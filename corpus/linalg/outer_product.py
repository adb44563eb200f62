"""Outer product of two vectors with nested loops."""

import numpy as np

FAMILY = "linalg"
KERNEL = "outer_product"
SETUP = "import numpy as np\nrng = np.random.default_rng(53)\nx = rng.random({n})\ny = rng.random({n})\ndel rng"
CALL = "outer_product(x, y)"
SIZES = {"small": {"n": 100}, "medium": {"n": 220}, "large": {"n": 450}}
SHAPES = {"x": ["n"], "y": ["n"]}


def outer_product(x, y):
    """out[i, j] = x[i] * y[j]."""
    n = len(x)
    m = len(y)
    out = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            out[i, j] = x[i] * y[j]
    return out
