"""Symmetric rank-1 update A + alpha x x^T, upper triangle computed and mirrored."""

import numpy as np

FAMILY = "linalg"
KERNEL = "syr_update"
SETUP = "import numpy as np\nrng = np.random.default_rng(217)\nm = rng.random(({n}, {n}))\na = m + m.T\nx = rng.random({n})\ndel rng"
CALL = "syr_update(0.5, x, a)"
SIZES = {"small": {"n": 150}, "medium": {"n": 300}, "large": {"n": 550}}
SHAPES = {"x": ["n"], "a": ["n", "n"]}


def syr_update(alpha, x, a):
    """Return a new symmetric matrix A + alpha * outer(x, x)."""
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            v = a[i, j] + alpha * x[i] * x[j]
            out[i, j] = v
            out[j, i] = v
    return out
