import heat1d
import numpy as np


def workload_heat():
    u = np.random.rand(300_000)
    return heat1d.heat_step(u, 0.1)
