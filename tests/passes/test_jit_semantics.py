"""Where compiled code differs from the interpreter, as docs/passes.md (jit) states.

These pin Numba's behaviour on the installed version, so the documentation of what
the validator (not legality) has to catch stays true when Numba changes: division
by zero raises under the default error model, domain errors do not, and a float32
accumulation runs in float64.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")


def _divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = x[i] / y[i]
    return out


def _root(x: float) -> float:
    return math.sqrt(x)


def _total(x: np.ndarray) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s


def test_division_by_zero_raises_compiled_where_numpy_scalars_give_inf() -> None:
    x, y = np.array([1.0, 2.0]), np.array([0.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert _divide(x, y)[0] == np.inf
    with pytest.raises(ZeroDivisionError):
        numba.njit(_divide)(x, y)


def test_math_domain_error_raises_in_python_and_is_nan_compiled() -> None:
    with pytest.raises(ValueError):
        _root(-1.0)
    assert math.isnan(numba.njit(_root)(-1.0))


def test_float32_accumulation_is_float64_compiled() -> None:
    x = np.full(100_000, 0.1, dtype=np.float32)
    interpreted = _total(x)
    compiled = numba.njit(_total)(x)
    assert isinstance(interpreted, np.float32)  # NEP 50: 0.0 + float32 -> float32
    assert abs(compiled - float(np.float64(np.float32(0.1)) * 100_000)) < 1e-6
    assert abs(float(interpreted) - compiled) / compiled > 1e-6
