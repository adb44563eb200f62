"""2x2 average-pool downsampling of an image, loops."""

import numpy as np

FAMILY = "image"
KERNEL = "downsample2x"
SETUP = "import numpy as np\nrng = np.random.default_rng(38)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "downsample2x(img)"
SIZES = {"small": {"n": 120}, "medium": {"n": 240}, "large": {"n": 480}}
SHAPES = {"img": ["n", "n"]}


def downsample2x(img):
    """Average of each non-overlapping 2x2 block."""
    h = img.shape[0] // 2
    w = img.shape[1] // 2
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = 0.25 * (img[2 * i, 2 * j] + img[2 * i + 1, 2 * j]
                                + img[2 * i, 2 * j + 1] + img[2 * i + 1, 2 * j + 1])
    return out
