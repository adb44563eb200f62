"""Naive numerical kernels, written the way they often are: greenopt's bundled example."""

import numpy as np


def saxpy(a, x, y):
    """a*x + y, element by element."""
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out


def dot(x, y):
    """Inner product with an interpreted loop."""
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s


def smooth(u):
    """One Jacobi sweep of the 1-D heat equation (three-point stencil)."""
    v = u.copy()
    for i in range(1, len(u) - 1):
        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]
    return v


def unused(x):
    """Not called by the workload: greenopt never changes it."""
    total = 0.0
    for i in range(len(x)):
        total += x[i]
    return total
