"""Metropolis sampling of a 1-D Gaussian from pre-drawn proposal steps and uniforms."""

import math

import numpy as np

FAMILY = "montecarlo"
KERNEL = "metropolis_1d"
SETUP = "import numpy as np\nrng = np.random.default_rng(224)\nsteps = 0.8 * rng.standard_normal({n})\nu = rng.random({n})\ndel rng"
CALL = "metropolis_1d(steps, u, 0.0, 1.5)"
SIZES = {"small": {"n": 12000}, "medium": {"n": 48000}, "large": {"n": 150000}}
SHAPES = {"steps": ["n"], "u": ["n"]}


def metropolis_1d(steps, u, x0, sigma):
    """Random-walk Metropolis chain targeting N(0, sigma^2), started at x0."""
    n = len(steps)
    chain = np.empty(n)
    inv_var = 1.0 / (sigma * sigma)
    x = x0
    logp = -0.5 * x * x * inv_var
    for i in range(n):
        x_new = x + steps[i]
        logp_new = -0.5 * x_new * x_new * inv_var
        if u[i] < math.exp(logp_new - logp):
            x = x_new
            logp = logp_new
        chain[i] = x
    return chain
