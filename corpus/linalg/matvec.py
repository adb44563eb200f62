"""Matrix-vector product with two loops."""

import numpy as np

FAMILY = "linalg"
KERNEL = "matvec"
SETUP = "import numpy as np\nrng = np.random.default_rng(52)\na = rng.random(({n}, {n}))\nx = rng.random({n})\ndel rng"
CALL = "matvec(a, x)"
SIZES = {"small": {"n": 100}, "medium": {"n": 200}, "large": {"n": 400}}
SHAPES = {"a": ["n", "n"], "x": ["n"]}


def matvec(a, x):
    """y[i] = sum_j a[i, j] x[j]."""
    n, m = a.shape
    y = np.zeros(n)
    for i in range(n):
        for j in range(m):
            y[i] += a[i, j] * x[j]
    return y
