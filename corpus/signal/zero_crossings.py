"""Count sign changes of a signal (zero-crossing rate)."""

FAMILY = "signal"
KERNEL = "zero_crossings"
SETUP = "import numpy as np\nrng = np.random.default_rng(76)\nx = rng.standard_normal({n})\ndel rng"
CALL = "zero_crossings(x)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def zero_crossings(x):
    """Number of i with x[i-1] * x[i] < 0."""
    count = 0
    for i in range(1, len(x)):
        if x[i - 1] * x[i] < 0.0:
            count += 1
    return count
