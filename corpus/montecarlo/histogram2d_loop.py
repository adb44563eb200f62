"""2-D histogram of points in the unit square, counted into bins in a loop."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "histogram2d_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(227)\nx = rng.random({n})\ny = rng.random({n})\ndel rng"
CALL = "histogram2d_loop(x, y, {nb})"
SIZES = {
    "small": {"n": 8000, "nb": 32},
    "medium": {"n": 32000, "nb": 48},
    "large": {"n": 100000, "nb": 64},
}
SHAPES = {"x": ["n"], "y": ["n"]}


def histogram2d_loop(x, y, nb):
    """counts[ix, iy] = number of points with x in bin ix and y in bin iy (nb bins per axis)."""
    counts = np.zeros((nb, nb), dtype=np.int64)
    for i in range(len(x)):
        ix = int(x[i] * nb)
        iy = int(y[i] * nb)
        if ix >= 0 and ix < nb and iy >= 0 and iy < nb:
            counts[ix, iy] += 1
    return counts
