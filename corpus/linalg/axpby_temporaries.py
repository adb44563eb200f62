"""alpha*x + beta*y + gamma*z with numpy, creating several temporaries."""

import numpy as np

FAMILY = "linalg"
KERNEL = "axpby_temporaries"
SETUP = "import numpy as np\nrng = np.random.default_rng(60)\nx = rng.random({n})\ny = rng.random({n})\nz = rng.random({n})\ndel rng"
CALL = "axpby_temporaries(1.5, x, -0.5, y, 2.0, z)"
SIZES = {"small": {"n": 100000}, "medium": {"n": 500000}, "large": {"n": 2000000}}
SHAPES = {"x": ["n"], "y": ["n"], "z": ["n"]}


def axpby_temporaries(alpha, x, beta, y, gamma, z):
    """Vectorised, float64, one temporary per operator."""
    t1 = alpha * x
    t2 = beta * y
    t3 = gamma * z
    s = t1 + t2
    out = s + t3
    return np.asarray(out)
