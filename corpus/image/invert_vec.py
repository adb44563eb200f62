"""Image inversion and contrast stretch, already vectorised."""

import numpy as np

FAMILY = "image"
KERNEL = "invert_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(39)\nimg = rng.random(({n}, {n}))\ndel rng"
CALL = "invert_vec(img)"
SIZES = {"small": {"n": 300}, "medium": {"n": 700}, "large": {"n": 1400}}
SHAPES = {"img": ["n", "n"]}


def invert_vec(img):
    """(max - img) / (max - min)."""
    lo = img.min()
    hi = img.max()
    return (hi - img) / (hi - lo)
