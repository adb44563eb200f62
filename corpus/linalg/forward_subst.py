"""Forward substitution for a lower-triangular system (loop-carried dependence)."""

import numpy as np

FAMILY = "linalg"
KERNEL = "forward_subst"
SETUP = "import numpy as np\nrng = np.random.default_rng(56)\nlow = np.tril(rng.random(({n}, {n}))) + {n} * np.eye({n})\nb = rng.random({n})\ndel rng"
CALL = "forward_subst(low, b)"
SIZES = {"small": {"n": 120}, "medium": {"n": 250}, "large": {"n": 500}}
SHAPES = {"low": ["n", "n"], "b": ["n"]}


def forward_subst(low, b):
    """Solve L x = b."""
    n = len(b)
    x = np.zeros(n)
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= low[i, j] * x[j]
        x[i] = s / low[i, i]
    return x
