"""First-order IIR low-pass filter (recursive, loop-carried)."""

import numpy as np

FAMILY = "signal"
KERNEL = "iir_lowpass"
SETUP = "import numpy as np\nrng = np.random.default_rng(74)\nx = rng.standard_normal({n})\ndel rng"
CALL = "iir_lowpass(x, 0.1)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"x": ["n"]}


def iir_lowpass(x, alpha):
    """y[i] = y[i-1] + alpha (x[i] - y[i-1])."""
    n = len(x)
    y = np.zeros(n)
    prev = 0.0
    for i in range(n):
        prev = prev + alpha * (x[i] - prev)
        y[i] = prev
    return y
