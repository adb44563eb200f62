"""Monte Carlo estimate of pi from pre-drawn uniform points, counted in a loop."""

FAMILY = "montecarlo"
KERNEL = "pi_estimate"
SETUP = "import numpy as np\nrng = np.random.default_rng(90)\nxs = rng.random({n})\nys = rng.random({n})\ndel rng"
CALL = "pi_estimate(xs, ys)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"xs": ["n"], "ys": ["n"]}


def pi_estimate(xs, ys):
    """4 * fraction of points inside the unit quarter circle."""
    inside = 0
    for i in range(len(xs)):
        if xs[i] * xs[i] + ys[i] * ys[i] <= 1.0:
            inside += 1
    return 4.0 * inside / len(xs)
