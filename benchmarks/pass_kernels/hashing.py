"""Polynomial string hash with Python ints: Numba's int64 would overflow (jit refused)."""


def poly_hash(codes):
    """h = h * 31 + c over the codes, exact (Python ints never overflow)."""
    h = 7
    for c in codes:
        h = h * 31 + c
    return h
