"""Explicit heat equation in 1-D: several time steps of a three-point stencil."""

import numpy as np

FAMILY = "fluid"
KERNEL = "heat1d"
SETUP = "import numpy as np\nrng = np.random.default_rng(20)\nu = rng.random({n})\ndel rng"
CALL = "heat1d(u, 0.2, 10)"
SIZES = {"small": {"n": 1500}, "medium": {"n": 6000}, "large": {"n": 20000}}
SHAPES = {"u": ["n"]}


def heat1d(u, alpha, steps):
    """u_{t+1}[i] = u[i] + alpha * (u[i-1] - 2u[i] + u[i+1]), fixed ends."""
    n = len(u)
    cur = u.copy()
    for _ in range(steps):
        nxt = cur.copy()
        for i in range(1, n - 1):
            nxt[i] = cur[i] + alpha * (cur[i - 1] - 2.0 * cur[i] + cur[i + 1])
        cur = nxt
    return cur
