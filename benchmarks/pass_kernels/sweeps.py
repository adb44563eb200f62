"""Two sweeps over the same range, written as separate loops (loop-fusion, then jit)."""

import numpy as np


def scale_then_weight(x, y):
    """b[i] = (2 x[i] + 1) * y[i], in two passes over memory."""
    n = len(x)
    a = np.empty(n)
    b = np.empty(n)
    for i in range(n):
        a[i] = x[i] * 2.0 + 1.0
    for i in range(n):
        b[i] = a[i] * y[i]
    return b
