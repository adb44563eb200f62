"""Separable 5-tap Gaussian blur: a row pass then a column pass, loops."""

import numpy as np

FAMILY = "image"
KERNEL = "gaussian_blur_sep"
SETUP = "import numpy as np\nrng = np.random.default_rng(31)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "gaussian_blur_sep(img)"
SIZES = {"small": {"n": 60}, "medium": {"n": 110}, "large": {"n": 200}}
SHAPES = {"img": ["n", "n"]}


def gaussian_blur_sep(img):
    """Weights (1, 4, 6, 4, 1) / 16 along rows then columns; borders zero."""
    h, w = img.shape
    k = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    tmp = np.zeros((h, w))
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(2, w - 2):
            s = 0.0
            for t in range(5):
                s += k[t] * img[i, j + t - 2]
            tmp[i, j] = s
    for i in range(2, h - 2):
        for j in range(w):
            s = 0.0
            for t in range(5):
                s += k[t] * tmp[i + t - 2, j]
            out[i, j] = s
    return out
