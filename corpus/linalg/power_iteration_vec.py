"""Power iteration for the dominant eigenvalue, already vectorised."""

import numpy as np

FAMILY = "linalg"
KERNEL = "power_iteration_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(58)\nm = rng.random(({n}, {n}))\na = m + m.T\ndel rng"
CALL = "power_iteration_vec(a, 20)"
SIZES = {"small": {"n": 100}, "medium": {"n": 300}, "large": {"n": 600}}
SHAPES = {"a": ["n", "n"]}


def power_iteration_vec(a, iters):
    """Rayleigh quotient after `iters` normalised multiplications."""
    v = np.ones(a.shape[0]) / np.sqrt(a.shape[0])
    for _ in range(iters):
        w = a @ v
        v = w / np.linalg.norm(w)
    return float(v @ (a @ v))
