"""Magnitude and phase of a complex spectrum stored as two real arrays, np.hypot/np.arctan2 per bin."""

import numpy as np

FAMILY = "signal"
KERNEL = "magnitude_np_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(71)\nre = rng.standard_normal({n})\nim = rng.standard_normal({n})\ndel rng"
CALL = "magnitude_np_loop(re, im)"
SIZES = {"small": {"n": 6000}, "medium": {"n": 24000}, "large": {"n": 60000}}
SHAPES = {"re": ["n"], "im": ["n"]}


def magnitude_np_loop(re, im):
    """mag[k] = hypot(re[k], im[k]), phase[k] = arctan2(im[k], re[k])."""
    n = len(re)
    mag = np.empty(n)
    phase = np.empty(n)
    for k in range(n):
        mag[k] = np.hypot(re[k], im[k])
        phase[k] = np.arctan2(im[k], re[k])
    return mag, phase
