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


def _floor_quotients(x: np.ndarray, w: float) -> np.ndarray:
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = np.floor_divide(x[i], w)
    return out


def test_numba_floor_divide_takes_another_quotient_than_numpy() -> None:
    # Numba computes np.floor_divide (and np.divmod) as floor(a / b), NumPy as the divmod
    # quotient; the jit pass refuses functions calling them. When this test fails, Numba
    # has changed: the refusal (jit.FLOOR_QUOTIENTS) can go.
    x = np.round(np.arange(-30, 31) * 0.1, 1)
    compiled = numba.njit(_floor_quotients)(x, 0.3)
    assert compiled[np.argmin(np.abs(x + 1.5))] == -5.0 and np.floor_divide(-1.5, 0.3) == -6.0
    assert np.count_nonzero(compiled != _floor_quotients(x, 0.3)) >= 3
    # the `//` operator compiles like NumPy, on scalars and on arrays
    assert numba.njit(lambda a, b: a // b)(-1.5, 0.3) == -6.0
    assert np.array_equal(numba.njit(lambda a, b: a // b)(x, 0.3), x // 0.3)


def test_numba_median_ignores_some_nans() -> None:
    # NumPy's median of data holding a NaN is nan; compiled, a number for about a third
    # of such inputs. The jit pass refuses np.median (jit.COMPILED_DIFFERENTLY); when this
    # fails, Numba has changed and the refusal can go. np.percentile, np.quantile and
    # np.nanmedian agree with NumPy on NaN data.
    data = np.array([1.0, 2.0, np.nan])
    assert np.isnan(np.median(data)) and numba.njit(lambda a: np.median(a))(data) == 2.0
    rng = np.random.default_rng(1)
    others = [
        lambda a: np.percentile(a, 30.0),
        lambda a: np.quantile(a, 0.7),
        lambda a: np.nanmedian(a),
    ]
    for f in others:
        compiled = numba.njit(f)
        for _ in range(100):
            a = rng.random(int(rng.integers(1, 10)))
            a[rng.random(len(a)) < 0.3] = np.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
                want, got = f(a.copy()), compiled(a.copy())
            assert np.isnan(want) == np.isnan(got) and (
                np.isnan(want) or got == pytest.approx(want)
            )


@pytest.mark.parametrize(
    ("call", "imports", "reason"),
    [
        ("np.floor_divide(x[i], w)", "", "floor(a / b)"),
        ("np.divmod(x[i], w)[0]", "", "floor(a / b)"),
        ("floor_divide(x[i], w)", "from numpy import floor_divide\n", "floor(a / b)"),
        ("np.median(x[i : i + 3]) * w", "", "NaN"),
    ],
)
def test_jit_refuses_numpy_functions_compiled_differently(
    call: str, imports: str, reason: str
) -> None:
    from .helpers import jit_by_function

    code = (
        f"{imports}\n\ndef bins(x, w):\n    out = np.empty(len(x))\n"
        f"    for i in range(len(x)):\n        out[i] = {call}\n    return out\n"
    )
    found = jit_by_function(code)["bins"]
    assert set(found) == {"GO490"}, found
    assert reason in found["GO490"]


def test_jit_keeps_the_floor_division_operator() -> None:
    from .helpers import jit_by_function

    code = (
        "\n\ndef bins(x, w):\n    out = np.empty(len(x))\n"
        "    for i in range(len(x)):\n        out[i] = x[i] // w\n    return out\n"
    )
    assert "GO401" in jit_by_function(code)["bins"]


def test_numba_round_with_digits_rounds_python_floats_like_numpy() -> None:
    # Python's round(x, n) of a float is correctly rounded in decimal; of a NumPy float
    # it is np.round; compiled it is always np.round. The jit pass refuses round(x, n).
    value = -2.9450000000000003
    compiled = numba.njit(lambda x: round(x, 2))
    assert round(value, 2) == -2.95 and compiled(value) == -2.94
    assert round(np.float64(value), 2) == compiled(value) == np.round(value, 2)
    # round(x) without digits agrees (both round half to even)
    assert numba.njit(lambda x: round(x))(2.5) == round(2.5) == 2


def test_jit_refuses_round_with_digits_and_keeps_round_without() -> None:
    from .helpers import jit_by_function

    body = "\n\ndef f(x):\n    out = np.empty(len(x))\n    for i in range(len(x)):\n"
    refused = jit_by_function(body + "        out[i] = round(math.sqrt(x[i]), 3)\n    return out\n")
    assert set(refused["f"]) == {"GO490"} and "round(x, ndigits)" in refused["f"]["GO490"]
    kept = jit_by_function(body + "        out[i] = round(x[i])\n    return out\n")
    assert "GO401" in kept["f"]
