"""Vorticity dv/dx - du/dy of a 2-D velocity field by central differences."""

import numpy as np

FAMILY = "fluid"
KERNEL = "vorticity2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(207)\nu = rng.standard_normal(({n}, {n}))\nv = rng.standard_normal(({n}, {n}))\ndel rng"
CALL = "vorticity2d(u, v, 0.1, 0.1)"
SIZES = {"small": {"n": 60}, "medium": {"n": 130}, "large": {"n": 250}}
SHAPES = {"u": ["n", "n"], "v": ["n", "n"]}


def vorticity2d(u, v, dx, dy):
    """omega = dv/dx - du/dy in the interior (x along columns), zero on the boundary."""
    ny, nx = u.shape
    w = np.zeros((ny, nx))
    for i in range(1, ny - 1):
        for j in range(1, nx - 1):
            dvdx = (v[i, j + 1] - v[i, j - 1]) / (2.0 * dx)
            dudy = (u[i + 1, j] - u[i - 1, j]) / (2.0 * dy)
            w[i, j] = dvdx - dudy
    return w
