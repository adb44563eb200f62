"""Speed field |v| = sqrt(u^2 + v^2) of a 2-D velocity field, with temporaries."""

import numpy as np

FAMILY = "fluid"
KERNEL = "velocity_magnitude"
SETUP = "import numpy as np\nrng = np.random.default_rng(28)\nu = rng.standard_normal(({n}, {n}))\nv = rng.standard_normal(({n}, {n}))\ndel rng"
CALL = "velocity_magnitude(u, v)"
SIZES = {"small": {"n": 300}, "medium": {"n": 700}, "large": {"n": 1400}}
SHAPES = {"u": ["n", "n"], "v": ["n", "n"]}


def velocity_magnitude(u, v):
    """Vectorised, but builds several float64 temporaries."""
    u2 = u * u
    v2 = v * v
    s = u2 + v2
    mag = np.sqrt(s)
    return mag
