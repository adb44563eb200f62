"""Gradient of the logistic-regression loss, sample by sample."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "logreg_grad"
SETUP = "import numpy as np\nrng = np.random.default_rng(8)\nx = rng.standard_normal(({n}, {d}))\ny = (rng.random({n}) > 0.5).astype(np.float64)\nw = rng.standard_normal({d}) * 0.1\ndel rng"
CALL = "logreg_grad(x, y, w)"
SIZES = {"small": {"n": 400, "d": 10}, "medium": {"n": 1200, "d": 16}, "large": {"n": 3000, "d": 20}}
SHAPES = {"x": ["n", "d"], "y": ["n"], "w": ["d"]}


def logreg_grad(x, y, w):
    """(1/n) sum_i (sigmoid(x_i . w) - y_i) x_i."""
    n, d = x.shape
    g = np.zeros(d)
    for i in range(n):
        z = 0.0
        for j in range(d):
            z += x[i, j] * w[j]
        p = 1.0 / (1.0 + math.exp(-z))
        for j in range(d):
            g[j] += (p - y[i]) * x[i, j]
    for j in range(d):
        g[j] = g[j] / n
    return g
