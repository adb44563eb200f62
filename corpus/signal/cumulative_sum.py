"""Running (prefix) sum and running mean of a 1-D signal with a loop-carried accumulator."""

import numpy as np

FAMILY = "signal"
KERNEL = "cumulative_sum"
SETUP = (
    "import numpy as np\nrng = np.random.default_rng(220)\nx = rng.standard_normal({n})\ndel rng"
)
CALL = "cumulative_sum(x)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def cumulative_sum(x):
    """csum[i] = x[0] + ... + x[i] and cmean[i] = csum[i] / (i + 1)."""
    n = len(x)
    csum = np.empty(n)
    cmean = np.empty(n)
    s = 0.0
    for i in range(n):
        s = s + x[i]
        csum[i] = s
        cmean[i] = s / (i + 1)
    return csum, cmean
