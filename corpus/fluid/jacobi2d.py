"""Jacobi iterations for the 2-D Poisson equation with two buffers."""

import numpy as np

FAMILY = "fluid"
KERNEL = "jacobi2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(22)\nf = rng.random(({n}, {n}))\ndel rng"
CALL = "jacobi2d(f, 3)"
SIZES = {"small": {"n": 60}, "medium": {"n": 120}, "large": {"n": 220}}
SHAPES = {"f": ["n", "n"]}


def jacobi2d(f, iters):
    """Solve -lap(u) = f on the unit square, u = 0 on the boundary, a few sweeps."""
    n = f.shape[0]
    h2 = 1.0 / ((n - 1) * (n - 1))
    u = np.zeros((n, n))
    for _ in range(iters):
        v = np.zeros((n, n))
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                v[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] + h2 * f[i, j])
        u = v
    return u
