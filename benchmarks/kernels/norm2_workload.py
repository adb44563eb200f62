import norm2
import numpy as np


def workload_norm2():
    return norm2.norm2(np.random.rand(300_000))
