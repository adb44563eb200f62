"""dtype-reduction (hunt19): float32 rewrites whose error grows with the input size.

A validator's workload is usually short; each of these passed it (an error of 1e-6 or
none) and was then 1e-3 to 40% off on a 100x-1000x longer input:

- scans other than `np.cumsum`, and `y.cumsum()` without arguments (only the method
  called with arguments was recognised): `np.cumulative_sum`, `np.nancumsum`, any
  `ufunc.accumulate` (`np.subtract.accumulate`, `np.logaddexp.accumulate`) and
  running products (`np.cumprod`, `x.cumprod()`, `np.cumulative_prod`,
  `np.multiply.accumulate`): the running total is float32, its error grows with the
  length (1.6e-6 at 1e4 elements, 1.4e-2 at 1e7);
- reductions along a leading axis (`X.sum(axis=0)`, `np.mean(X, axis=0)`,
  `np.mean(X, axis=-2)`, `X.T.sum(axis=1)`, `np.add.reduce(X, 0)`, `np.add.reduce(X)`):
  NumPy adds the rows of a C-ordered array one after another (no pairwise summation),
  a running sum over the rows (1.3e-6 at 1e4 rows, 1.4e-2 at 1e7);
- `np.add.at(h, idx, w)`: an unbuffered scatter-add, one addition after another into
  `h` like `h[idx[i]] += w[i]` (a float32 count sticks at 2**24: 16% low at 8e7);
- running sums into a whole array (`acc += X[k]`, `acc = acc + X[k]`,
  `np.add(acc, e, out=acc)`, Euler steps `pos = pos + v * dt`, `u = u + dt * lap`,
  `new = u + e; u = new`, `x[:] = x + e`, `np.copyto(x, x + e)`), into elements of a
  list, a dict or an attribute (`acc[i % 2] += x[i]` of `acc = [0.0] * 2`, `d[k] =
  d.get(k, 0.0) + x[i]`, `a.s += x[i]`: a Python float plus a float32 term is float32)
  and scalar sums whose start is not a literal (`s = s0`, a
  parameter `s`, the corpus' Metropolis chain `x = x0; x_new = x + steps[i]; x =
  x_new`): only scalar sums started at a number were recognised (Euler: 9e-6 after 1e3
  steps, 9e-3 after 1e6; the Metropolis chain 5e-7 at 1.2e4 steps, 24% at 1.5e6 once a
  float32 rounding flips an accept/reject decision);
- running products (`bal = bal * g`, `u *= 0.9999999`, `p *= x[i]`): the relative
  error of a product is the sum of one rounding a step, a constant factor rounded once
  compounds (float32 0.9999999 is 2e-8 off: 4e-5 after 1e3 steps, 2% after 1e6);
- prefix sums whose index is a local moved by a constant (`k = i + 1; y[k] = y[i] +
  x[i]`, `j = i - 1; y[i] = y[j] + x[i]`): the recurrence was only seen with the offset
  written in the subscript;
- float grids (`np.linspace`, float `np.arange`, `k * dt` with a `np.float64` step, an
  array filled in a loop `t[i] = i * h`) whose neighbours are subtracted (`np.diff(t)`,
  `np.gradient(y, t)`, `np.interp(tq, t, y)`, `t[1:] - t[:-1]`: the spacing loses
  n * 6e-8 of itself, 5e-4 at 1e4 points, 40% at 1e7) or whose values
  of unbounded extent go into `sin`/`cos`/`tan` (the phase error grows with the
  extent: 3e-5 at 1e4 points, 3e-2 at 1e7), or that are compared for equality (`ids ==
  k` of `ids = np.arange(0.0, n)`: above 2**24 one id matched 3 elements);
- loop exits comparing with a tolerance below float32's resolution (`while err >
  1e-12`, `while hi - lo > 1e-9`, `if abs(g2 - g) < tol: break` with `tol=1e-11`,
  `4 * np.finfo(np.float64).eps * g`): a float32 bisection and fixed-point iteration
  never ended, on any input (a validator times out; production hangs);
- a guard against cancellation below float32's resolution (`d = x[i] - y[i]; if abs(d)
  < 1e-12: ... else: 1.0 / d`): 5e-6 off on 1e3 pairs, 12% on 1e6 (closer pairs);
- `x.round()` (the method; `np.round(x)` was already recognised): float32 moves a value
  across a .5 boundary, a whole grey level, more often the more elements there are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.dtype_reduction import DtypeReductionPass

from .helpers import load, rewrite

HEADER = "import math\n\nimport numpy as np\n\n\n"


def _fixable(code: str) -> list[str]:
    module = SourceModule.parse(HEADER + code, "m.py")
    return [o.code for o in DtypeReductionPass().find(module) if o.fixable]


def _ones_then_tiny(n: int) -> np.ndarray:
    """1.0 then terms of 1e-8: a float32 total never moves from 1.0."""
    return np.concatenate(([1.0], np.full(n - 1, 1e-8)))


def _error(code: str, want_code: str, *args: Any) -> float:
    want = np.asarray(load(want_code)["f"](*args), dtype=np.float64)
    got = np.asarray(load(code)["f"](*args), dtype=np.float64)
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


# -- holes: (kernel, arguments) — no float32 rewrite may change the result ----------------------

TALL = np.column_stack([_ones_then_tiny(20_000), _ones_then_tiny(20_000)])
ROWS = np.column_stack([_ones_then_tiny(5_000), _ones_then_tiny(5_000)])

HOLES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "np.cumulative_sum": (
        "def f(x):\n    return np.cumulative_sum(np.abs(x))\n",
        (_ones_then_tiny(20_000),),
    ),
    "np.nancumsum": (
        "def f(x):\n    return np.nancumsum(np.abs(x))\n",
        (_ones_then_tiny(20_000),),
    ),
    "np.subtract.accumulate": (
        "def f(x):\n    return np.subtract.accumulate(np.abs(x))\n",
        (_ones_then_tiny(20_000),),
    ),
    "np.logaddexp.accumulate": (
        "def f(x):\n    return np.logaddexp.accumulate(np.log(x))\n",
        (_ones_then_tiny(20_000),),
    ),
    "np.cumprod": (
        "def f(x):\n    return np.cumprod(1.0 + np.abs(x) * 1e-4)\n",
        (np.full(20_000, 1e-4),),
    ),
    "y.cumsum() without arguments": (
        "def f(x):\n    y = np.abs(x)\n    return y.cumsum()\n",
        (_ones_then_tiny(20_000),),
    ),
    "x.cumprod()": (
        "def f(x):\n    y = 1.0 + np.abs(x) * 1e-4\n    return y.cumprod()\n",
        (np.full(20_000, 1e-4),),
    ),
    "np.multiply.accumulate": (
        "def f(x):\n    return np.multiply.accumulate(1.0 + np.abs(x) * 1e-4)\n",
        (np.full(20_000, 1e-4),),
    ),
    "np.cumulative_prod": (
        "def f(x):\n    return np.cumulative_prod(1.0 + np.abs(x) * 1e-4)\n",
        (np.full(20_000, 1e-4),),
    ),
    "X.sum(axis=0)": ("def f(X):\n    return np.abs(X).sum(axis=0)\n", (TALL,)),
    "np.sum(X, axis=0)": ("def f(X):\n    return np.sum(np.abs(X), axis=0)\n", (TALL,)),
    "np.mean(X, 0)": ("def f(X):\n    return np.mean(np.abs(X), 0)\n", (TALL,)),
    "X.mean(0)": ("def f(X):\n    return np.abs(X).mean(0)\n", (TALL,)),
    "np.add.reduce(X, axis=0)": (
        "def f(X):\n    return np.add.reduce(np.abs(X), axis=0)\n",
        (TALL,),
    ),
    "np.mean(X, axis=-2)": ("def f(X):\n    return np.mean(np.abs(X), axis=-2)\n", (TALL,)),
    "X.T.sum(axis=1)": ("def f(X):\n    return np.abs(X).T.sum(axis=1)\n", (TALL,)),
    "Y = X.T; Y.sum(1)": (
        "def f(X):\n    Y = np.abs(X).T\n    return Y.sum(1)\n",
        (TALL,),
    ),
    "np.add.reduce(X) (axis 0 by default)": (
        "def f(X):\n    return np.add.reduce(np.abs(X))\n",
        (TALL,),
    ),
    "np.add.at(h, idx, w)": (
        "def f(idx, w):\n    h = np.zeros(2)\n    np.add.at(h, idx, np.abs(w))\n    return h\n",
        (np.zeros(20_000, dtype=np.int64), _ones_then_tiny(20_000)),
    ),
    "acc += X[k]": (
        "def f(X):\n    acc = np.zeros(X.shape[1])\n    for k in range(X.shape[0]):\n"
        "        acc += X[k]\n    return acc\n",
        (ROWS,),
    ),
    "acc = acc + X[k]": (
        "def f(X):\n    acc = np.zeros(X.shape[1])\n    for k in range(X.shape[0]):\n"
        "        acc = acc + X[k]\n    return acc\n",
        (ROWS,),
    ),
    "acc = X[0].copy(); acc += X[k]": (
        "def f(X):\n    acc = X[0].copy()\n    for k in range(1, X.shape[0]):\n"
        "        acc += X[k]\n    return acc\n",
        (ROWS,),
    ),
    "np.add(acc, X[k], out=acc)": (
        "def f(X):\n    acc = np.zeros(X.shape[1])\n    for k in range(X.shape[0]):\n"
        "        np.add(acc, X[k], out=acc)\n    return acc\n",
        (ROWS,),
    ),
    "new = u + X[k]; u = new": (
        "def f(X):\n    u = np.zeros(X.shape[1])\n    for k in range(X.shape[0]):\n"
        "        new = u + X[k]\n        u = new\n    return u\n",
        (ROWS,),
    ),
    "Euler pos = pos + v * dt": (
        "def f(v, n):\n    pos = np.ones(2)\n    for k in range(n):\n"
        "        pos = pos + np.abs(v) * 1e-4\n    return pos\n",
        (np.array([1e-4, 2e-4]), 5_000),
    ),
    "x[:] = x + v * dt": (
        "def f(v, n):\n    x = np.ones(2)\n    for k in range(n):\n"
        "        x[:] = x + np.abs(v) * 1e-4\n    return x\n",
        (np.array([1e-4, 2e-4]), 5_000),
    ),
    "np.copyto(x, x + v * dt)": (
        "def f(v, n):\n    x = np.ones(2)\n    for k in range(n):\n"
        "        np.copyto(x, x + np.abs(v) * 1e-4)\n    return x\n",
        (np.array([1e-4, 2e-4]), 5_000),
    ),
    "list accumulator acc[i % 2] += x[i]": (
        "def f(x):\n    acc = [0.0] * 2\n    for i in range(len(x)):\n"
        "        acc[i % 2] += x[i]\n    return np.array(acc)\n",
        (np.concatenate(([1.0, 1.0], np.full(10_000, 1e-8))),),
    ),
    "dict accumulator d[k] = d.get(k, 0.0) + x[i]": (
        "def f(x):\n    d = {}\n    for i in range(len(x)):\n        k = i % 2\n"
        "        d[k] = d.get(k, 0.0) + x[i]\n    return np.array([d[0], d[1]])\n",
        (np.concatenate(([1.0, 1.0], np.full(10_000, 1e-8))),),
    ),
    "attribute accumulator a.s += x[i]": (
        "class Acc:\n    s = 0.0\n\n\ndef f(x):\n    a = Acc()\n"
        "    for i in range(len(x)):\n        a.s += x[i]\n    return a.s\n",
        (_ones_then_tiny(5_000),),
    ),
    "s = s0; s += x[i]": (
        "def f(x, s0):\n    s = s0\n    for i in range(len(x)):\n        s += x[i]\n    return s\n",
        (_ones_then_tiny(5_000), 0.0),
    ),
    "parameter s += x[i]": (
        "def f(x, s):\n    for i in range(len(x)):\n        s += x[i]\n    return s\n",
        (_ones_then_tiny(5_000), 0.0),
    ),
    "random walk x = x0; x_new = x + steps[i]; x = x_new": (
        "def f(steps, x0):\n    out = np.empty(len(steps))\n    x = x0\n"
        "    for i in range(len(steps)):\n        x_new = x + steps[i]\n"
        "        if x_new > -1.0:\n            x = x_new\n        out[i] = x * 2.0\n"
        "    return out\n",
        (_ones_then_tiny(5_000), 0.0),
    ),
    "running product bal = bal * g": (
        "def f(n):\n    g = np.float64(1.00000123)\n    bal = np.float64(1.0)\n"
        "    out = np.zeros(n)\n    for k in range(n):\n        bal = bal * g\n"
        "        out[k] = bal\n    return out\n",
        (20_000,),
    ),
    "running product u *= 0.9999999 (whole array)": (
        "def f(x, n):\n    u = np.abs(x)\n    for k in range(n):\n        u *= 0.9999999\n"
        "    return u\n",
        (np.array([1.0, 2.0]), 20_000),
    ),
    "running product p *= x[i]": (
        "def f(x):\n    p = 1.0\n    for i in range(len(x)):\n        p *= x[i]\n    return p\n",
        (np.full(20_000, 1.0 + 2**-30),),
    ),
    "k = i + 1; y[k] = y[i] + x[i]": (
        "def f(x):\n    y = np.zeros(len(x) + 1)\n    for i in range(len(x)):\n"
        "        k = i + 1\n        y[k] = y[i] + x[i]\n    return y\n",
        (_ones_then_tiny(5_000),),
    ),
    "j = i - 1; y[i] = y[j] + x[i]": (
        "def f(x):\n    y = np.zeros(len(x))\n    for i in range(1, len(x)):\n"
        "        j = i - 1\n        y[i] = y[j] + x[i]\n    return y\n",
        (_ones_then_tiny(5_000),),
    ),
    "np.diff(np.linspace(...))": (
        "def f(n):\n    t = np.linspace(0.0, 1.0, n)\n    return np.diff(t)\n",
        (20_000,),
    ),
    "t[1:] - t[:-1] of np.linspace": (
        "def f(x):\n    t = np.linspace(0.0, 1.0, len(x))\n    return (t[1:] - t[:-1]) * x[1:]\n",
        (np.ones(20_000),),
    ),
    "t[i + 1] - t[i] of np.linspace": (
        "def f(x):\n    t = np.linspace(0.0, 1.0, len(x))\n    out = np.zeros(len(x) - 1)\n"
        "    for i in range(len(x) - 1):\n        out[i] = (t[i + 1] - t[i]) * x[i]\n"
        "    return out\n",
        (np.ones(5_000),),
    ),
    "np.diff of t[i] = i * h filled in a loop": (
        "def f(x):\n    t = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        t[i] = i * 0.001\n    return np.diff(t) * x[1:]\n",
        (np.ones(20_000),),
    ),
    "np.gradient(y, t) of np.linspace": (
        "def f(x):\n    t = np.linspace(0.0, 1.0, len(x))\n    return np.gradient(x * t, t)\n",
        (np.ones(20_000),),
    ),
    "np.interp(tq, t, y) of np.linspace": (
        "def f(x):\n    t = np.linspace(0.0, 1.0, len(x))\n"
        "    return np.interp(t[:-1] + 0.3 / len(x), t, x)\n",
        (np.tile([0.0, 1.0], 10_000),),
    ),
    "sin of np.arange(0.0, n * h, h)": (
        "def f(n):\n    h = 0.01\n    t = np.arange(0.0, n * h, h)\n    return np.sin(3.0 * t)\n",
        (100_000,),
    ),
    "sin of np.linspace(0.0, n * 0.01, n)": (
        "def f(n):\n    t = np.linspace(0.0, n * 0.01, n)\n    return np.cos(30.0 * t)\n",
        (100_000,),
    ),
    "sin of k * dt, dt = np.float64(...)": (
        "def f(n):\n    dt = np.float64(0.001)\n    out = np.zeros(n)\n    for k in range(n):\n"
        "        t = k * dt\n        out[k] = math.sin(50.0 * t)\n    return out\n",
        (20_000,),
    ),
    "guard if abs(d) < 1e-12 of d = x[i] - y[i]": (
        "def f(x, y):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        d = x[i] - y[i]\n        if abs(d) < 1e-12:\n            out[i] = 0.0\n"
        "        else:\n            out[i] = 1.0 / d\n    return out\n",
        (np.array([1.0, 2.0]), np.array([1.0 + 3e-9, 2.0 - 1e-8])),
    ),
    "x.round()": (
        "def f(x):\n    return np.multiply(x, 255.0).round()\n",
        (np.array([0.5 / 255.0 + 1e-12, 2.5 / 255.0 + 1e-11]),),
    ),
}


@pytest.mark.parametrize("name", list(HOLES), ids=list(HOLES))
def test_the_rewrite_keeps_float64_where_the_error_would_grow(name: str) -> None:
    code, args = HOLES[name]
    code = HEADER + code
    module = SourceModule.parse(code, "m.py")
    pass_ = DtypeReductionPass()
    for opp in [o for o in pass_.find(module) if o.fixable]:
        new = pass_.apply(module, [opp]).code
        # float32 storage of a float64 result is 6e-8 off; the holes were 1e-4 off
        assert _error(new, code, *args) < 1e-6, new


@pytest.mark.parametrize(
    "name",
    ["np.cumulative_sum", "X.sum(axis=0)", "acc += X[k]", "np.diff(np.linspace(...))"],
)
def test_the_float32_error_grows_with_the_length(name: str) -> None:
    """Why: the same kernels computed in float32 by hand, short and long."""
    short = {
        "np.cumulative_sum": lambda n: np.cumulative_sum(_ones_then_tiny(n).astype(np.float32)),
        "X.sum(axis=0)": lambda n: (
            np.column_stack([_ones_then_tiny(n)] * 2).astype(np.float32).sum(axis=0)
        ),
        "acc += X[k]": lambda n: (
            np.column_stack([_ones_then_tiny(n)] * 2).astype(np.float32).sum(axis=0)
        ),
        "np.diff(np.linspace(...))": lambda n: np.diff(np.linspace(0.0, 1.0, n, dtype=np.float32)),
    }[name]
    exact = {
        "np.cumulative_sum": lambda n: np.cumsum(_ones_then_tiny(n)),
        "X.sum(axis=0)": lambda n: np.full(2, 1.0 + (n - 1) * 1e-8),
        "acc += X[k]": lambda n: np.full(2, 1.0 + (n - 1) * 1e-8),
        "np.diff(np.linspace(...))": lambda n: np.diff(np.linspace(0.0, 1.0, n)),
    }[name]

    def err(n: int) -> float:
        want = exact(n)
        return float(np.max(np.abs(short(n) - want)) / np.max(np.abs(want)))

    assert err(20) < 1e-6
    assert err(200_000) > 1e-4


#: loops whose exit float32 may never reach (each hung on every input once narrowed):
#: the compared values must not be computed from float32 inputs
CONVERGENCE = {
    "bisection while hi - lo > 1e-9": (
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        lo = 0.0\n        hi = x[i] * 10.0 + 1.0\n        while hi - lo > 1e-9:\n"
        "            mid = 0.5 * (lo + hi)\n            if mid * mid > x[i] * 10.0 + 1.0:\n"
        "                hi = mid\n            else:\n                lo = mid\n"
        "        out[i] = lo\n    return out\n"
    ),
    "fixed point while err > 1e-12": (
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        g = x[i]\n        err = 1.0\n        while err > 1e-12:\n"
        "            g2 = np.cos(g) * 0.5 + x[i]\n            err = abs(g2 - g)\n"
        "            g = g2\n        out[i] = g\n    return out\n"
    ),
    "while True: if abs(g2 - g) < tol: break, tol=1e-11": (
        "def f(x, tol=1e-11):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        g = x[i]\n        while True:\n            g2 = np.cos(g) * 0.5 + x[i]\n"
        "            if abs(g2 - g) < tol:\n                break\n            g = g2\n"
        "        out[i] = g\n    return out\n"
    ),
    "np.finfo(np.float64).eps": (
        "def f(x):\n    eps = np.finfo(np.float64).eps\n    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n        g = x[i] + 1.0\n        it = 0\n"
        "        while it < 100:\n            g2 = 0.5 * (g + (x[i] + 1.0) / g)\n"
        "            it += 1\n            if abs(g2 - g) <= 4 * eps * g2:\n                break\n"
        "            g = g2\n        out[i] = it\n    return out\n"
    ),
}


@pytest.mark.parametrize("name", list(CONVERGENCE), ids=list(CONVERGENCE))
def test_convergence_tests_below_float32_resolution_keep_float64(name: str) -> None:
    new, _ = rewrite(DtypeReductionPass(), HEADER + CONVERGENCE[name])
    assert "x = np.asarray(x, dtype=np.float32)" not in new, new


def test_a_tolerance_float32_resolves_still_narrows() -> None:
    code = CONVERGENCE["fixed point while err > 1e-12"].replace("1e-12", "1e-4")
    new, _ = rewrite(DtypeReductionPass(), HEADER + code)
    assert "x = np.asarray(x, dtype=np.float32)" in new, new


def test_integer_ids_in_a_float_grid_compared_for_equality_stay_float64() -> None:
    """`ids = np.arange(0.0, n)`, `ids == k`: above 2**24 float32 holds only even
    integers, and `k` matched 3 elements of 2e7 instead of 1 (none wrong below 2**24)."""
    code = (
        "def f(x):\n    ids = np.arange(0.0, len(x))\n"
        "    return np.where(ids == len(x) - 4.0, x, 0.0)\n"
    )
    new, _ = rewrite(DtypeReductionPass(), HEADER + code)
    assert "ids = np.arange(0.0, len(x))\n" in new, new
    big = np.arange(0.0, 20_000_001, dtype=np.float32)
    assert np.count_nonzero(big == np.float32(20_000_001 - 4.0)) > 1


def test_add_at_counts_stay_float64() -> None:
    """`np.add.at(h, idx, 1.0)`: a float32 count sticks at 2**24 (8e7 counts into 4 bins
    were 16% low), while 1e4 counts are exact."""
    new, _ = rewrite(
        DtypeReductionPass(),
        HEADER + "def f(idx, w):\n    h = np.zeros(4)\n    np.add.at(h, idx, 1.0)\n"
        "    return h * w[0]\n",
    )
    assert "h = np.zeros(4)\n" in new, new


# -- what still narrows ----------------------------------------------------------------------

NARROWING = {
    "elementwise": (
        "def f(x):\n    y = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        y[i] = 2.0 * x[i] + 1.0\n    return y\n"
    ),
    "stencil": (
        "def f(u):\n    v = np.zeros(len(u))\n    for i in range(1, len(u) - 1):\n"
        "        v[i] = u[i - 1] - 2.0 * u[i] + u[i + 1]\n    return v\n"
    ),
    "whole-array stencil": (
        "def f(u):\n    v = np.zeros(len(u))\n    v[1:-1] = u[:-2] - 2.0 * u[1:-1] + u[2:]\n"
        "    return np.sqrt(np.abs(v))\n"
    ),
    "matvec, sum restarted per row": (
        "def f(A, x):\n    n, m = A.shape\n    y = np.zeros(n)\n    for i in range(n):\n"
        "        for j in range(m):\n            y[i] += A[i, j] * x[j]\n    return y\n"
    ),
    "array accumulator restarted per row": (
        "def f(A):\n    out = np.zeros((A.shape[0], 3))\n    for i in range(A.shape[0]):\n"
        "        acc = np.zeros(3)\n        for j in range(A.shape[1]):\n"
        "            acc += A[i, j] * 0.5\n        out[i] = acc\n    return out\n"
    ),
    "sum along the last axis": "def f(X):\n    return np.sqrt(X).sum(axis=-1)\n",
    "sum along axis 1": "def f(X):\n    return np.sum(np.sqrt(X), axis=1) + np.sqrt(X).mean(1)\n",
    "np.add.reduce(X, axis=None)": "def f(X):\n    return np.add.reduce(np.sqrt(X), axis=None)\n",
    "whole sum and mean": "def f(x):\n    return np.sqrt(x).sum() + np.mean(np.sqrt(x))\n",
    "linspace of fixed extent in exp and sin": (
        "def f(x):\n    t = np.linspace(0.0, 1.0, len(x))\n"
        "    return np.exp(-t) * x + np.sin(np.pi * t)\n"
    ),
    "sin of np.linspace(0.0, 2 * np.pi, n)": (
        "def f(x):\n    t = np.linspace(0.0, 2 * np.pi, len(x))\n    return np.sin(t) * x\n"
    ),
    "guard on data np.abs(x) < 1e-12": (
        "def f(x):\n    return np.where(np.abs(x) < 1e-12, 0.0, 1.0 / np.sqrt(x))\n"
    ),
    "sin of data": "def f(x):\n    return np.sin(x) * np.cos(2.0 * x)\n",
    "diff of data": "def f(x):\n    return np.diff(np.sqrt(x))\n",
    "sqrt then scale": ("def f(x):\n    y = np.sqrt(x)\n    return y * 2.0\n"),
}


@pytest.mark.parametrize("name", list(NARROWING), ids=list(NARROWING))
def test_bounded_error_kernels_still_narrow(name: str) -> None:
    assert _fixable(NARROWING[name]), NARROWING[name]
