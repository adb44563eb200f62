"""One first-order upwind advection step of a 2-D scalar field with variable velocity."""

FAMILY = "fluid"
KERNEL = "upwind2d"
SETUP = "import numpy as np\nrng = np.random.default_rng(205)\nq = rng.random(({n}, {n}))\nu = rng.standard_normal(({n}, {n}))\nv = rng.standard_normal(({n}, {n}))\ndel rng"
CALL = "upwind2d(q, u, v, 0.05, 0.1, 0.1)"
SIZES = {"small": {"n": 50}, "medium": {"n": 100}, "large": {"n": 180}}
SHAPES = {"q": ["n", "n"], "u": ["n", "n"], "v": ["n", "n"]}


def upwind2d(q, u, v, dt, dx, dy):
    """q_t + u q_x + v q_y = 0, one-sided differences taken against the flow; fixed boundary."""
    ny, nx = q.shape
    out = q.copy()
    for i in range(1, ny - 1):
        for j in range(1, nx - 1):
            if u[i, j] > 0.0:
                dqdx = (q[i, j] - q[i, j - 1]) / dx
            else:
                dqdx = (q[i, j + 1] - q[i, j]) / dx
            if v[i, j] > 0.0:
                dqdy = (q[i, j] - q[i - 1, j]) / dy
            else:
                dqdy = (q[i + 1, j] - q[i, j]) / dy
            out[i, j] = q[i, j] - dt * (u[i, j] * dqdx + v[i, j] * dqdy)
    return out
