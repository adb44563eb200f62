"""Thomas algorithm: solve a tridiagonal linear system by elimination and back substitution."""

import numpy as np

FAMILY = "linalg"
KERNEL = "thomas_solve"
SETUP = "import numpy as np\nrng = np.random.default_rng(215)\na = rng.random({n})\nb = 4.0 + rng.random({n})\nc = rng.random({n})\nd = rng.random({n})\ndel rng"
CALL = "thomas_solve(a, b, c, d)"
SIZES = {"small": {"n": 5000}, "medium": {"n": 20000}, "large": {"n": 60000}}
SHAPES = {"a": ["n"], "b": ["n"], "c": ["n"], "d": ["n"]}


def thomas_solve(a, b, c, d):
    """Solve T x = d, T with sub-diagonal a (a[0] unused), diagonal b, super-diagonal c."""
    n = len(d)
    cp = c.copy()
    bp = b.copy()
    dp = d.copy()
    for i in range(1, n):
        m = a[i] / bp[i - 1]
        bp[i] = bp[i] - m * cp[i - 1]
        dp[i] = dp[i] - m * dp[i - 1]
    x = np.zeros(n)
    x[n - 1] = dp[n - 1] / bp[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = (dp[i] - cp[i] * x[i + 1]) / bp[i]
    return x
