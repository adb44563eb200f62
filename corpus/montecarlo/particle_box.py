"""Particles moving in a unit box with reflecting walls, one step per call, loops."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "particle_box"
SETUP = "import numpy as np\nrng = np.random.default_rng(98)\nx = rng.random({n})\nv = rng.standard_normal({n})\ndel rng"
CALL = "particle_box(x, v, 0.05)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"x": ["n"], "v": ["n"]}


def particle_box(x, v, dt):
    """x += v dt; reflect at 0 and 1 (returns new positions and velocities)."""
    n = len(x)
    nx = np.empty(n)
    nv = np.empty(n)
    for i in range(n):
        p = x[i] + v[i] * dt
        q = v[i]
        if p < 0.0:
            p = -p
            q = -q
        if p > 1.0:
            p = 2.0 - p
            q = -q
        nx[i] = p
        nv[i] = q
    return nx, nv
