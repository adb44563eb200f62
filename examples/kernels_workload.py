"""Workload for examples/kernels.py: each `workload_*` function sets up and calls."""

import kernels
import numpy as np


def workload_saxpy():
    x = np.random.rand(200_000)
    y = np.random.rand(200_000)
    return kernels.saxpy(2.0, x, y)


def workload_dot():
    x = np.random.rand(200_000)
    y = np.random.rand(200_000)
    return kernels.dot(x, y)


def workload_smooth():
    u = np.random.rand(200_000)
    return kernels.smooth(u)
