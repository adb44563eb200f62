"""Leapfrog update of the 1-D wave equation."""

import numpy as np

FAMILY = "fluid"
KERNEL = "wave1d"
SETUP = "import numpy as np\nx = np.linspace(0.0, 1.0, {n})\nu = np.sin(np.pi * x)\nuprev = u.copy()"
CALL = "wave1d(u, uprev, 0.5)"
SIZES = {"small": {"n": 12000}, "medium": {"n": 50000}, "large": {"n": 150000}}
SHAPES = {"u": ["n"], "uprev": ["n"]}


def wave1d(u, uprev, c2):
    """u_next[i] = 2u[i] - uprev[i] + c2 (u[i+1] - 2u[i] + u[i-1])."""
    n = len(u)
    unext = np.zeros(n)
    for i in range(1, n - 1):
        unext[i] = 2.0 * u[i] - uprev[i] + c2 * (u[i + 1] - 2.0 * u[i] + u[i - 1])
    return unext
