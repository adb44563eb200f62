"""Tridiagonal matrix-vector product y = T x from the three diagonals."""

import numpy as np

FAMILY = "linalg"
KERNEL = "tridiag_matvec"
SETUP = "import numpy as np\nrng = np.random.default_rng(216)\nlower = rng.random({n})\ndiag = rng.random({n})\nupper = rng.random({n})\nx = rng.random({n})\ndel rng"
CALL = "tridiag_matvec(lower, diag, upper, x)"
SIZES = {"small": {"n": 5000}, "medium": {"n": 20000}, "large": {"n": 100000}}
SHAPES = {"lower": ["n"], "diag": ["n"], "upper": ["n"], "x": ["n"]}


def tridiag_matvec(lower, diag, upper, x):
    """y[i] = lower[i] x[i-1] + diag[i] x[i] + upper[i] x[i+1] (lower[0], upper[n-1] unused)."""
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        if i == 0:
            y[i] = diag[i] * x[i] + upper[i] * x[i + 1]
        elif i == n - 1:
            y[i] = lower[i] * x[i - 1] + diag[i] * x[i]
        else:
            y[i] = lower[i] * x[i - 1] + diag[i] * x[i] + upper[i] * x[i + 1]
    return y
