"""Bilinear resize of a grey image to a new height and width."""

import numpy as np

FAMILY = "image"
KERNEL = "bilinear_resize"
SETUP = (
    "import numpy as np\nrng = np.random.default_rng(211)\nimg = rng.random(({n}, {n}))\ndel rng"
)
CALL = "bilinear_resize(img, {m}, {m})"
SIZES = {"small": {"n": 40, "m": 60}, "medium": {"n": 80, "m": 120}, "large": {"n": 150, "m": 225}}
SHAPES = {"img": ["n", "n"]}


def bilinear_resize(img, new_h, new_w):
    """Sample img on a new_h x new_w grid with bilinear interpolation."""
    h, w = img.shape
    out = np.empty((new_h, new_w))
    scale_y = h / new_h
    scale_x = w / new_w
    for i in range(new_h):
        y = (i + 0.5) * scale_y - 0.5
        if y < 0.0:
            y = 0.0
        y0 = int(y)
        y1 = min(y0 + 1, h - 1)
        wy = y - y0
        for j in range(new_w):
            x = (j + 0.5) * scale_x - 0.5
            if x < 0.0:
                x = 0.0
            x0 = int(x)
            x1 = min(x0 + 1, w - 1)
            wx = x - x0
            top = (1.0 - wx) * img[y0, x0] + wx * img[y0, x1]
            bottom = (1.0 - wx) * img[y1, x0] + wx * img[y1, x1]
            out[i, j] = (1.0 - wy) * top + wy * bottom
    return out
