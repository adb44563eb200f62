"""Binary threshold of a flattened image into 0/1 values."""

import numpy as np

FAMILY = "image"
KERNEL = "threshold"
SETUP = "import numpy as np\nrng = np.random.default_rng(37)\npix = rng.random({n})\ndel rng"
CALL = "threshold(pix, 0.5)"
SIZES = {"small": {"n": 20000}, "medium": {"n": 80000}, "large": {"n": 250000}}
SHAPES = {"pix": ["n"]}


def threshold(pix, t):
    """1.0 where pix > t else 0.0."""
    n = len(pix)
    out = np.zeros(n)
    for i in range(n):
        if pix[i] > t:
            out[i] = 1.0
        else:
            out[i] = 0.0
    return out
