"""Elementwise: a*x + b*y with an interpreted loop."""

import numpy as np


def axpby(a, x, b, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + b * y[i]
    return out
