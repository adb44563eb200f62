"""Frobenius norm and trace of a matrix with nested loops."""

import math

FAMILY = "linalg"
KERNEL = "frobenius_norm"
SETUP = "import numpy as np\nrng = np.random.default_rng(57)\na = rng.random(({n}, {n}))\ndel rng"
CALL = "frobenius_norm(a)"
SIZES = {"small": {"n": 100}, "medium": {"n": 200}, "large": {"n": 400}}
SHAPES = {"a": ["n", "n"]}


def frobenius_norm(a):
    """sqrt(sum a_ij^2)."""
    n, m = a.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += a[i, j] * a[i, j]
    return math.sqrt(s)
