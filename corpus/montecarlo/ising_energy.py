"""Energy and magnetisation of a 2-D Ising lattice with periodic neighbours."""

FAMILY = "montecarlo"
KERNEL = "ising_energy"
SETUP = "import numpy as np\nrng = np.random.default_rng(100)\nspins = rng.choice(np.array([-1.0, 1.0]), ({n}, {n}))\ndel rng"
CALL = "ising_energy(spins)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 320}}
SHAPES = {"spins": ["n", "n"]}


def ising_energy(spins):
    """(-sum s_ij (s_right + s_down), sum s_ij)."""
    n = spins.shape[0]
    e = 0.0
    m = 0.0
    for i in range(n):
        for j in range(n):
            s = spins[i, j]
            e -= s * (spins[(i + 1) % n, j] + spins[i, (j + 1) % n])
            m += s
    return e, m
