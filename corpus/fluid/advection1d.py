"""First-order upwind advection in 1-D with periodic boundaries."""

import numpy as np

FAMILY = "fluid"
KERNEL = "advection1d"
SETUP = "import numpy as np\nx = np.linspace(0.0, 1.0, {n})\nq = np.exp(-100.0 * (x - 0.5) ** 2)"
CALL = "advection1d(q, 0.5, 8)"
SIZES = {"small": {"n": 1500}, "medium": {"n": 5000}, "large": {"n": 16000}}
SHAPES = {"q": ["n"]}


def advection1d(q, cfl, steps):
    """q_i <- q_i - cfl * (q_i - q_{i-1}), positive velocity, periodic."""
    n = len(q)
    cur = q.copy()
    for _ in range(steps):
        nxt = np.empty(n)
        for i in range(n):
            nxt[i] = cur[i] - cfl * (cur[i] - cur[i - 1])
        cur = nxt
    return cur
