"""European call price by Monte Carlo, already vectorised."""

import numpy as np

FAMILY = "montecarlo"
KERNEL = "option_payoff_vec"
SETUP = "import numpy as np\nrng = np.random.default_rng(96)\nz = rng.standard_normal({n})\ndel rng"
CALL = "option_payoff_vec(z, 100.0, 105.0, 0.01, 0.2, 1.0)"
SIZES = {"small": {"n": 100000}, "medium": {"n": 500000}, "large": {"n": 2000000}}
SHAPES = {"z": ["n"]}


def option_payoff_vec(z, s0, strike, r, sigma, t):
    """exp(-rT) mean(max(S_T - K, 0))."""
    st = s0 * np.exp((r - 0.5 * sigma ** 2) * t + sigma * np.sqrt(t) * z)
    return float(np.exp(-r * t) * np.maximum(st - strike, 0.0).mean())
