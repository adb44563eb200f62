"""dtype-reduction: what is converted, dtypes seen by callers, precision, and static safety."""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.dtype_reduction import DtypeReductionPass

from .helpers import load, rewrite

HEADER = "import numpy as np\n\n\n"

KERNEL = (
    "def blur(u, w):\n"
    "    n = len(u)\n"
    "    out = np.zeros(n)\n"
    "    k = np.array([0.25, 0.5, 0.25])\n"
    "    for i in range(1, n - 1):\n"
    "        out[i] = w * (k[0] * u[i - 1] + k[1] * u[i] + k[2] * u[i + 1])\n"
    "    return out, out.sum()\n"
)


def test_reduced_function_keeps_output_dtypes_and_is_close() -> None:
    new_code, found = rewrite(DtypeReductionPass(), HEADER + KERNEL)
    (opp,) = found
    assert opp.code == "GO302" and not opp.static_safe and opp.fixable
    assert "u = np.asarray(u, dtype=np.float32)" in new_code
    assert "out = np.zeros(n, dtype=np.float32)" in new_code
    assert "k = np.array([0.25, 0.5, 0.25], dtype=np.float32)" in new_code
    assert "return out.astype(np.float64), np.float64(out.sum())" in new_code
    before, after = load(HEADER + KERNEL)["blur"], load(new_code)["blur"]
    u = np.random.default_rng(1).random(5000)
    (a, sa), (b, sb) = before(u, 0.7), after(u, 0.7)
    assert a.dtype == b.dtype == np.float64 and a.shape == b.shape
    assert type(sa) is type(sb)
    assert np.allclose(b, a, rtol=1e-5, atol=1e-6) and np.isclose(sb, sa, rtol=1e-5)
    # float32 inside: not equal at the float64-tight default tolerance (rtol 1e-9)
    assert not np.allclose(b, a, rtol=1e-9, atol=0.0)


def test_propagate_keeps_float32_results() -> None:
    new_code, _ = rewrite(DtypeReductionPass(propagate=True), HEADER + KERNEL)
    assert "astype(np.float64)" not in new_code and "np.float64(" not in new_code
    result, _ = load(new_code)["blur"](np.random.default_rng(2).random(100), 0.5)
    assert result.dtype == np.float32


def test_numpy2_float64_scalars_are_converted_python_floats_kept() -> None:
    code = (
        "def f(x):\n"
        "    c = np.float64(0.5)\n"
        "    y = np.empty_like(x)\n"
        "    for i in range(len(x)):\n"
        "        y[i] = c * x[i] + 1.5\n"
        "    return y\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(propagate=True), HEADER + code)
    assert "c = np.float32(0.5)" in new_code and "+ 1.5" in new_code
    assert load(new_code)["f"](np.ones(4)).dtype == np.float32  # nothing widened it back


@pytest.mark.parametrize(
    "call,expected",
    [
        ("np.ones((3, 4))", "np.ones((3, 4), dtype=np.float32)"),
        ("np.empty(5, np.float64)", "np.empty(5, np.float32)"),
        ("np.zeros(5, dtype=float)", "np.zeros(5, dtype=np.float32)"),
        ("np.full(4, 2.5)", "np.full(4, 2.5, dtype=np.float32)"),
        ("np.arange(0.0, 1.0, 0.25)", "np.arange(0.0, 1.0, 0.25, dtype=np.float32)"),
        ("np.linspace(0, 1, 9)", "np.linspace(0, 1, 9, dtype=np.float32)"),
        ("np.eye(3)", "np.eye(3, dtype=np.float32)"),
        ("np.random.rand(6)", "np.random.rand(6).astype(np.float32)"),
        ("np.random.standard_normal(6)", "np.random.standard_normal(6).astype(np.float32)"),
        ("np.zeros_like(q, dtype=np.float64)", "np.zeros_like(q, dtype=np.float32)"),
        ("q.astype('float64')", "q.astype(np.float32)"),
    ],
)
def test_allocation_forms(call: str, expected: str) -> None:
    code = f"def f(q):\n    r = {call}\n    return len(r)\n"
    new_code, found = rewrite(DtypeReductionPass(), HEADER + code)
    assert found and f"r = {expected}" in new_code


@pytest.mark.parametrize(
    "call",
    [
        "np.zeros(5, dtype=np.int64)",
        "np.full(4, 2)",
        "np.arange(10)",
        "np.zeros_like(q)",
        "np.array([1, 2, 3])",
        "q.astype(np.int32)",
        "np.zeros(5, dtype=np.float32)",
    ],
)
def test_non_float64_allocations_untouched(call: str) -> None:
    code = f"def f(q):\n    r = {call}\n    return len(r)\n"
    new_code, found = rewrite(DtypeReductionPass(), HEADER + code)
    assert found == [] and new_code == HEADER + code


def test_parameters_that_are_written_or_indices_are_not_converted() -> None:
    code = (
        "def f(out, idx, x, n):\n"
        "    for i in range(n):\n"
        "        out[idx[i]] = x[i] * 2.0\n"
        "    return out\n"
    )
    new_code, found = rewrite(DtypeReductionPass(), HEADER + code)
    (opp,) = found
    assert "inputs `x`" in opp.message
    assert "x = np.asarray(x, dtype=np.float32)" in new_code
    assert "out = np.asarray" not in new_code and "idx = np.asarray" not in new_code
    assert "n = np.asarray" not in new_code


#: writes to `x` through other routes than `x[i] = ...`: each function reads `x[i]`
#: (evidence of a float array), then runs one of these lines
WRITES_THROUGH = {
    "alias": "y = x\n    y[0] = s",
    "alias chain": "y = x\n    z = y\n    z[0] = 1.0",
    "slice view": "v = x[1:]\n    v[0] = 7.0",
    "ellipsis view": "v = x[...]\n    v[0] = 7.0",
    ".T view": "v = x.T\n    v[0] = 7.0",
    ".reshape view": "v = x.reshape(-1)\n    v[0] = 7.0",
    ".ravel view": "v = x.ravel()\n    v[0] = 7.0",
    ".view view": "v = x.view()\n    v[0] = 7.0",
    "np.asarray view": "v = np.asarray(x)\n    v[0] = 7.0",
    "np.reshape view": "v = np.reshape(x, (-1,))\n    v[0] = 7.0",
    "view aug-assigned": "v = x[1:]\n    v += 1.0",
    "view written by a method": "v = x[1:]\n    v.fill(0.0)",
    "row of a loop": "for row in x:\n        row[0] = 1.0",
    "np.copyto": "np.copyto(x, 1.0)",
    "np.put": "np.put(x, [0], [3.0])",
    "np.place": "np.place(x, x > 1.0, [0.0])",
    "np.putmask": "np.putmask(x, x > 1.0, 0.0)",
    "np.fill_diagonal": "np.fill_diagonal(x, 0.0)",
    "ufunc .at": "np.add.at(x, [0, 1], 1)",
    "positional ufunc output": "np.multiply(x, 2.0, x)",
    "out= a view": "np.multiply(x, 2.0, out=x[1:])",
    "np.copyto into a view": "v = x[1:]\n    np.copyto(v, 0.0)",
    "user function": "_zero(x)",
    "user function on a view": "_zero(x[1:])",
    "user function on an alias": "y = x\n    _zero(y)",
    "chained target": "x.reshape(-1)[0] = 3.0",
    "chained .T target": "x.T[0] = 3.0",
    "tuple target": "x[0], x[1] = x[1], x[0]",
    "element of a list": "rows = [x]\n    rows[0][0] = 1.0",
    "appended to a list": "rows = []\n    rows.append(x)\n    _zero(rows[0])",
}


@pytest.mark.parametrize("write", WRITES_THROUGH.values(), ids=WRITES_THROUGH.keys())
def test_parameters_written_through_other_routes_are_not_converted(write: str) -> None:
    """Converting a parameter that is written, however, would hide the writes from the
    caller: through an alias or a view, a NumPy writer, a function whose effects are
    not visible, a chained or tuple target."""
    code = HEADER + (
        "def _zero(a):\n    a[:] = 0.0\n\n\n"
        "def f(x):\n"
        "    s = 0.0\n"
        "    for i in range(len(x)):\n"
        "        s += x[i]\n"
        f"    {write}\n"
        "    return s\n"
    )
    new_code, found = rewrite(DtypeReductionPass(), code)
    assert all("`x`" not in o.message for o in found)
    assert "np.asarray(x, dtype=np.float32)" not in new_code


def test_parameters_only_read_through_aliases_are_still_converted() -> None:
    """Reads through an alias, new memory computed from the parameter (arithmetic,
    `.copy()`) written, and calls that never write their arguments keep it an input."""
    code = HEADER + (
        "def f(x):\n"
        "    y = x\n"
        "    v = x[1:]\n"
        "    w = x * 2.0\n"
        "    w[0] = 1.0\n"
        "    z = x.copy()\n"
        "    z[0] = 1.0\n"
        "    t = np.empty(len(x))\n"
        "    for i in range(len(x)):\n"
        "        t[i] = x[i] * y[i] + w[i] + z[i]\n"
        "    s = np.sum(t) + abs(min(v[0], 1.0)) + max(x[0], 0.0) + max(x) + float(np.sum(x))\n"
        "    print(len(sorted(x)), list(x)[0], tuple(zip(x, y)), isinstance(x, np.ndarray))\n"
        "    return s\n"
    )
    new_code, found = rewrite(DtypeReductionPass(), code)
    (opp,) = found
    assert "inputs `x`" in opp.message
    assert "x = np.asarray(x, dtype=np.float32)" in new_code
    x = np.random.default_rng(6).random(50)
    assert np.isclose(load(new_code)["f"](x), load(code)["f"](x), rtol=1e-5)


def test_integer_narrowing_is_never_done() -> None:
    code = "def f(n):\n    a = np.arange(n)\n    s = 0\n    for i in range(n):\n        s += a[i]\n    return s\n"
    new_code, found = rewrite(DtypeReductionPass(), HEADER + code)
    assert found == [] and new_code == HEADER + code


def test_never_applied_by_a_static_rewrite() -> None:
    module = SourceModule.parse(HEADER + KERNEL, "k.py")
    found = DtypeReductionPass().find(module)
    assert found and all(not o.static_safe for o in found)
    static = pytest.importorskip("greenopt.optimizer.static")
    result = static.rewrite_static(module, passes=["dtype-reduction"])
    assert result.new_code == module.code
    assert result.applied == []


def test_pipeline_tries_it_only_with_a_loosened_tolerance() -> None:
    pipeline = pytest.importorskip("greenopt.optimizer.pipeline")
    from greenopt.optimizer.equivalence import Tolerance

    notes: list[str] = []
    default = pipeline.resolve_passes(["dtype-reduction", "jit"], Tolerance(), notes)
    assert "dtype-reduction" not in default and "jit" in default
    loosened = pipeline.resolve_passes(["dtype-reduction"], Tolerance(rtol=1e-4), notes)
    assert "dtype-reduction" in loosened


def test_packed_parameters_are_never_float_inputs() -> None:
    """`*args` is a tuple and `**kwargs` a dict: casting them to float32 cannot work, so
    neither is reported as an input (numpy's `atleast_1d(*arys)` was)."""
    code = (
        HEADER
        + "def first(*arrays):\n    return np.sum(arrays[0])\n\n\n"
        + "def opts(**options):\n    return np.sqrt(options['x'])\n"
    )
    found = DtypeReductionPass().find(SourceModule.parse(code))
    assert not any("arrays" in o.message or "options" in o.message for o in found)


def test_defaults_and_decorators_are_not_the_functions_to_narrow() -> None:
    """A parameter default (`buf=np.zeros(4)`) runs once, at definition time: neither
    counted nor rewritten; the body's own allocations still are."""
    code = HEADER + (
        "def keep(n=np.float64(3.0)):\n"
        "    return n\n\n\n"
        "def f(x, buf=np.zeros(4)):\n"
        "    tmp = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        tmp[i] = x[i] * 2.0\n"
        "    buf[0] = tmp.sum()\n"
        "    return buf\n"
    )
    new_code, found = rewrite(DtypeReductionPass(), code)
    assert [o.site.function for o in found] == ["f"]  # `keep` has nothing of its own
    assert "1 float64 allocation" in found[0].message
    assert "buf=np.zeros(4)" in new_code and "def keep(n=np.float64(3.0))" in new_code
    assert "tmp = np.zeros(len(x), dtype=np.float32)" in new_code


def test_arrays_compared_with_integer_categories_are_not_narrowed() -> None:
    """`d = dirs[i]; if d == 0 ... elif d == 1` reads an integer array of categories:
    float32 could only damage it (large ints), so it is no float input to convert."""
    code = HEADER + (
        "def walk(dirs, w):\n"
        "    x = 0\n"
        "    for s in range(len(dirs)):\n"
        "        d = dirs[s]\n"
        "        if d == 0:\n"
        "            x += 1\n"
        "        elif d == 1:\n"
        "            x -= 1\n"
        "    return x * w[0]\n"
    )
    _, found = rewrite(DtypeReductionPass(), code)
    assert [o for o in found if "`dirs`" in o.message] == []
    assert any("`w`" in o.message for o in found)  # the float parameter still is
    # a lone comparison with 0 is common on float data (skip zeros): still converted
    zero = HEADER + (
        "def f(x):\n    r = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        if x[i] == 0:\n            continue\n        r[i] = 1.0 / x[i]\n    return r\n"
    )
    (opp,) = rewrite(DtypeReductionPass(), zero)[1]
    assert "`x`" in opp.message


def test_copies_of_converted_arrays_are_cast_back_with_astype() -> None:
    """`w = u.copy()` of a converted parameter is an array: `return w.astype(np.float64)`,
    not `np.float64(w)` (fine in NumPy, but Numba has no float64(array), so the
    dtype-reduction + jit combination would not compile)."""
    import numba

    code = HEADER + (
        "def smooth(u, sweeps):\n"
        "    w = u.copy()\n"
        "    z = np.zeros_like(w)\n"
        "    for _ in range(sweeps):\n"
        "        for i in range(1, len(w) - 1):\n"
        "            z[i] = 0.5 * (w[i - 1] + w[i + 1])\n"
        "            w[i] = z[i]\n"
        "    return w, z\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(), code)
    assert "return w.astype(np.float64), z.astype(np.float64)" in new_code
    u = np.random.default_rng(3).random(64)
    expected = load(code)["smooth"](u, 3)
    jitted = numba.njit(load(new_code)["smooth"])(u, 3)
    for a, b in zip(expected, jitted, strict=True):
        assert b.dtype == np.float64 and np.allclose(a, b, rtol=1e-5)


def test_arrays_rebound_to_copies_in_a_time_loop_are_cast_back_with_astype() -> None:
    """`cur = u.copy()`, then `nxt = cur.copy(); ...; cur = nxt` every step: `cur` only
    ever holds copies of the converted input, so it is an array and Numba compiles the
    cast back. A name that is sometimes a scalar is not."""
    import numba

    code = HEADER + (
        "def heat(u, alpha, steps):\n"
        "    cur = u.copy()\n"
        "    for _ in range(steps):\n"
        "        nxt = cur.copy()\n"
        "        for i in range(1, len(u) - 1):\n"
        "            nxt[i] = cur[i] + alpha * (cur[i - 1] - 2.0 * cur[i] + cur[i + 1])\n"
        "        cur = nxt\n"
        "    return cur\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(), code)
    assert "return cur.astype(np.float64)" in new_code
    u = np.random.default_rng(4).random(40)
    got = numba.njit(load(new_code)["heat"])(u, 0.2, 5)
    assert got.dtype == np.float64 and np.allclose(got, load(code)["heat"](u, 0.2, 5), rtol=1e-5)
    mixed = HEADER + (
        "def f(u, flag):\n    r = u.copy()\n    if flag:\n        r = u[0] * 2.0\n    return r\n"
    )
    assert "np.float64(r)" in rewrite(DtypeReductionPass(), mixed)[0]


def test_expressions_of_rows_of_known_rank_are_cast_back_with_astype() -> None:
    """`f[0] + f[1]` of `f = np.zeros((3, n))` is an array: `.astype`, which Numba
    compiles. An index of as many axes as the rank is a scalar: `np.float64(...)`."""
    import numba

    code = HEADER + (
        "def density(rho0, steps):\n"
        "    n = len(rho0)\n"
        "    f = np.zeros((3, n))\n"
        "    for i in range(n):\n"
        "        f[0, i] = rho0[i] / 3.0\n"
        "        f[1, i] = rho0[i] / 3.0\n"
        "        f[2, i] = rho0[i] / 3.0\n"
        "    for _ in range(steps):\n"
        "        g = np.zeros((3, n))\n"
        "        for i in range(n):\n"
        "            g[0, i] = f[0, i] * 0.5 + f[1, i] * 0.5\n"
        "            g[1, i] = f[1, i]\n"
        "            g[2, i] = f[2, i]\n"
        "        f = g\n"
        "    return f[0] + f[1] + f[2], -f[:, 0], f[0, 0] * 2.0\n"
    )
    new_code, _ = rewrite(DtypeReductionPass(), code)
    assert "(f[0] + f[1] + f[2]).astype(np.float64)" in new_code
    assert "(-f[:, 0]).astype(np.float64)" in new_code
    assert "np.float64(f[0, 0] * 2.0)" in new_code
    rho0 = np.random.default_rng(5).random(32)
    expected = load(code)["density"](rho0, 3)
    got = numba.njit(load(new_code)["density"])(rho0, 3)
    for a, b in zip(expected, got, strict=True):
        assert np.asarray(b).dtype == np.float64 and np.allclose(a, b, rtol=1e-5)


ROUNDED = {
    "int() of an element": (
        "def hist(x, nb):\n    h = np.zeros(nb)\n    for i in range(len(x)):\n"
        "        b = int(x[i] * nb)\n        h[b] += 1\n    return h\n"
    ),
    "np.floor": "def bins(x, w):\n    return np.floor(x / w)\n",
    "through a local": (
        "import math\n\ndef f(x):\n    s = 0\n    for i in range(len(x)):\n"
        "        t = x[i] * 3.0\n        s += math.floor(t)\n    return s\n"
    ),
    "astype(uint8)": "def to_u8(img):\n    return np.clip(img * 255, 0, 255).astype(np.uint8)\n",
    "floor division": "def cells(n):\n    y = np.linspace(0.0, 1.0, n)\n    return (y * 10) // 1\n",
    "astype('int32')": "def g(x):\n    return (x * 7).astype('int32')\n",
    "np.floor_divide": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = np.floor_divide(x[i], w)\n    return out\n"
    ),
    "divmod": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = divmod(x[i], w)[0]\n    return out\n"
    ),
    "np.searchsorted": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = np.searchsorted(w, x[i])\n    return out\n"
    ),
    "method searchsorted": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = w.searchsorted(x[i] * 2.0)\n    return out\n"
    ),
    "remainder operator": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = (x[i] * 3.0) % w > 0.5\n    return out\n"
    ),
    "np.fmod": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = np.fmod(x[i], w) > 0.5\n    return out\n"
    ),
    "np.digitize edges": (
        "def f(x, w):\n    out = np.zeros(len(x), dtype=np.int64)\n    for i in range(len(x)):\n        out[i] = np.digitize(x[i], w * 2.0)\n    return out\n"
    ),
}


@pytest.mark.parametrize("code", ROUNDED.values(), ids=ROUNDED.keys())
def test_values_rounded_to_integers_are_not_narrowed(code: str) -> None:
    """float32 moves a value across an integer boundary (a whole bin, a grey level):
    nothing whose values reach `int()`, `floor`, `//` or an integer cast is narrowed."""
    _, found = rewrite(DtypeReductionPass(), HEADER + code)
    assert all("`x`" not in o.message and "`img`" not in o.message for o in found)
    if "hist" not in code:
        assert found == []


def test_only_the_rounded_values_are_left_in_float64() -> None:
    code = HEADER + (
        "def hist(x, nb):\n    w = np.ones(len(x))\n    h = np.zeros(nb)\n"
        "    for i in range(len(x)):\n        h[int(x[i] * nb)] += w[i]\n    return h\n"
    )
    new, (opp,) = rewrite(DtypeReductionPass(), code)
    # the bin index is computed from x, which stays float64; the weights narrow, the
    # counts accumulate across iterations and stay float64 (a float32 count stops at 2**24)
    assert "inputs" not in opp.message and "1 float64 allocation" in opp.message
    assert "np.asarray(x" not in new and "np.ones(len(x), dtype=np.float32)" in new
    assert "h = np.zeros(nb)\n" in new
    h = load(new)["hist"](np.array([0.1, 0.5, 0.99]), 4)
    assert h.dtype == np.float64 and list(h) == [1.0, 0.0, 1.0, 1.0]
