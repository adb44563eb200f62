"""Exponential moving average: a loop-carried dependence (jit yes, parallel never)."""

import numpy as np


def ema(x, alpha):
    """out[i] = alpha x[i] + (1 - alpha) out[i - 1]."""
    out = np.empty_like(x)
    out[0] = x[0]
    for i in range(1, len(x)):
        out[i] = alpha * x[i] + (1.0 - alpha) * out[i - 1]
    return out
