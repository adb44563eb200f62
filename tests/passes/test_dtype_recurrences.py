"""dtype-reduction: sums the running-sum rules did not see keep float64.

- a scalar sum carried through a temporary or a tuple assignment (`t = s + x[i];
  s = t`, `s, n = s + x[i], n + 1`) is a running sum like `s += x[i]`;
- an additive element recurrence (`x[i + 1] = x[i] + dx`, prefix sums `c[i] = c[i - 1]
  + x[i]`, integral images `S[i + 1, j + 1] = img[i, j] + S[i, j + 1] + S[i + 1, j] -
  S[i, j]`): the element at `i` is a sum of `i` terms.

Both lose a float32 term once it falls below half an ulp of the total: the error
grows with the length, tiny on a short workload and large in production. A recurrence
whose carried element is multiplied (`y[i] = a * y[i - 1] + (1 - a) * x[i]`) contracts
its error and still narrows, as do elementwise loops and sums restarted for each row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.dtype_reduction import DtypeReductionPass

from .helpers import load, rewrite

HEADER = "import numpy as np\n\n\n"

#: each takes `x`, 1.0 followed by terms of 1e-8 (an image for the 2-D one), and is
#: written with `{f}` for its float dtype: np.float64 is the code the pass sees,
#: np.float32 what narrowing it everywhere would compute
SUMS = {
    "t = s + x[i]; s = t": (
        "def f(x):\n    x = np.asarray(x, dtype={f})\n    s = 0.0\n"
        "    for i in range(len(x)):\n        t = s + x[i]\n        s = t\n    return s\n"
    ),
    "t = x[i] + s; s = t": (
        "def f(x):\n    x = np.asarray(x, dtype={f})\n    s = 0.0\n"
        "    for i in range(len(x)):\n        t = x[i] + s\n        s = t\n    return s\n"
    ),
    "s, n = s + x[i], n + 1": (
        "def f(x):\n    x = np.asarray(x, dtype={f})\n    s, n = 0.0, 0\n"
        "    for i in range(len(x)):\n        s, n = s + x[i], n + 1\n    return s\n"
    ),
    "prev, cur = cur, cur + x[i]": (
        "def f(x):\n    x = np.asarray(x, dtype={f})\n    prev = 0.0\n    cur = 0.0\n"
        "    for i in range(len(x)):\n        prev, cur = cur, cur + x[i]\n    return cur\n"
    ),
    "x[i + 1] = x[i] + dx": (
        "def f(x):\n    n = len(x)\n    g = np.zeros(n, dtype={f})\n    g[0] = 1.0\n"
        "    for i in range(n - 1):\n        g[i + 1] = g[i] + 1e-8\n    return g\n"
    ),
    "c[i] = c[i - 1] + x[i]": (
        "def f(x):\n    x = np.asarray(x, dtype={f})\n    c = np.zeros(len(x), dtype={f})\n"
        "    c[0] = x[0]\n    for i in range(1, len(x)):\n        c[i] = c[i - 1] + x[i]\n"
        "    return c\n"
    ),
    "c[i] = x[i] + c[i - 1]": (
        "def f(x):\n    x = np.asarray(x, dtype={f})\n    c = np.zeros(len(x), dtype={f})\n"
        "    c[0] = x[0]\n    for i in range(1, len(x)):\n        c[i] = x[i] + c[i - 1]\n"
        "    return c\n"
    ),
    "c[i] += c[i - 1]": (
        "def f(x):\n    c = np.asarray(x, dtype={f}).copy()\n"
        "    for i in range(1, len(c)):\n        c[i] += c[i - 1]\n    return c\n"
    ),
    "integral image S[i + 1, j + 1]": (
        "def f(img):\n    img = np.asarray(img, dtype={f})\n    h, w = img.shape\n"
        "    S = np.zeros((h + 1, w + 1), dtype={f})\n"
        "    for i in range(h):\n        for j in range(w):\n"
        "            S[i + 1, j + 1] = img[i, j] + S[i, j + 1] + S[i + 1, j] - S[i, j]\n"
        "    return S\n"
    ),
}


def _data(name: str, n: int) -> np.ndarray:
    """1.0 then terms of 1e-8: a float32 total never moves from 1.0."""
    if name.startswith("integral"):
        side = max(2, int(round(np.sqrt(n))))
        img = np.full((side, side), 1e-8)
        img[0, 0] = 1.0
        return img
    return np.concatenate(([1.0], np.full(n - 1, 1e-8)))


def _error(code: str, want_code: str, x: np.ndarray, *args: Any) -> float:
    """The largest error of `code`'s `f` against `want_code`'s, relative to the largest
    value (an integral image has a border of zeros)."""
    want = np.asarray(load(want_code)["f"](x.copy(), *args), dtype=np.float64)
    got = np.asarray(load(code)["f"](x.copy(), *args), dtype=np.float64)
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


@pytest.mark.parametrize("name", list(SUMS), ids=list(SUMS))
def test_the_float32_error_grows_with_the_length(name: str) -> None:
    """Why: 20 terms show an error below 1e-6, 1e5 terms one above 1e-4."""
    want = HEADER + SUMS[name].format(f="np.float64")
    narrowed = HEADER + SUMS[name].format(f="np.float32")
    assert _error(narrowed, want, _data(name, 20)) < 1e-6
    assert _error(narrowed, want, _data(name, 100_000)) > 1e-4


@pytest.mark.parametrize("name", list(SUMS), ids=list(SUMS))
def test_carried_sums_and_recurrences_stay_float64(name: str) -> None:
    code = HEADER + SUMS[name].format(f="np.float64")
    module = SourceModule.parse(code, "m.py")
    pass_ = DtypeReductionPass()
    x = _data(name, 100_000)
    for opp in [o for o in pass_.find(module) if o.fixable]:
        new = pass_.apply(module, [opp]).code
        assert _error(new, code, x) < 1e-9, new


def test_an_arithmetic_progression_drifts_in_float32() -> None:
    """`x[i + 1] = x[i] + dx` with dx = 0.1: 1e-5 relative after 1e3 steps, 1e-2 after
    1e6 (float32), exact to 1e-12 in float64: the grid stays float64."""
    code = HEADER + (
        "def f(x0, dx, n):\n    x = np.zeros(n)\n    x[0] = x0\n"
        "    for i in range(n - 1):\n        x[i + 1] = x[i] + dx\n    return x\n"
    )
    new_code, found = rewrite(DtypeReductionPass(), code)
    assert "x = np.zeros(n)\n" in new_code, new_code
    x = np.zeros(10**6, dtype=np.float32)
    x[1:] = np.float32(0.1)
    drift = np.cumsum(x)  # float32, one addition after another, as the loop does
    exact = 0.1 * np.arange(10**6)
    assert abs(drift[999] - exact[999]) / exact[999] < 1e-4
    assert abs(drift[-1] - exact[-1]) / exact[-1] > 1e-3


# -- what still narrows -------------------------------------------------------------------------

NARROWING = {
    "elementwise": (
        "def f(x):\n    y = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        y[i] = 2.0 * x[i] + 1.0\n    return y\n",
        "y = np.zeros(len(x), dtype=np.float32)",
    ),
    "stencil reading the neighbours": (
        "def f(u):\n    v = np.zeros(len(u))\n    for i in range(1, len(u) - 1):\n"
        "        v[i] = u[i - 1] - 2.0 * u[i] + u[i + 1]\n    return v\n",
        "v = np.zeros(len(u), dtype=np.float32)",
    ),
    "sum through a temporary restarted for each row": (
        "def f(A):\n    n, m = A.shape\n    y = np.zeros(n)\n    for i in range(n):\n"
        "        s = 0.0\n        for j in range(m):\n            t = s + A[i, j]\n"
        "            s = t\n        y[i] = s\n    return y\n",
        "y = np.zeros(n, dtype=np.float32)",
    ),
    "exponential smoothing y[i] = a * y[i - 1] + (1 - a) * x[i]": (
        "def f(x, a):\n    y = np.zeros(len(x))\n    y[0] = x[0]\n"
        "    for i in range(1, len(x)):\n        y[i] = a * y[i - 1] + (1 - a) * x[i]\n"
        "    return y\n",
        "y = np.zeros(len(x), dtype=np.float32)",
    ),
    "IIR y[i] = y[i - 1] * a + b * x[i]": (
        "def f(x, a):\n    y = np.zeros(len(x))\n    for i in range(1, len(x)):\n"
        "        y[i] = y[i - 1] * a + 0.5 * x[i]\n    return y\n",
        "y = np.zeros(len(x), dtype=np.float32)",
    ),
    "insertion sort shifting buf[b + 1] = buf[b] (a copy, no addition)": (
        "def f(x):\n    y = np.zeros(len(x))\n    buf = np.empty(3)\n"
        "    for i in range(len(x)):\n        buf[0] = x[i]\n        b = 1\n"
        "        while b >= 0 and buf[b] > x[i]:\n            buf[b + 1] = buf[b]\n"
        "            b -= 1\n        y[i] = 2.0 * buf[0]\n    return y\n",
        "buf = np.empty(3, dtype=np.float32)",
    ),
    "swapped buffers (a cycle without an addition)": (
        "def f(x):\n    a = 0.0\n    b = 1.0\n    y = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n        a, b = b, a\n        y[i] = a * x[i]\n    return y\n",
        "y = np.zeros(len(x), dtype=np.float32)",
    ),
}


@pytest.mark.parametrize("name", list(NARROWING), ids=list(NARROWING))
def test_bounded_error_loops_still_narrow(name: str) -> None:
    code, narrowed = NARROWING[name]
    new_code, _ = rewrite(DtypeReductionPass(), HEADER + code)
    assert narrowed in new_code, new_code


def test_smoothing_error_stays_bounded_in_float32() -> None:
    """Why smoothing may narrow: the carried error is multiplied by `a` < 1 each step,
    so the float32 error on 1e5 samples is no larger than on 1e3."""
    code = HEADER + NARROWING["exponential smoothing y[i] = a * y[i - 1] + (1 - a) * x[i]"][0]
    new_code, _ = rewrite(DtypeReductionPass(), code)
    x = np.random.default_rng(0).random(100_000) + 1.0
    errors = [_error(new_code, code, x[:n], 0.9) for n in (1000, 100_000)]
    assert max(errors) < 1e-5, errors
