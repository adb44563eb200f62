"""Binary-like grey erosion: minimum over a 3x3 window, loops."""

import numpy as np

FAMILY = "image"
KERNEL = "erode"
SETUP = "import numpy as np\nrng = np.random.default_rng(34)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "erode(img)"
SIZES = {"small": {"n": 50}, "medium": {"n": 100}, "large": {"n": 200}}
SHAPES = {"img": ["n", "n"]}


def erode(img):
    """out[i, j] = min of img over the 3x3 neighbourhood (interior)."""
    h, w = img.shape
    out = img.copy()
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            m = img[i, j]
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    if img[i + di, j + dj] < m:
                        m = img[i + di, j + dj]
            out[i, j] = m
    return out
