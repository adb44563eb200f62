"""Hunt 7: traps for the rules added or loosened on the day of the real-world fixes
(/work/scratch/hunt7/README.md). Each test fails without its fix.

- flow-sensitive aliasing (`ArrayFacts.relation_at`): an array allocated just before a
  loop was taken as unreachable by any other name, but a closure, a generator
  expression or a frame read (`locals()`, `vars()`, `eval`) hands it on without
  naming it;
- `_proven_number` (static builtin min/max, constant-term scans): `x.size`/`x.ndim`/
  `x.shape[k]` of an object that is not a proven ndarray (a PIL image's `.size` is a
  tuple) and `math.frexp`/`math.modf`/`math.prod` are not numbers;
- dtype-reduction running sums: `s = s + a + b`, `s = np.add(s, e)`, per-bin sums
  `acc[j] += ...` over an outer loop, builtin `sum(y)` and `np.cumsum(y)` keep float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.dtype_reduction import DtypeReductionPass
from greenopt.passes.vectorize import VectorizePass

from .helpers import load, outcome, static_rewrite

HEADER = "import math\nimport numpy as np\n\n\n"


def _static(code: str) -> str:
    return static_rewrite(HEADER + code, "vectorize")


# -- 1. flow-sensitive aliasing: the new array reached without its name ----------------------

FRAME_READS = {
    "locals()": 'x = np.asarray(locals()["y"], dtype=np.float64)',
    "vars()": 'x = np.asarray(vars()["y"], dtype=np.float64)',
    "eval": 'x = np.asarray(eval("y"), dtype=np.float64)',
}


@pytest.mark.parametrize("line", list(FRAME_READS.values()), ids=list(FRAME_READS))
def test_a_frame_read_makes_the_new_array_reachable(line: str) -> None:
    code = (
        "def f(x):\n    n = len(x)\n    y = np.zeros(n)\n"
        f"    {line}\n"
        "    for i in range(1, n):\n        y[i] = x[i - 1] + 1.0\n    return y\n"
    )
    assert _static(code) == HEADER + code
    x = np.random.default_rng(1).random(8)
    loop = load(HEADER + code)["f"](x)
    assert np.array_equal(loop, np.arange(8.0))  # x is y: each step reads the last one
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert not any(o.fixable for o in found), [o.message for o in found]


CLOSURES = {
    "lambda": "    get = lambda: y\n",
    "def": "    def get():\n        return y\n",
    "generator expression": "    ys = (y for _ in range(1))\n    get = lambda: next(ys)\n",
}


@pytest.mark.parametrize("getter", list(CLOSURES.values()), ids=list(CLOSURES))
def test_a_closure_hands_on_the_new_array_in_a_time_step(getter: str) -> None:
    """Validated only, but the candidate differs on every input: refused."""
    code = (
        "def f(x):\n    x = np.asarray(x, dtype=np.float64)\n    n = len(x)\n"
        f"{getter}"
        "    for t in range(2):\n        y = x.copy()\n        x = get()\n"
        "        for i in range(1, n):\n            y[i] = x[i - 1] + 1.0\n    return y\n"
    )
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert not any(o.fixable for o in found), [o.message for o in found]


def test_the_plain_time_step_is_still_vectorised() -> None:
    code = (
        "def f(u, r, nt):\n    for _ in range(nt):\n        u_new = u.copy()\n"
        "        for i in range(1, len(u) - 1):\n"
        "            u_new[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1])\n"
        "        u = u_new\n    return u\n"
    )
    found = VectorizePass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert any(o.code == "GO104" and o.fixable for o in found), [o.message for o in found]


# -- 2. numbers that are not: tuples and arrays from .size, math.frexp, math.prod -----------

GRID = """def f(x0, dx, n):
    dx = {conv}
    x = np.zeros(n)
    x[0] = x0
    for i in range(n - 1):
        x[i + 1] = x[i] + dx
    return x
"""


class _Image:
    """A PIL-like image: `.size` is (width, height), `.ndim` an array."""

    size = (1.0, 2.0)
    ndim = np.array([0.5, 0.25])


NOT_NUMBERS = {
    "obj.size (a tuple)": ("dx.size", _Image()),
    "obj.ndim (an array)": ("dx.ndim", _Image()),
    "math.frexp (a pair)": ("math.frexp(dx)", 0.5),
    "math.modf (a pair)": ("math.modf(dx)", 0.5),
    "math.prod of arrays": ("math.prod(dx)", [np.array([0.5, 0.25])]),
}


@pytest.mark.parametrize("conv,dx", list(NOT_NUMBERS.values()), ids=list(NOT_NUMBERS))
def test_a_scan_term_that_may_be_a_pair_is_not_static(conv: str, dx: Any) -> None:
    code = GRID.format(conv=conv)
    assert _static(code) == HEADER + code
    # what the static rewrite did: the loop raises, np.full broadcasts the pair
    forced = HEADER + code.replace(
        "    for i in range(n - 1):\n        x[i + 1] = x[i] + dx\n",
        "    x[1:n] = np.cumsum(np.concatenate((x[0:1], np.full(n - 1, dx))))[1:]\n",
    )
    assert outcome(HEADER + code, 0.1, dx, 3)[0] == "raises"
    assert outcome(forced, 0.1, dx, 3)[0] == "returns"


def test_sizes_of_proven_arrays_and_floats_stay_static() -> None:
    for conv in ("float(dx)", "int(dx)", "len(dx)", "math.floor(dx)"):
        new_code = _static(GRID.format(conv=conv))
        assert "np.cumsum" in new_code, conv
    code = GRID.replace("    dx = {conv}\n", "    a = np.zeros(4)\n    dx = 1.0 / a.size\n")
    assert "np.cumsum" in _static(code)
    code = GRID.replace(
        "    dx = {conv}\n", "    y = np.asarray(y, dtype=np.float64)\n    dx = 1.0 / y.shape[0]\n"
    ).replace("def f(x0, dx, n)", "def f(x0, y, n)")
    assert "np.cumsum" in _static(code)


def test_minmax_bound_from_an_object_size_is_not_static() -> None:
    code = (
        "def f(x, img):\n    x = np.asarray(x, dtype=np.float64)\n    n = len(x)\n"
        "    hi = img.size\n    out = np.zeros(n)\n    for i in range(n):\n"
        "        out[i] = min(x[i], hi)\n    return out\n"
    )
    assert _static(code) == HEADER + code


# -- 3. dtype-reduction: running sums it missed ----------------------------------------------

SUMS = {
    "s = s + a + b": (
        "def f(x, w):\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s = s + x[i] + w[i] * 0.0\n    return s\n"
    ),
    "np.add(s, e)": (
        "def f(x, w):\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s = np.add(s, x[i])\n    return s\n"
    ),
    "per-bin acc[j] over an outer loop": (
        "def f(x, w):\n    acc = np.zeros(3)\n    for i in range(len(x)):\n"
        "        for j in range(3):\n            acc[j] += x[i] * w[i]\n    return acc\n"
    ),
    "time steps acc[i] over an outer loop": (
        "def f(x, w):\n    acc = np.zeros(len(x))\n    for k in range(1000):\n"
        "        for i in range(len(x)):\n            acc[i] += x[i] * 1e-8\n    return acc\n"
    ),
    "builtin sum": (
        "def f(x, w):\n    y = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        y[i] = x[i] * w[i]\n    return sum(y)\n"
    ),
    "np.cumsum": (
        "def f(x, w):\n    y = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        y[i] = x[i] * w[i]\n    return np.cumsum(y)[-1]\n"
    ),
}


@pytest.mark.parametrize("code", list(SUMS.values()), ids=list(SUMS))
def test_running_sums_stay_float64(code: str) -> None:
    """1.0 followed by 2000 terms of 1e-8: a float32 total never moves from 1.0."""
    x = np.concatenate(([1.0], np.full(2000, 1e-8)))
    w = np.ones_like(x)
    module = SourceModule.parse(HEADER + code, "m.py")
    pass_ = DtypeReductionPass()
    want = np.asarray(load(HEADER + code)["f"](x.copy(), w.copy()), dtype=np.float64)
    for opp in [o for o in pass_.find(module) if o.fixable]:
        new = pass_.apply(module, [opp]).code
        got = np.asarray(load(new)["f"](x.copy(), w.copy()), dtype=np.float64)
        err = np.max(np.abs(got - want) / np.abs(want))
        assert err < 1e-6, (err, new)


def test_row_sums_restarted_per_outer_iteration_still_narrow() -> None:
    code = (
        "def f(A, x):\n    n = A.shape[0]\n    y = np.zeros(n)\n    for i in range(n):\n"
        "        for j in range(A.shape[1]):\n            y[i] += A[i, j] * x[j]\n    return y\n"
    )
    found = DtypeReductionPass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert any(o.fixable for o in found)


def test_element_sums_restarted_inside_the_outer_loop_still_narrow() -> None:
    """`v = a[:, j].copy()` inside the outer loop restarts `v[i] -= ...` (Gram-Schmidt):
    a sum over one column's projections, left to the validator."""
    code = (
        "def f(a, q):\n    m, k = a.shape\n    out = np.zeros(k)\n    for j in range(k):\n"
        "        v = a[:, j].copy()\n        for p in range(j):\n            for i in range(m):\n"
        "                v[i] -= 0.5 * q[i, p]\n        out[j] = v[0]\n    return out\n"
    )
    found = DtypeReductionPass().find(SourceModule.parse(HEADER + code, "m.py"))
    assert any(o.fixable for o in found), [o.message for o in found]
