"""Dense layer with bias and ReLU, already vectorised (matmul + broadcasting)."""

import numpy as np

FAMILY = "ai"
KERNEL = "relu_layer_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(9)\nx = rng.standard_normal(({b}, {i}))\nw = rng.standard_normal(({i}, {o}))\nbias = rng.standard_normal({o})\ndel rng"
CALL = "relu_layer_vec(x, w, bias)"
SIZES = {"small": {"b": 64, "i": 128, "o": 128}, "medium": {"b": 128, "i": 256, "o": 256}, "large": {"b": 256, "i": 512, "o": 256}}
SHAPES = {"x": ["b", "i"], "w": ["i", "o"], "bias": ["o"]}


def relu_layer_vec(x, w, bias):
    """max(x @ w + bias, 0)."""
    z = x @ w + bias
    return np.maximum(z, 0.0)
