"""Explicit 2-D diffusion, five-point stencil, one time step with nested loops."""

import numpy as np

FAMILY = "fluid"
KERNEL = "heat2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(21)\nu = rng.random(({n}, {n}))\ndel rng"
CALL = "heat2d(u, 0.1)"
SIZES = {"small": {"n": 100}, "medium": {"n": 200}, "large": {"n": 400}}
SHAPES = {"u": ["n", "n"]}


def heat2d(u, alpha):
    """One explicit step of u_t = alpha * laplacian(u) with fixed boundary."""
    ny, nx = u.shape
    out = u.copy()
    for i in range(1, ny - 1):
        for j in range(1, nx - 1):
            out[i, j] = u[i, j] + alpha * (
                u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]
            )
    return out
