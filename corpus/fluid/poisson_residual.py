"""Residual norm of a 2-D Poisson discretisation, r = f + lap(u)."""

import math

import numpy as np

FAMILY = "fluid"
KERNEL = "poisson_residual"
SETUP = "import numpy as np\nrng = np.random.default_rng(26)\nu = rng.random(({n}, {n}))\nf = rng.random(({n}, {n}))\ndel rng"
CALL = "poisson_residual(u, f)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 320}}
SHAPES = {"u": ["n", "n"], "f": ["n", "n"]}


def poisson_residual(u, f):
    """sqrt(sum r^2) over interior points."""
    n = u.shape[0]
    h2 = 1.0 / ((n - 1) * (n - 1))
    total = 0.0
    for i in range(1, n - 1):
        for j in range(1, n - 1):
            lap = (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]) / h2
            r = f[i, j] + lap
            total += r * r
    return math.sqrt(total)
