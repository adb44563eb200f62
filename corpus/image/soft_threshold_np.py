"""Soft thresholding (wavelet shrinkage) of an image, pixel by pixel with NumPy scalar calls."""

import numpy as np

FAMILY = "image"
KERNEL = "soft_threshold_np"
SETUP = "import numpy as np\nrng = np.random.default_rng(91)\nimg = rng.standard_normal(({h}, {w}))\ndel rng"
CALL = "soft_threshold_np(img, 0.5)"
SIZES = {
    "small": {"h": 96, "w": 96},
    "medium": {"h": 192, "w": 192},
    "large": {"h": 256, "w": 256},
}
SHAPES = {"img": ["h", "w"]}


def soft_threshold_np(img, t):
    """sign(v) * max(|v| - t, 0) for every pixel v."""
    out = np.empty(img.shape)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            v = img[i, j]
            out[i, j] = np.sign(v) * np.maximum(np.abs(v) - t, 0.0)
    return out
