"""Luma conversion of an RGB image, pixel by pixel."""

import numpy as np

FAMILY = "image"
KERNEL = "rgb_to_grey"
SETUP = "import numpy as np\nrng = np.random.default_rng(36)\nrgb = rng.random(({n}, {n}, 3))\ndel rng"
CALL = "rgb_to_grey(rgb)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 300}}
SHAPES = {"rgb": ["n", "n", 3]}


def rgb_to_grey(rgb):
    """Y = 0.299 R + 0.587 G + 0.114 B."""
    h = rgb.shape[0]
    w = rgb.shape[1]
    out = np.empty((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = 0.299 * rgb[i, j, 0] + 0.587 * rgb[i, j, 1] + 0.114 * rgb[i, j, 2]
    return out
