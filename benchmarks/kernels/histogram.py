"""Scatter with repeated indices: must never become `h[idx] += 1`."""

import numpy as np


def histogram(idx, bins):
    h = np.zeros(bins, dtype=np.int64)
    for i in range(len(idx)):
        h[idx[i]] += 1
    return h
