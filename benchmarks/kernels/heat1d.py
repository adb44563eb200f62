"""Stencil: explicit 1-D heat equation step (three-point Laplacian)."""

import numpy as np


def heat_step(u, alpha):
    new = np.empty_like(u)
    new[0] = u[0]
    new[-1] = u[-1]
    for i in range(1, len(u) - 1):
        new[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1])
    return new
