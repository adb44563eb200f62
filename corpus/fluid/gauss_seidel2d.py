"""Gauss-Seidel sweeps for the 2-D Poisson equation (in-place, loop-carried)."""

import numpy as np

FAMILY = "fluid"
KERNEL = "gauss_seidel2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(23)\nf = rng.random(({n}, {n}))\ndel rng"
CALL = "gauss_seidel2d(f, 2)"
SIZES = {"small": {"n": 60}, "medium": {"n": 120}, "large": {"n": 220}}
SHAPES = {"f": ["n", "n"]}


def gauss_seidel2d(f, iters):
    """In-place lexicographic Gauss-Seidel: each update reads already-updated neighbours."""
    n = f.shape[0]
    h2 = 1.0 / ((n - 1) * (n - 1))
    u = np.zeros((n, n))
    for _ in range(iters):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                u[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] + h2 * f[i, j])
    return u
