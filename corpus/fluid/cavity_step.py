"""Lid-driven cavity: one vorticity-transport step on a streamfunction grid."""

import numpy as np

FAMILY = "fluid"
KERNEL = "cavity_step"
SETUP = "import numpy as np\nrng = np.random.default_rng(25)\npsi = rng.random(({n}, {n})) * 0.01\nw = rng.random(({n}, {n})) * 0.01\ndel rng"
CALL = "cavity_step(psi, w, 0.001, 0.01)"
SIZES = {"small": {"n": 50}, "medium": {"n": 100}, "large": {"n": 180}}
SHAPES = {"psi": ["n", "n"], "w": ["n", "n"]}


def cavity_step(psi, w, dt, nu):
    """Advance vorticity w by dt with central differences; lid velocity 1 on the top wall."""
    n = psi.shape[0]
    h = 1.0 / (n - 1)
    wn = w.copy()
    for i in range(1, n - 1):
        for j in range(1, n - 1):
            u = (psi[i + 1, j] - psi[i - 1, j]) / (2.0 * h)
            v = -(psi[i, j + 1] - psi[i, j - 1]) / (2.0 * h)
            wx = (w[i, j + 1] - w[i, j - 1]) / (2.0 * h)
            wy = (w[i + 1, j] - w[i - 1, j]) / (2.0 * h)
            lap = (w[i + 1, j] + w[i - 1, j] + w[i, j + 1] + w[i, j - 1] - 4.0 * w[i, j]) / (h * h)
            wn[i, j] = w[i, j] + dt * (-u * wx - v * wy + nu * lap)
    for j in range(n):
        wn[n - 1, j] = -2.0 * psi[n - 2, j] / (h * h) - 2.0 / h
    return wn
