"""a*x + y element by element into a new array."""

import numpy as np

FAMILY = "linalg"
KERNEL = "saxpy_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(51)\nx = rng.random({n})\ny = rng.random({n})\ndel rng"
CALL = "saxpy_loop(2.5, x, y)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"], "y": ["n"]}


def saxpy_loop(a, x, y):
    """out = a*x + y."""
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
