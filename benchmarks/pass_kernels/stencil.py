"""Vectorised float64 three-point smoothing, memory bound (dtype-reduction at rtol 1e-3)."""


def smooth(u, steps):
    """`steps` Jacobi sweeps of a three-point stencil over a large array."""
    v = u.copy()
    for _ in range(steps):
        v[1:-1] = 0.25 * v[:-2] + 0.5 * v[1:-1] + 0.25 * v[2:]
    return v
