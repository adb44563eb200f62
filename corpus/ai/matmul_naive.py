"""Dense matrix product C = A @ B with three interpreted loops (textbook form)."""

import numpy as np

FAMILY = "ai"
KERNEL = "matmul_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(0)\na = rng.random(({n}, {n}))\nb = rng.random(({n}, {n}))\ndel rng"
CALL = "matmul_naive(a, b)"
SIZES = {"small": {"n": 16}, "medium": {"n": 26}, "large": {"n": 40}}
SHAPES = {"a": ["n", "n"], "b": ["n", "n"]}


def matmul_naive(a, b):
    """C[i, j] = sum_k A[i, k] * B[k, j]."""
    n, m = a.shape
    p = b.shape[1]
    c = np.zeros((n, p))
    for i in range(n):
        for j in range(p):
            s = 0.0
            for k in range(m):
                s += a[i, k] * b[k, j]
            c[i, j] = s
    return c
