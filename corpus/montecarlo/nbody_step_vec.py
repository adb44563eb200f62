"""n-body accelerations with broadcasting, already vectorised."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "nbody_step_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(93)\npos = rng.random(({n}, 3))\nmass = rng.random({n})\ndel rng"
CALL = "nbody_step_vec(pos, mass)"
SIZES = {"small": {"n": 150}, "medium": {"n": 400}, "large": {"n": 800}}
SHAPES = {"pos": ["n", 3], "mass": ["n"]}


def nbody_step_vec(pos, mass):
    """Pairwise differences (n, n, 3), softened inverse cube, weighted sum."""
    d = pos[None, :, :] - pos[:, None, :]
    r2 = (d ** 2).sum(axis=2) + 1e-3
    inv = mass[None, :] / (r2 * np.sqrt(r2))
    np.fill_diagonal(inv, 0.0)
    return (d * inv[:, :, None]).sum(axis=1)
