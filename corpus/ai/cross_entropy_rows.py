"""Mean cross-entropy loss of logits against integer labels, log-sum-exp per row in loops."""

import math

FAMILY = "ai"
KERNEL = "cross_entropy_rows"
SETUP = "import numpy as np\nrng = np.random.default_rng(201)\nlogits = rng.standard_normal(({n}, {k}))\nlabels = rng.integers(0, {k}, size={n}).astype(np.int64)\ndel rng"
CALL = "cross_entropy_rows(logits, labels)"
SIZES = {
    "small": {"n": 64, "k": 150},
    "medium": {"n": 128, "k": 300},
    "large": {"n": 256, "k": 600},
}
SHAPES = {"logits": ["n", "k"], "labels": ["n"]}


def cross_entropy_rows(logits, labels):
    """-mean_i log softmax(logits[i])[labels[i]], max-subtracted for stability."""
    n, k = logits.shape
    total = 0.0
    for i in range(n):
        m = logits[i, 0]
        for j in range(1, k):
            if logits[i, j] > m:
                m = logits[i, j]
        s = 0.0
        for j in range(k):
            s += math.exp(logits[i, j] - m)
        log_sum = m + math.log(s)
        total += log_sum - logits[i, labels[i]]
    return total / n
