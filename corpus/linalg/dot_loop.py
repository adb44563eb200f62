"""Inner product with an interpreted accumulation loop."""

FAMILY = "linalg"
KERNEL = "dot_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(50)\nx = rng.random({n})\ny = rng.random({n})\ndel rng"
CALL = "dot_loop(x, y)"
SIZES = {"small": {"n": 30000}, "medium": {"n": 100000}, "large": {"n": 300000}}
SHAPES = {"x": ["n"], "y": ["n"]}


def dot_loop(x, y):
    """sum_i x[i] * y[i]."""
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s
