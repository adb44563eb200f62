"""GELU activation (tanh approximation) of a batch x features array, element by element."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "gelu_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(200)\nx = rng.standard_normal(({b}, {f}))\ndel rng"
CALL = "gelu_naive(x)"
SIZES = {
    "small": {"b": 32, "f": 256},
    "medium": {"b": 64, "f": 512},
    "large": {"b": 128, "f": 1024},
}
SHAPES = {"x": ["b", "f"]}


def gelu_naive(x):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) into a new array."""
    rows, cols = x.shape
    out = np.empty((rows, cols))
    c = math.sqrt(2.0 / math.pi)
    for i in range(rows):
        for j in range(cols):
            xv = x[i, j]
            inner = c * (xv + 0.044715 * xv * xv * xv)
            out[i, j] = 0.5 * xv * (1.0 + math.tanh(inner))
    return out
