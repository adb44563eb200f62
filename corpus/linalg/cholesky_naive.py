"""Cholesky factorisation (Cholesky-Banachiewicz) with interpreted loops."""

import math

import numpy as np

FAMILY = "linalg"
KERNEL = "cholesky_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(55)\nm = rng.random(({n}, {n}))\na = m @ m.T + {n} * np.eye({n})\ndel rng"
CALL = "cholesky_naive(a)"
SIZES = {"small": {"n": 25}, "medium": {"n": 45}, "large": {"n": 75}}
SHAPES = {"a": ["n", "n"]}


def cholesky_naive(a):
    """Lower-triangular L with L L^T = A (A symmetric positive definite)."""
    n = a.shape[0]
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(j):
                s += low[i, k] * low[j, k]
            if i == j:
                low[i, j] = math.sqrt(a[i, i] - s)
            else:
                low[i, j] = (a[i, j] - s) / low[j, j]
    return low
