"""3x3 box blur of a grey image with nested loops."""

import numpy as np

FAMILY = "image"
KERNEL = "box_blur"
SETUP = "import numpy as np\nrng = np.random.default_rng(30)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "box_blur(img)"
SIZES = {"small": {"n": 60}, "medium": {"n": 120}, "large": {"n": 240}}
SHAPES = {"img": ["n", "n"]}


def box_blur(img):
    """Mean of each interior pixel's 3x3 neighbourhood; borders copied."""
    h, w = img.shape
    out = img.copy()
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            s = 0.0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    s += img[i + di, j + dj]
            out[i, j] = s / 9.0
    return out
