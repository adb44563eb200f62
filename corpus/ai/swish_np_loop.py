"""SiLU (swish) activation element by element, with np.exp on each scalar."""

import numpy as np

FAMILY = "ai"
KERNEL = "swish_np_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(17)\nx = rng.standard_normal({n})\ndel rng"
CALL = "swish_np_loop(x)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def swish_np_loop(x):
    """x / (1 + exp(-x))."""
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = x[i] / (1.0 + np.exp(-x[i]))
    return out
