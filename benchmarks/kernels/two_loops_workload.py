import numpy as np
import two_loops


def workload_two_loops():
    return two_loops.scaled_shift(np.random.rand(300_000), 3.0, 1.0)
