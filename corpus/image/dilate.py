"""Grey dilation: maximum over a cross-shaped window, loops."""

import numpy as np

FAMILY = "image"
KERNEL = "dilate"
SETUP = "import numpy as np\nrng = np.random.default_rng(35)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "dilate(img)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 300}}
SHAPES = {"img": ["n", "n"]}


def dilate(img):
    """out[i, j] = max(img[i, j] and its 4 neighbours)."""
    h, w = img.shape
    out = img.copy()
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            out[i, j] = max(img[i, j], img[i - 1, j], img[i + 1, j], img[i, j - 1], img[i, j + 1])
    return out
