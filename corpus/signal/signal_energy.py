"""Short-time energy envelope over non-overlapping frames."""

import numpy as np

FAMILY = "signal"
KERNEL = "signal_energy"
SETUP = "import numpy as np\nrng = np.random.default_rng(77)\nx = rng.standard_normal({n})\ndel rng"
CALL = "signal_energy(x, 64)"
SIZES = {"small": {"n": 16384}, "medium": {"n": 65536}, "large": {"n": 196608}}
SHAPES = {"x": ["n"]}


def signal_energy(x, frame):
    """e[f] = sum of x^2 over frame f."""
    nframes = len(x) // frame
    e = np.zeros(nframes)
    for f in range(nframes):
        s = 0.0
        for t in range(frame):
            v = x[f * frame + t]
            s += v * v
        e[f] = s
    return e
