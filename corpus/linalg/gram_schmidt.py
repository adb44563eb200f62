"""Classical Gram-Schmidt orthonormalisation of matrix columns with loops."""

import math

import numpy as np

FAMILY = "linalg"
KERNEL = "gram_schmidt"
SETUP = "import numpy as np\nrng = np.random.default_rng(59)\na = rng.random(({m}, {k}))\ndel rng"
CALL = "gram_schmidt(a)"
SIZES = {"small": {"m": 60, "k": 10}, "medium": {"m": 120, "k": 16}, "large": {"m": 250, "k": 24}}
SHAPES = {"a": ["m", "k"]}


def gram_schmidt(a):
    """Q with orthonormal columns spanning those of A."""
    m, k = a.shape
    q = np.zeros((m, k))
    for j in range(k):
        v = a[:, j].copy()
        for p in range(j):
            r = 0.0
            for i in range(m):
                r += q[i, p] * a[i, j]
            for i in range(m):
                v[i] -= r * q[i, p]
        norm = 0.0
        for i in range(m):
            norm += v[i] * v[i]
        norm = math.sqrt(norm)
        for i in range(m):
            q[i, j] = v[i] / norm
    return q
