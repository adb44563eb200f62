"""Viscous Burgers' equation, one explicit step with central differences."""

import numpy as np

FAMILY = "fluid"
KERNEL = "burgers1d"
SETUP = "import numpy as np\nx = np.linspace(0.0, 2.0 * np.pi, {n})\nu = np.sin(x) + 1.5"
CALL = "burgers1d(u, 0.001, 0.01, 0.05)"
SIZES = {"small": {"n": 10000}, "medium": {"n": 40000}, "large": {"n": 120000}}
SHAPES = {"u": ["n"]}


def burgers1d(u, dt, dx, nu):
    """u_t + u u_x = nu u_xx, interior points only."""
    n = len(u)
    out = u.copy()
    for i in range(1, n - 1):
        ux = (u[i + 1] - u[i - 1]) / (2.0 * dx)
        uxx = (u[i + 1] - 2.0 * u[i] + u[i - 1]) / (dx * dx)
        out[i] = u[i] - dt * u[i] * ux + dt * nu * uxx
    return out
