"""Euclidean distance matrix of points, three loops with np.sqrt on each scalar sum."""

import numpy as np

FAMILY = "linalg"
KERNEL = "pairwise_dist_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(61)\npts = rng.random(({n}, 3))\ndel rng"
CALL = "pairwise_dist_loop(pts)"
SIZES = {"small": {"n": 80}, "medium": {"n": 160}, "large": {"n": 250}}
SHAPES = {"pts": ["n", 3]}


def pairwise_dist_loop(pts):
    """d[i, j] = ||pts[i] - pts[j]||."""
    n = pts.shape[0]
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(pts.shape[1]):
                diff = pts[i, k] - pts[j, k]
                s += diff * diff
            d[i, j] = np.sqrt(s)
    return d
