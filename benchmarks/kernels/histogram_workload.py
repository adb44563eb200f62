import histogram
import numpy as np


def workload_histogram():
    idx = np.random.randint(0, 64, size=300_000)
    return histogram.histogram(idx, 64)
