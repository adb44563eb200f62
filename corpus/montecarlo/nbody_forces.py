"""Direct-sum gravitational accelerations of n bodies (O(n^2) loops)."""

import math

import numpy as np

FAMILY = "montecarlo"
KERNEL = "nbody_forces"
SETUP = "import numpy as np\nrng = np.random.default_rng(92)\npos = rng.random(({n}, 3))\nmass = rng.random({n})\ndel rng"
CALL = "nbody_forces(pos, mass)"
SIZES = {"small": {"n": 60}, "medium": {"n": 120}, "large": {"n": 220}}
SHAPES = {"pos": ["n", 3], "mass": ["n"]}


def nbody_forces(pos, mass):
    """a_i = sum_{j != i} m_j (r_j - r_i) / (|r_j - r_i|^2 + eps)^(3/2)."""
    n = pos.shape[0]
    acc = np.zeros((n, 3))
    for i in range(n):
        for j in range(n):
            if i != j:
                dx = pos[j, 0] - pos[i, 0]
                dy = pos[j, 1] - pos[i, 1]
                dz = pos[j, 2] - pos[i, 2]
                r2 = dx * dx + dy * dy + dz * dz + 1e-3
                inv = mass[j] / (r2 * math.sqrt(r2))
                acc[i, 0] += dx * inv
                acc[i, 1] += dy * inv
                acc[i, 2] += dz * inv
    return acc
