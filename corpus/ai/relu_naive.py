"""ReLU and its derivative mask applied element by element."""

import numpy as np

FAMILY = "ai"
KERNEL = "relu_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(11)\nx = rng.standard_normal({n})\ndel rng"
CALL = "relu_naive(x)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def relu_naive(x):
    """max(x, 0) in a loop."""
    n = len(x)
    out = np.empty(n)
    for i in range(n):
        out[i] = max(x[i], 0.0)
    return out
