"""Explicit transpose into a new array."""

import numpy as np

FAMILY = "linalg"
KERNEL = "transpose_copy"
SETUP = "import numpy as np\nrng = np.random.default_rng(54)\na = rng.random(({n}, {n}))\ndel rng"
CALL = "transpose_copy(a)"
SIZES = {"small": {"n": 100}, "medium": {"n": 220}, "large": {"n": 450}}
SHAPES = {"a": ["n", "n"]}


def transpose_copy(a):
    """out[j, i] = a[i, j]."""
    n, m = a.shape
    out = np.empty((m, n))
    for i in range(n):
        for j in range(m):
            out[j, i] = a[i, j]
    return out
