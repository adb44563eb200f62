"""3x3 median filter of a grey image with an insertion sort per pixel (border copied)."""

import numpy as np

FAMILY = "image"
KERNEL = "median3x3"
SETUP = (
    "import numpy as np\nrng = np.random.default_rng(210)\nimg = rng.random(({n}, {n}))\ndel rng"
)
CALL = "median3x3(img)"
SIZES = {"small": {"n": 30}, "medium": {"n": 60}, "large": {"n": 100}}
SHAPES = {"img": ["n", "n"]}


def median3x3(img):
    """Median of each interior pixel's 3x3 neighbourhood; border pixels are copied."""
    h, w = img.shape
    out = img.copy()
    buf = np.empty(9)
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            k = 0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    buf[k] = img[i + di, j + dj]
                    k += 1
            for a in range(1, 9):
                v = buf[a]
                b = a - 1
                while b >= 0 and buf[b] > v:
                    buf[b + 1] = buf[b]
                    b -= 1
                buf[b + 1] = v
            out[i, j] = buf[4]
    return out
