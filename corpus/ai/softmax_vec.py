"""Row-wise softmax, already vectorised with numpy (a 'good' kernel)."""

import numpy as np

FAMILY = "ai"
KERNEL = "softmax_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(3)\nx = rng.standard_normal(({r}, {c}))\ndel rng"
CALL = "softmax_vec(x)"
SIZES = {"small": {"r": 100, "c": 500}, "medium": {"r": 300, "c": 1000}, "large": {"r": 600, "c": 2000}}
SHAPES = {"x": ["r", "c"]}


def softmax_vec(x):
    """Softmax over the last axis with broadcasting."""
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
