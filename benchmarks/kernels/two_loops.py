"""Two adjacent loops over the same range with a temporary (loop-fusion candidate)."""

import numpy as np


def scaled_shift(x, a, b):
    tmp = np.empty_like(x)
    for i in range(len(x)):
        tmp[i] = a * x[i]
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = tmp[i] + b
    return out
