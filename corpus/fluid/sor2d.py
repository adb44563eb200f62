"""Successive over-relaxation sweeps for the 2-D Poisson equation (in-place, loop-carried)."""

FAMILY = "fluid"
KERNEL = "sor2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(204)\nu = rng.random(({n}, {n}))\nf = rng.standard_normal(({n}, {n}))\ndel rng"
CALL = "sor2d(u, f, 1.5, 3)"
SIZES = {"small": {"n": 40}, "medium": {"n": 80}, "large": {"n": 150}}
SHAPES = {"u": ["n", "n"], "f": ["n", "n"]}


def sor2d(u, f, omega, sweeps):
    """SOR for -laplacian(u) = f on a copy of u, Gauss-Seidel order, fixed boundary."""
    n = u.shape[0]
    h2 = 1.0 / ((n - 1) * (n - 1))
    w = u.copy()
    for _ in range(sweeps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                gs = 0.25 * (w[i - 1, j] + w[i + 1, j] + w[i, j - 1] + w[i, j + 1] + h2 * f[i, j])
                w[i, j] = (1.0 - omega) * w[i, j] + omega * gs
    return w
