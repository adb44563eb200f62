"""Total Lennard-Jones potential energy of particles, pair loops."""

FAMILY = "montecarlo"
KERNEL = "lennard_jones"
SETUP = "import numpy as np\nrng = np.random.default_rng(94)\npos = rng.random(({n}, 3)) * 10.0\ndel rng"
CALL = "lennard_jones(pos)"
SIZES = {"small": {"n": 60}, "medium": {"n": 120}, "large": {"n": 220}}
SHAPES = {"pos": ["n", 3]}


def lennard_jones(pos):
    """sum_{i<j} 4 (r^-12 - r^-6)."""
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            r2 = dx * dx + dy * dy + dz * dz + 0.01
            s6 = 1.0 / (r2 * r2 * r2)
            e += 4.0 * (s6 * s6 - s6)
    return e
