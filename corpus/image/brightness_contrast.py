"""Brightness/contrast adjustment with clipping, element by element."""

import numpy as np

FAMILY = "image"
KERNEL = "brightness_contrast"
SETUP = "import numpy as np\nrng = np.random.default_rng(41)\npix = rng.random({n})\ndel rng"
CALL = "brightness_contrast(pix, 1.3, 0.05)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"pix": ["n"]}


def brightness_contrast(pix, gain, bias):
    """clip(gain * pix + bias, 0, 1)."""
    n = pix.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i] = min(max(gain * pix[i] + bias, 0.0), 1.0)
    return out
