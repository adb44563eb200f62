"""Linear chirp synthesis with a phase accumulator, scaled by an amplitude envelope."""

import math

import numpy as np

FAMILY = "signal"
KERNEL = "chirp_synth"
SETUP = "import numpy as np\nrng = np.random.default_rng(223)\namp = 0.8 + 0.2 * rng.random({n})\ndel rng"
CALL = "chirp_synth(amp, 100.0, 4000.0, 16000.0)"
SIZES = {"small": {"n": 16000}, "medium": {"n": 64000}, "large": {"n": 250000}}
SHAPES = {"amp": ["n"]}


def chirp_synth(amp, f0, f1, fs):
    """out[i] = amp[i] * sin(phase[i]), frequency sweeping linearly from f0 to f1."""
    n = len(amp)
    out = np.empty(n)
    duration = n / fs
    rate = (f1 - f0) / duration
    two_pi = 2.0 * math.pi
    phase = 0.0
    for i in range(n):
        t = i / fs
        freq = f0 + rate * t
        phase = phase + two_pi * freq / fs
        if phase > two_pi:
            phase = phase - two_pi
        out[i] = amp[i] * math.sin(phase)
    return out
