"""Sobel gradient magnitude with explicit neighbourhood loops."""

import math

import numpy as np

FAMILY = "image"
KERNEL = "sobel"
SETUP = "import numpy as np\nrng = np.random.default_rng(32)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "sobel(img)"
SIZES = {"small": {"n": 60}, "medium": {"n": 120}, "large": {"n": 230}}
SHAPES = {"img": ["n", "n"]}


def sobel(img):
    """sqrt(gx^2 + gy^2) with the 3x3 Sobel operators."""
    h, w = img.shape
    out = np.zeros((h, w))
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            gx = (img[i - 1, j + 1] + 2.0 * img[i, j + 1] + img[i + 1, j + 1]
                  - img[i - 1, j - 1] - 2.0 * img[i, j - 1] - img[i + 1, j - 1])
            gy = (img[i + 1, j - 1] + 2.0 * img[i + 1, j] + img[i + 1, j + 1]
                  - img[i - 1, j - 1] - 2.0 * img[i - 1, j] - img[i - 1, j + 1])
            out[i, j] = math.sqrt(gx * gx + gy * gy)
    return out
