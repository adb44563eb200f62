"""Geometric Brownian motion paths from pre-drawn normals (time loop per path)."""

import math

import numpy as np

FAMILY = "montecarlo"
KERNEL = "brownian_paths"
SETUP = "import numpy as np\nrng = np.random.default_rng(95)\nz = rng.standard_normal(({p}, {t}))\ndel rng"
CALL = "brownian_paths(z, 100.0, 0.05, 0.2, 0.01)"
SIZES = {"small": {"p": 50, "t": 200}, "medium": {"p": 100, "t": 400}, "large": {"p": 200, "t": 600}}
SHAPES = {"z": ["p", "t"]}


def brownian_paths(z, s0, mu, sigma, dt):
    """S_{t+1} = S_t exp((mu - sigma^2/2) dt + sigma sqrt(dt) z_t)."""
    paths, steps = z.shape
    s = np.zeros((paths, steps + 1))
    drift = (mu - 0.5 * sigma * sigma) * dt
    vol = sigma * math.sqrt(dt)
    for p in range(paths):
        s[p, 0] = s0
        for t in range(steps):
            s[p, t + 1] = s[p, t] * math.exp(drift + vol * z[p, t])
    return s
