"""Single-head scaled dot-product attention with loops over queries and keys."""

import math

import numpy as np

FAMILY = "ai"
KERNEL = "attention_naive"
SETUP = "import numpy as np\nrng = np.random.default_rng(4)\nq = rng.standard_normal(({t}, {d}))\nk = rng.standard_normal(({t}, {d}))\nv = rng.standard_normal(({t}, {d}))\ndel rng"
CALL = "attention_naive(q, k, v)"
SIZES = {"small": {"t": 16, "d": 8}, "medium": {"t": 28, "d": 12}, "large": {"t": 40, "d": 16}}
SHAPES = {"q": ["t", "d"], "k": ["t", "d"], "v": ["t", "d"]}


def attention_naive(q, k, v):
    """softmax(Q K^T / sqrt(d)) V, one query row at a time."""
    t, d = q.shape
    scale = 1.0 / math.sqrt(d)
    out = np.zeros((t, d))
    scores = np.zeros(t)
    for i in range(t):
        m = -1e300
        for j in range(t):
            s = 0.0
            for c in range(d):
                s += q[i, c] * k[j, c]
            scores[j] = s * scale
            if scores[j] > m:
                m = scores[j]
        total = 0.0
        for j in range(t):
            scores[j] = math.exp(scores[j] - m)
            total += scores[j]
        for j in range(t):
            for c in range(d):
                out[i, c] += scores[j] / total * v[j, c]
    return out
