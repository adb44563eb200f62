"""2x2 max pooling with stride 2 of a (channels, height, width) array in nested loops."""

import numpy as np

FAMILY = "ai"
KERNEL = "maxpool2d_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(202)\nx = rng.standard_normal(({c}, {h}, {h}))\ndel rng"
CALL = "maxpool2d_naive(x)"
SIZES = {"small": {"c": 4, "h": 48}, "medium": {"c": 8, "h": 80}, "large": {"c": 16, "h": 112}}
SHAPES = {"x": ["c", "h", "h"]}


def maxpool2d_naive(x):
    """out[c, i, j] = max of the 2x2 window x[c, 2i:2i+2, 2j:2j+2]."""
    nc, h, w = x.shape
    oh = h // 2
    ow = w // 2
    out = np.empty((nc, oh, ow))
    for c in range(nc):
        for i in range(oh):
            for j in range(ow):
                best = x[c, 2 * i, 2 * j]
                for di in range(2):
                    for dj in range(2):
                        v = x[c, 2 * i + di, 2 * j + dj]
                        if v > best:
                            best = v
                out[c, i, j] = best
    return out
