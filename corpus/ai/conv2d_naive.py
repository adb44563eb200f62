"""Valid 2-D convolution of a single-channel image with a small kernel, four loops."""

import numpy as np

FAMILY = "ai"
KERNEL = "conv2d_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(1)\nimg = rng.random(({n}, {n}))\nw = rng.random((3, 3))\ndel rng"
CALL = "conv2d_naive(img, w)"
SIZES = {"small": {"n": 32}, "medium": {"n": 64}, "large": {"n": 110}}
SHAPES = {"img": ["n", "n"], "w": [3, 3]}


def conv2d_naive(img, w):
    """out[i, j] = sum_{u,v} img[i+u, j+v] * w[u, v]."""
    kh, kw = w.shape
    oh = img.shape[0] - kh + 1
    ow = img.shape[1] - kw + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            acc = 0.0
            for u in range(kh):
                for v in range(kw):
                    acc += img[i + u, j + v] * w[u, v]
            out[i, j] = acc
    return out
