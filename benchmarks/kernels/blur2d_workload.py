import blur2d
import numpy as np


def workload_blur():
    return blur2d.blur(np.random.rand(400, 400))
