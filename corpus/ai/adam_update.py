"""One Adam optimiser step over a flat parameter vector, element by element."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "adam_update"
SETUP = "import numpy as np\nrng = np.random.default_rng(203)\np = rng.standard_normal({n})\ng = rng.standard_normal({n})\nm = 0.1 * rng.standard_normal({n})\nv = 0.01 * rng.random({n})\ndel rng"
CALL = "adam_update(p, g, m, v, 0.001, 0.9, 0.999, 1e-8, 5)"
SIZES = {"small": {"n": 5000}, "medium": {"n": 20000}, "large": {"n": 80000}}
SHAPES = {"p": ["n"], "g": ["n"], "m": ["n"], "v": ["n"]}


def adam_update(p, g, m, v, lr, beta1, beta2, eps, t):
    """Update m and v in place, return the new parameters (bias-corrected step t)."""
    n = p.shape[0]
    out = np.empty(n)
    bc1 = 1.0 - beta1**t
    bc2 = 1.0 - beta2**t
    for i in range(n):
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i]
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]
        m_hat = m[i] / bc1
        v_hat = v[i] / bc2
        out[i] = p[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return out
