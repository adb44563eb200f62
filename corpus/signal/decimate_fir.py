"""FIR low-pass filter followed by decimation by 2, computing only the kept outputs."""

import numpy as np

FAMILY = "signal"
KERNEL = "decimate_fir"
SETUP = "import numpy as np\nrng = np.random.default_rng(221)\nx = rng.standard_normal({n})\ntaps = rng.random(31)\ntaps = taps / taps.sum()\ndel rng"
CALL = "decimate_fir(x, taps)"
SIZES = {"small": {"n": 1500}, "medium": {"n": 6000}, "large": {"n": 20000}}
SHAPES = {"x": ["n"], "taps": [31]}


def decimate_fir(x, taps):
    """y[i] = sum_k taps[k] * x[2*i - k] (zero before the start of the signal)."""
    n = len(x)
    m = len(taps)
    nout = (n + 1) // 2
    y = np.zeros(nout)
    for i in range(nout):
        j = 2 * i
        acc = 0.0
        for k in range(m):
            if j - k >= 0:
                acc += taps[k] * x[j - k]
        y[i] = acc
    return y
