"""L1, L2 and max norms of a vector computed in separate loops (fusable)."""

import math

FAMILY = "linalg"
KERNEL = "vector_norms"
SETUP = "import numpy as np\nrng = np.random.default_rng(61)\nx = rng.standard_normal({n})\ndel rng"
CALL = "vector_norms(x)"
SIZES = {"small": {"n": 10000}, "medium": {"n": 40000}, "large": {"n": 120000}}
SHAPES = {"x": ["n"]}


def vector_norms(x):
    """(sum |x|, sqrt(sum x^2), max |x|)."""
    n = len(x)
    l1 = 0.0
    for i in range(n):
        l1 += abs(x[i])
    l2 = 0.0
    for i in range(n):
        l2 += x[i] * x[i]
    linf = 0.0
    for i in range(n):
        linf = max(linf, abs(x[i]))
    return l1, math.sqrt(l2), linf
