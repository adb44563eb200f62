"""`min`/`max` inside further arithmetic: the loop goes on with a Python number or the
element, `np.where` with one array of the element's dtype (found by re-running the
hunt-6 fuzzer after hunts 7 and 8).

`np.abs(min(y[i], 1.0))` on an int64 `y` holding -2**63: the loop takes `abs` of the
int64 element (it wraps to -2**63), the rewrite of the float64 `np.where` result
(+2**63). `max(x[i], 7) / 3` on a float32 `x`: the loop divides the Python int 7
(float64 result), the rewrite a float32 7.
"""

from __future__ import annotations

import numpy as np
import pytest

from .test_hunt6_traps import _assert_same, _static

INT_ABS_OF_MIN = """def f(x, y):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = np.abs(min(y[i], 1.0))
    return out
"""

FLOAT32_DIVIDED_MAX = """def f(x):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = max(x[i], 7) / 3
    return out
"""

DIRECT_STORE = """def f(x):
    x = np.asarray(x)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = max(x[i], 0.0)
    return out
"""

FLOAT64_NESTED = """def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = max(x[i], 7) / 3
    return out
"""


@pytest.mark.parametrize(
    ("code", "args"),
    [
        (INT_ABS_OF_MIN, (np.array([-(2**63), 5]), np.array([-(2**63), 5]))),
        (FLOAT32_DIVIDED_MAX, (np.array([1.0, 9.0], dtype=np.float32),)),
    ],
)
def test_min_max_feeding_more_arithmetic_is_not_static(code: str, args: tuple) -> None:
    new, skipped = _static(code)
    assert "np.where" not in new
    assert any("feeds more arithmetic" in reason for reason in skipped), skipped
    _assert_same("import numpy as np\n\n\n" + code, new, *args)


def test_a_min_max_stored_directly_or_on_float64_stays_static() -> None:
    for code, args in ((DIRECT_STORE, (np.array([-1.0, 2.0]),)), (FLOAT64_NESTED, ([1.0, 9.0],))):
        new, _ = _static(code)
        assert "np.where" in new, new  # still applied statically
        _assert_same("import numpy as np\n\n\n" + code, new, *args)


def test_the_fuzzed_kernel_differed_before() -> None:
    """What the rewrite used to compute: np.where makes the int64 element a float64."""
    y = np.array([-(2**63), 5])
    loop = [np.abs(min(v, 1.0)) for v in y]
    where = np.abs(np.where(1.0 < y, 1.0, y))
    assert loop[0] != where[0]
