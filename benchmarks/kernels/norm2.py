"""Reduction: Euclidean norm accumulated element by element."""

import math


def norm2(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
    return math.sqrt(s)
