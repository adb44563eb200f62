"""A chain of whole-array expressions, each allocating a temporary (loop-fusion GO202)."""

import numpy as np


def magnitude(a, b, c, d):
    """sqrt((a * b + c) * d) with one named temporary per step."""
    t = a * b
    u = t + c
    v = u * d
    return np.sqrt(v)
