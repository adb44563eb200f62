"""Sepia tone filter of an RGB float image: per-pixel 3x3 colour matrix, clipped to 1."""

import numpy as np

FAMILY = "image"
KERNEL = "sepia_tone"
SETUP = (
    "import numpy as np\nrng = np.random.default_rng(212)\nimg = rng.random(({n}, {n}, 3))\ndel rng"
)
CALL = "sepia_tone(img)"
SIZES = {"small": {"n": 40}, "medium": {"n": 80}, "large": {"n": 170}}
SHAPES = {"img": ["n", "n", 3]}


def sepia_tone(img):
    """Apply the classic sepia colour matrix to an (h, w, 3) image in [0, 1]."""
    h, w, _ = img.shape
    out = np.empty((h, w, 3))
    for i in range(h):
        for j in range(w):
            r = img[i, j, 0]
            g = img[i, j, 1]
            b = img[i, j, 2]
            nr = 0.393 * r + 0.769 * g + 0.189 * b
            ng = 0.349 * r + 0.686 * g + 0.168 * b
            nb = 0.272 * r + 0.534 * g + 0.131 * b
            out[i, j, 0] = min(nr, 1.0)
            out[i, j, 1] = min(ng, 1.0)
            out[i, j, 2] = min(nb, 1.0)
    return out
