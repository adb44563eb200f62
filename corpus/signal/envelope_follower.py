"""Envelope detector: full-wave rectification and a one-pole attack/release smoother."""

import numpy as np

FAMILY = "signal"
KERNEL = "envelope_follower"
SETUP = "import numpy as np\nrng = np.random.default_rng(222)\nx = rng.standard_normal({n}) * (1.0 + np.sin(np.linspace(0.0, 20.0, {n})))\ndel rng"
CALL = "envelope_follower(x, 0.9, 0.999)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"x": ["n"]}


def envelope_follower(x, attack, release):
    """env[i] = c * env[i-1] + (1 - c) * |x[i]|, c = attack when rising, release otherwise."""
    n = len(x)
    env = np.empty(n)
    e = 0.0
    for i in range(n):
        r = abs(x[i])
        if r > e:
            coef = attack
        else:
            coef = release
        e = coef * e + (1.0 - coef) * r
        env[i] = e
    return env
