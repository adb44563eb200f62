"""Power spectrum via numpy FFT, already vectorised."""

import numpy as np

FAMILY = "signal"
KERNEL = "spectrum_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(80)\nx = rng.standard_normal({n})\ndel rng"
CALL = "spectrum_vec(x)"
SIZES = {"small": {"n": 16384}, "medium": {"n": 131072}, "large": {"n": 1048576}}
SHAPES = {"x": ["n"]}


def spectrum_vec(x):
    """|rfft(x * hann)|^2 / n."""
    w = np.hanning(len(x))
    spec = np.fft.rfft(x * w)
    return (spec.real ** 2 + spec.imag ** 2) / len(x)
