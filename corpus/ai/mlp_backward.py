"""Weight gradient of a linear layer with squared loss, dW = X^T (XW - Y) / n, with loops."""

import numpy as np

FAMILY = "ai"
KERNEL = "mlp_backward"
SETUP = "import numpy as np\nrng = np.random.default_rng(6)\nx = rng.standard_normal(({n}, {d}))\nw = rng.standard_normal(({d}, 3))\ny = rng.standard_normal(({n}, 3))\ndel rng"
CALL = "mlp_backward(x, w, y)"
SIZES = {"small": {"n": 64, "d": 12}, "medium": {"n": 160, "d": 16}, "large": {"n": 400, "d": 20}}
SHAPES = {"x": ["n", "d"], "w": ["d", 3], "y": ["n", 3]}


def mlp_backward(x, w, y):
    """Gradient of 0.5*||XW - Y||^2 / n with respect to W."""
    n, d = x.shape
    k = w.shape[1]
    err = np.zeros((n, k))
    for i in range(n):
        for o in range(k):
            s = 0.0
            for j in range(d):
                s += x[i, j] * w[j, o]
            err[i, o] = s - y[i, o]
    grad = np.zeros((d, k))
    for j in range(d):
        for o in range(k):
            s = 0.0
            for i in range(n):
                s += x[i, j] * err[i, o]
            grad[j, o] = s / n
    return grad
