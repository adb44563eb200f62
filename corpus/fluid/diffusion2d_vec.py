"""2-D diffusion step already vectorised with slices (a 'good' kernel)."""

import numpy as np

FAMILY = "fluid"
KERNEL = "diffusion2d_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(27)\nu = rng.random(({n}, {n}))\ndel rng"
CALL = "diffusion2d_vec(u, 0.1)"
SIZES = {"small": {"n": 200}, "medium": {"n": 500}, "large": {"n": 1000}}
SHAPES = {"u": ["n", "n"]}


def diffusion2d_vec(u, alpha):
    """Five-point stencil with array slices."""
    out = u.copy()
    out[1:-1, 1:-1] = u[1:-1, 1:-1] + alpha * (
        u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4.0 * u[1:-1, 1:-1]
    )
    return out
