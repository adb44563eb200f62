"""Loop-carried dependence: running sum (not vectorisable as a map)."""

import numpy as np


def prefix_sum(x):
    out = np.empty_like(x)
    acc = 0.0
    for i in range(len(x)):
        acc = acc + x[i]
        out[i] = acc
    return out
