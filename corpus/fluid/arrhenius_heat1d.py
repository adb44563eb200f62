"""One explicit step of 1-D heat conduction with an Arrhenius source, np.exp per cell."""

import numpy as np

FAMILY = "fluid"
KERNEL = "arrhenius_heat1d"
SETUP = "import numpy as np\nrng = np.random.default_rng(33)\ntemp = 300.0 + 100.0 * rng.random({n})\ndel rng"
CALL = "arrhenius_heat1d(temp, 0.2, 1e-3, 5.0e4, 8000.0)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 150000}}
SHAPES = {"temp": ["n"]}


def arrhenius_heat1d(temp, r, dt, a, ea):
    """nxt[i] = T[i] + r (T[i-1] - 2 T[i] + T[i+1]) + dt a exp(-ea / T[i]); ends held fixed."""
    n = len(temp)
    nxt = temp.copy()
    for i in range(1, n - 1):
        lap = temp[i - 1] - 2.0 * temp[i] + temp[i + 1]
        nxt[i] = temp[i] + r * lap + dt * a * np.exp(-ea / temp[i])
    return nxt
