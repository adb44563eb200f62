"""k-means assignment step: nearest centroid per point, with loops."""

import numpy as np

FAMILY = "ai"
KERNEL = "kmeans_assign"
SETUP = "import numpy as np\nrng = np.random.default_rng(7)\npts = rng.random(({n}, 2))\ncen = rng.random(({k}, 2))\ndel rng"
CALL = "kmeans_assign(pts, cen)"
SIZES = {"small": {"n": 800, "k": 8}, "medium": {"n": 2500, "k": 8}, "large": {"n": 6000, "k": 12}}
SHAPES = {"pts": ["n", 2], "cen": ["k", 2]}


def kmeans_assign(pts, cen):
    """Label of the closest centroid (squared Euclidean distance) for each point."""
    n = pts.shape[0]
    k = cen.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    for i in range(n):
        best = 1e300
        for c in range(k):
            dx = pts[i, 0] - cen[c, 0]
            dy = pts[i, 1] - cen[c, 1]
            dist = dx * dx + dy * dy
            if dist < best:
                best = dist
                labels[i] = c
    return labels
