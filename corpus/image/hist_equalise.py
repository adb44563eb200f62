"""Histogram equalisation of an 8-bit image: histogram, CDF and lookup, with loops."""

import numpy as np

FAMILY = "image"
KERNEL = "hist_equalise"
SETUP = "import numpy as np\nrng = np.random.default_rng(33)\nimg = (rng.random(({n}, {n})) ** 2 * 255).astype(np.int64)\ndel rng"
CALL = "hist_equalise(img)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 300}}
SHAPES = {"img": ["n", "n"]}


def hist_equalise(img):
    """Map each grey level through the normalised cumulative histogram."""
    h, w = img.shape
    hist = np.zeros(256)
    for i in range(h):
        for j in range(w):
            hist[img[i, j]] += 1.0
    cdf = np.zeros(256)
    acc = 0.0
    for v in range(256):
        acc += hist[v]
        cdf[v] = acc
    total = cdf[255]
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = 255.0 * cdf[img[i, j]] / total
    return out
