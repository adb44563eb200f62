import matvec
import numpy as np


def workload_matvec():
    a = np.random.rand(400, 400)
    x = np.random.rand(400)
    return matvec.matvec(a, x)
