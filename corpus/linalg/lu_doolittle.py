"""LU factorisation without pivoting (Doolittle) of a diagonally dominant matrix."""

import numpy as np

FAMILY = "linalg"
KERNEL = "lu_doolittle"
SETUP = "import numpy as np\nrng = np.random.default_rng(214)\na = rng.random(({n}, {n})) + {n} * np.eye({n})\ndel rng"
CALL = "lu_doolittle(a)"
SIZES = {"small": {"n": 30}, "medium": {"n": 50}, "large": {"n": 80}}
SHAPES = {"a": ["n", "n"]}


def lu_doolittle(a):
    """Unit lower-triangular L and upper-triangular U with L U = A."""
    n = a.shape[0]
    low = np.zeros((n, n))
    up = np.zeros((n, n))
    for i in range(n):
        for k in range(i, n):
            s = 0.0
            for j in range(i):
                s += low[i, j] * up[j, k]
            up[i, k] = a[i, k] - s
        low[i, i] = 1.0
        for k in range(i + 1, n):
            s = 0.0
            for j in range(i):
                s += low[k, j] * up[j, i]
            low[k, i] = (a[k, i] - s) / up[i, i]
    return low, up
