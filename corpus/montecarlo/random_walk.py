"""Positions of a 1-D random walk from pre-drawn steps (prefix sum, loop-carried)."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "random_walk"
SETUP = "import numpy as np\nrng = np.random.default_rng(91)\nsteps = rng.choice(np.array([-1.0, 1.0]), {n})\ndel rng"
CALL = "random_walk(steps)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"steps": ["n"]}


def random_walk(steps):
    """pos[i] = pos[i-1] + steps[i]."""
    n = len(steps)
    pos = np.zeros(n)
    pos[0] = steps[0]
    for i in range(1, n):
        pos[i] = pos[i - 1] + steps[i]
    return pos
