"""European call price by Monte Carlo with a per-sample loop."""

import math

FAMILY = "montecarlo"
KERNEL = "option_payoff_loop"
SETUP = "import numpy as np\nrng = np.random.default_rng(97)\nz = rng.standard_normal({n})\ndel rng"
CALL = "option_payoff_loop(z, 100.0, 105.0, 0.01, 0.2, 1.0)"
SIZES = {"small": {"n": 15000}, "medium": {"n": 60000}, "large": {"n": 200000}}
SHAPES = {"z": ["n"]}


def option_payoff_loop(z, s0, strike, r, sigma, t):
    """exp(-rT) mean(max(S_T - K, 0)) accumulated in a loop."""
    drift = (r - 0.5 * sigma * sigma) * t
    vol = sigma * math.sqrt(t)
    total = 0.0
    for i in range(len(z)):
        st = s0 * math.exp(drift + vol * z[i])
        total += max(st - strike, 0.0)
    return math.exp(-r * t) * total / len(z)
