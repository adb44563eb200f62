import axpby
import numpy as np


def workload_axpby():
    x = np.random.rand(300_000)
    y = np.random.rand(300_000)
    return axpby.axpby(1.5, x, -0.5, y)
