"""Layer normalisation of each row with explicit mean/variance loops."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "layernorm"
SETUP = "import numpy as np\nrng = np.random.default_rng(10)\nx = rng.standard_normal(({r}, {c}))\ndel rng"
CALL = "layernorm(x)"
SIZES = {"small": {"r": 20, "c": 256}, "medium": {"r": 40, "c": 512}, "large": {"r": 80, "c": 1024}}
SHAPES = {"x": ["r", "c"]}


def layernorm(x):
    """(x - mean) / sqrt(var + eps) per row."""
    rows, cols = x.shape
    out = np.empty((rows, cols))
    for i in range(rows):
        mean = 0.0
        for j in range(cols):
            mean += x[i, j]
        mean = mean / cols
        var = 0.0
        for j in range(cols):
            var += (x[i, j] - mean) ** 2
        var = var / cols
        inv = 1.0 / math.sqrt(var + 1e-5)
        for j in range(cols):
            out[i, j] = (x[i, j] - mean) * inv
    return out
