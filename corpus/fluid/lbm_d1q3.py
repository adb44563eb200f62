"""Lattice Boltzmann D1Q3 diffusion: collide and stream over a periodic line."""

import numpy as np

FAMILY = "fluid"
KERNEL = "lbm_d1q3"
SETUP = "import numpy as np\nrng = np.random.default_rng(24)\nrho0 = 1.0 + 0.1 * rng.random({n})\ndel rng"
CALL = "lbm_d1q3(rho0, 0.8, 5)"
SIZES = {"small": {"n": 800}, "medium": {"n": 3000}, "large": {"n": 10000}}
SHAPES = {"rho0": ["n"]}


def lbm_d1q3(rho0, omega, steps):
    """BGK collision towards equilibrium weights (2/3, 1/6, 1/6), then streaming."""
    n = len(rho0)
    f = np.zeros((3, n))
    for i in range(n):
        f[0, i] = 2.0 / 3.0 * rho0[i]
        f[1, i] = rho0[i] / 6.0
        f[2, i] = rho0[i] / 6.0
    for _ in range(steps):
        g = np.zeros((3, n))
        for i in range(n):
            rho = f[0, i] + f[1, i] + f[2, i]
            c0 = f[0, i] + omega * (2.0 / 3.0 * rho - f[0, i])
            c1 = f[1, i] + omega * (rho / 6.0 - f[1, i])
            c2 = f[2, i] + omega * (rho / 6.0 - f[2, i])
            g[0, i] = c0
            g[1, (i + 1) % n] = c1
            g[2, (i - 1) % n] = c2
        f = g
    return f[0] + f[1] + f[2]
