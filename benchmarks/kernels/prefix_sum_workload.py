import numpy as np
import prefix_sum


def workload_prefix_sum():
    return prefix_sum.prefix_sum(np.random.rand(300_000))
