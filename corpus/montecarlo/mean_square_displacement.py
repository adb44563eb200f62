"""Mean squared displacement of trajectories relative to the start, loops."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "mean_square_displacement"
SETUP = "import numpy as np\nrng = np.random.default_rng(101)\ntraj = np.cumsum(rng.standard_normal(({p}, {t})), axis=1)\ndel rng"
CALL = "mean_square_displacement(traj)"
SIZES = {"small": {"p": 40, "t": 300}, "medium": {"p": 80, "t": 600}, "large": {"p": 160, "t": 1000}}
SHAPES = {"traj": ["p", "t"]}


def mean_square_displacement(traj):
    """msd[t] = mean_p (x_p(t) - x_p(0))^2."""
    paths, steps = traj.shape
    msd = np.zeros(steps)
    for t in range(steps):
        s = 0.0
        for p in range(paths):
            d = traj[p, t] - traj[p, 0]
            s += d * d
        msd[t] = s / paths
    return msd
