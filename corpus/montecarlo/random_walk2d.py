"""Mean squared end-to-end distance of independent 2-D lattice random walkers."""

FAMILY = "montecarlo"
KERNEL = "random_walk2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(225)\ndirs = rng.integers(0, 4, size=({w}, {t}), dtype=np.int64)\ndel rng"
CALL = "random_walk2d(dirs)"
SIZES = {
    "small": {"w": 100, "t": 250},
    "medium": {"w": 200, "t": 500},
    "large": {"w": 400, "t": 800},
}
SHAPES = {"dirs": ["w", "t"]}


def random_walk2d(dirs):
    """Walk each row of dirs (0: +x, 1: -x, 2: +y, 3: -y) and average x^2 + y^2 at the end."""
    nwalk, nstep = dirs.shape
    total = 0.0
    for w in range(nwalk):
        x = 0
        y = 0
        for s in range(nstep):
            d = dirs[w, s]
            if d == 0:
                x += 1
            elif d == 1:
                x -= 1
            elif d == 2:
                y += 1
            else:
                y -= 1
        total += x * x + y * y
    return total / nwalk
