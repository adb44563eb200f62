"""Already vectorised NumPy: greenopt's jit pass proposes nothing here."""

import numpy as np


def softmax_rows(z):
    """Row-wise softmax with whole-array operations."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
