"""Forward pass of a two-layer perceptron with tanh, loops over units."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "mlp_forward"
SETUP = "import numpy as np\nrng = np.random.default_rng(5)\nx = rng.standard_normal(({b}, {i}))\nw1 = rng.standard_normal(({i}, {h})) * 0.1\nw2 = rng.standard_normal(({h}, 4)) * 0.1\ndel rng"
CALL = "mlp_forward(x, w1, w2)"
SIZES = {"small": {"b": 8, "i": 16, "h": 16}, "medium": {"b": 16, "i": 24, "h": 24}, "large": {"b": 32, "i": 32, "h": 32}}
SHAPES = {"x": ["b", "i"], "w1": ["i", "h"], "w2": ["h", 4]}


def mlp_forward(x, w1, w2):
    """y = tanh(x @ w1) @ w2, unit by unit."""
    batch, nin = x.shape
    hidden = w1.shape[1]
    nout = w2.shape[1]
    h = np.zeros((batch, hidden))
    y = np.zeros((batch, nout))
    for b in range(batch):
        for j in range(hidden):
            s = 0.0
            for i in range(nin):
                s += x[b, i] * w1[i, j]
            h[b, j] = math.tanh(s)
        for o in range(nout):
            s = 0.0
            for j in range(hidden):
                s += h[b, j] * w2[j, o]
            y[b, o] = s
    return y
