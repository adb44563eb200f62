"""Dense matrix-vector product with two nested interpreted loops."""

import numpy as np


def matvec(a, x):
    n, m = a.shape
    y = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for j in range(m):
            acc += a[i, j] * x[j]
        y[i] = acc
    return y
