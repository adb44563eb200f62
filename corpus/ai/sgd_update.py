"""Momentum SGD parameter update over a flat parameter vector, in a loop."""

import numpy as np

FAMILY = "ai"
KERNEL = "sgd_update"
SETUP = "import numpy as np\nrng = np.random.default_rng(13)\nw = rng.standard_normal({n})\ng = rng.standard_normal({n})\nv = np.zeros({n})\ndel rng"
CALL = "sgd_update(w, g, v, 0.01, 0.9)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"w": ["n"], "g": ["n"], "v": ["n"]}


def sgd_update(w, g, v, lr, mu):
    """v = mu*v - lr*g; w = w + v (returns new arrays)."""
    n = w.shape[0]
    v2 = np.empty(n)
    w2 = np.empty(n)
    for i in range(n):
        v2[i] = mu * v[i] - lr * g[i]
    for i in range(n):
        w2[i] = w[i] + v2[i]
    return w2, v2
