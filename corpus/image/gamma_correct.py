"""Gamma correction of pixel intensities with a power per element."""

import numpy as np

FAMILY = "image"
KERNEL = "gamma_correct"
SETUP = "import numpy as np\nrng = np.random.default_rng(40)\npix = rng.random({n})\ndel rng"
CALL = "gamma_correct(pix, 2.2)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"pix": ["n"]}


def gamma_correct(pix, gamma):
    """pix ** (1 / gamma)."""
    inv = 1.0 / gamma
    out = np.empty_like(pix)
    for i in range(len(pix)):
        out[i] = pix[i] ** inv
    return out
