"""Summed-area table of a grey image with a running row sum (loop-carried)."""

import numpy as np

FAMILY = "image"
KERNEL = "integral_image"
SETUP = (
    "import numpy as np\nrng = np.random.default_rng(213)\nimg = rng.random(({n}, {n}))\ndel rng"
)
CALL = "integral_image(img)"
SIZES = {"small": {"n": 100}, "medium": {"n": 200}, "large": {"n": 400}}
SHAPES = {"img": ["n", "n"]}


def integral_image(img):
    """out[i, j] = sum of img[:i+1, :j+1]."""
    h, w = img.shape
    out = np.zeros((h, w))
    for i in range(h):
        s = 0.0
        for j in range(w):
            s += img[i, j]
            if i > 0:
                out[i, j] = out[i - 1, j] + s
            else:
                out[i, j] = s
    return out
