"""jit: which functions get @numba.njit (and which variants), and jitted results are equal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from greenopt.passes.jit import JitPass, overflow_risk

from .helpers import import_file, load, rewrite

HEADER = "import numpy as np\n\n\n"


def jit_find(code: str, **options) -> list:
    _, found = rewrite(JitPass(**options), HEADER + code)
    return found


def codes(found: list) -> list[str]:
    return sorted(o.code for o in found)


def test_already_vectorised_code_gets_no_opportunity() -> None:
    code = (
        "def f(x, y):\n"
        "    r = np.sqrt(x * x + y * y)\n"
        "    return r / r.sum()\n\n\n"
        "def g(u, steps):\n"
        "    for _ in range(steps):\n"
        "        u = u + 0.1 * (np.roll(u, 1) - 2.0 * u + np.roll(u, -1))\n"
        "    return u\n"
    )
    assert jit_find(code) == []


def test_plain_parallel_and_fastmath_are_separate_opportunities_on_one_site() -> None:
    code = (
        "def scale(x, a):\n"
        "    out = np.empty_like(x)\n"
        "    for i in range(len(x)):\n"
        "        out[i] = a * x[i]\n"
        "    return out\n"
    )
    found = jit_find(code)
    assert codes(found) == ["GO401", "GO402", "GO403"]
    assert {o.data["variant"] for o in found} == {"plain", "parallel", "fastmath"}
    assert len({o.site for o in found}) == 1
    assert all(o.fixable and not o.static_safe for o in found)


def test_carried_dependence_gets_no_parallel_variant() -> None:
    code = (
        "def prefix(x):\n"
        "    out = np.empty_like(x)\n"
        "    out[0] = x[0]\n"
        "    for i in range(1, len(x)):\n"
        "        out[i] = out[i - 1] + x[i]\n"
        "    return out\n"
    )
    assert codes(jit_find(code)) == ["GO401", "GO403"]


@pytest.mark.parametrize(
    "body",
    [
        # scatter with repeated indices
        "    h = np.zeros(10)\n    for i in range(len(x)):\n        h[int(x[i])] += 1.0\n    return h\n",
        # scalar carried from one iteration to the next (not a reduction)
        "    s = 0.0\n    out = np.empty_like(x)\n    for i in range(len(x)):\n"
        "        s = 0.5 * s + x[i]\n        out[i] = s\n    return out\n",
        # writes through a parameter read at another index (may be the same array)
        "    for i in range(len(x) - 1):\n        x[i] = x[i + 1]\n    return x\n",
        # loop variable used after the loop
        "    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n    return s + i\n",
    ],
    ids=["scatter", "carried-scalar", "shifted-self", "var-after-loop"],
)
def test_parallel_refused_when_iterations_depend(body: str) -> None:
    found = jit_find("def f(x):\n" + body)
    assert "GO402" not in codes(found)
    assert "GO401" in codes(found)


def test_recognised_reduction_is_parallel() -> None:
    code = (
        "def dot(x, y):\n"
        "    s = 0.0\n"
        "    for i in range(len(x)):\n"
        "        if x[i] > 0:\n"
        "            s += x[i] * y[i]\n"
        "    return s\n"
    )
    parallel = [o for o in jit_find(code) if o.code == "GO402"]
    assert parallel and "reduction on `s`" in parallel[0].rationale


@pytest.mark.parametrize(
    "code",
    [
        "def fact(n):\n    r = 1\n    for i in range(2, n + 1):\n        r *= i\n    return r\n",
        "def h(s):\n    v = 7\n    for i in range(len(s)):\n        v = v * 31 + s[i]\n    return v\n",
        "def p(n):\n    t = 0\n    for k in range(n):\n        t += 2 ** k\n    return t\n",
    ],
    ids=["factorial", "hash", "power"],
)
def test_visible_int64_overflow_is_not_jitted(code: str) -> None:
    found = jit_find(code)
    assert codes(found) == ["GO490"]
    assert not found[0].fixable and "overflow" in found[0].message


def test_modular_hash_and_float_products_are_fine() -> None:
    modular = (
        "def h(s):\n    v = 7\n    for i in range(len(s)):\n"
        "        v = (v * 31 + s[i]) % 1000003\n    return v\n"
    )
    assert "GO401" in codes(jit_find(modular))
    floats = (
        "def f(x):\n    p = 1.0\n    for i in range(len(x)):\n        p *= x[i]\n    return p\n"
    )
    assert "GO401" in codes(jit_find(floats))
    import libcst as cst

    tree = cst.parse_module(
        "def f(n):\n    r = 1\n    for i in range(n):\n        r <<= 1\n    return r\n"
    )
    assert overflow_risk(tree.body[0]) is not None


def test_reasons_for_not_jitting_are_reported() -> None:
    code = (
        "import scipy.special\n\n\n"
        "class A:\n"
        "    def m(self, x):\n"
        "        s = 0.0\n"
        "        for i in range(len(x)):\n"
        "            s += x[i]\n"
        "        return s\n\n\n"
        "def small(x):\n"
        "    s = 0.0\n"
        "    for i in range(4):\n"
        "        s += x[i]\n"
        "    return s\n\n\n"
        "def uses_scipy(x):\n"
        "    s = 0.0\n"
        "    for i in range(len(x)):\n"
        "        s += scipy.special.gamma(x[i])\n"
        "    return s\n\n\n"
        "def uses_with(x, path):\n"
        "    with open(path) as fh:\n"
        "        for i in range(len(x)):\n"
        "            fh.write(str(x[i]))\n"
    )
    found = jit_find(code)
    by_function = {o.site.function: o for o in found}
    assert set(by_function) == {"A.m", "small", "uses_scipy", "uses_with"}
    assert all(o.code == "GO490" and not o.fixable for o in found)
    assert "method" in by_function["A.m"].message
    assert "iterations" in by_function["small"].message
    assert "scipy.special.gamma" in by_function["uses_scipy"].message
    assert "with" in by_function["uses_with"].message


def test_ufunc_methods_are_not_jitted_but_submodule_functions_are() -> None:
    """`np.fmax.reduce` (what vectorize writes for a max loop) fails Numba's typing:
    vectorize + jit would be a candidate that can never compile."""
    code = (
        "import numpy as np\n\n\n"
        "def rowmax(a):\n"
        "    out = np.zeros(a.shape[0])\n"
        "    for i in range(a.shape[0]):\n"
        "        out[i] = np.fmax.reduce(a[i, :], axis=None)\n"
        "    return out\n\n\n"
        "def scatter(a, idx):\n"
        "    for i in range(len(idx)):\n"
        "        np.add.at(a, idx[i], 1.0)\n\n\n"
        "def noisy(a):\n"
        "    for i in range(len(a)):\n"
        "        a[i] += np.random.normal(0.0, 1.0)\n"
    )
    by_function = {o.site.function: o for o in jit_find(code)}
    for name, method in (("rowmax", "numpy.fmax.reduce"), ("scatter", "numpy.add.at")):
        assert by_function[name].code == "GO490" and method in by_function[name].message
    # `np.random.normal` is a function of a submodule, not a ufunc method; it is refused
    # for another reason: Numba draws from its own generator, not NumPy's global state
    assert "ufunc method" not in by_function["noisy"].message
    assert "global random state" in by_function["noisy"].message


def test_vectorised_max_loop_is_not_offered_to_jit_after_vectorize() -> None:
    import numba

    from greenopt.passes.vectorize import VectorizePass

    code = (
        "import numpy as np\n\n\n"
        "def rowmax(a):\n"
        "    n, k = a.shape\n"
        "    out = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        m = a[i, 0]\n"
        "        for j in range(1, k):\n"
        "            if a[i, j] > m:\n"
        "                m = a[i, j]\n"
        "        out[i] = m\n"
        "    return out\n"
    )
    vectorised, _ = rewrite(VectorizePass(), code)
    assert ".reduce(" in vectorised
    namespace: dict = {}
    exec(compile(vectorised, "<vectorised>", "exec"), namespace)
    with pytest.raises(numba.core.errors.TypingError):
        numba.njit(namespace["rowmax"])(np.ones((2, 3)))
    assert {o.code for o in jit_find(vectorised)} == {"GO490"}


def test_helpers_are_jitted_with_the_function_or_it_is_dropped() -> None:
    code = (
        "def sq(v):\n    return v * v\n\n\n"
        "def total(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += sq(x[i])\n    return s\n\n\n"
        "def gen(v):\n    yield v\n    with open('f') as fh:\n        pass\n\n\n"
        "def bad_total(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += next(gen(x[i]))\n    return s\n"
    )
    new_code, found = rewrite(JitPass(variants=("plain",)), HEADER + code)
    total = [o for o in found if o.site.function == "total"]
    assert total[0].data["helpers"] == ["sq"]
    assert new_code.count("@numba.njit(cache=True)") == 2
    assert "@numba.njit(cache=True)\ndef sq(v):" in new_code
    bad = [o for o in found if o.site.function == "bad_total"]
    assert bad[0].code == "GO490" and "helper `gen`" in bad[0].message


def test_unknown_variant_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown jit variant"):
        JitPass(variants=("turbo",))


def test_import_added_once_and_existing_alias_used() -> None:
    code = (
        "import numba as nb\n\n\n"
        "def f(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n    return s\n\n\n"
        "def g(x):\n    s = 1.0\n    for i in range(len(x)):\n        s *= x[i]\n    return s\n"
    )
    new_code, _ = rewrite(JitPass(variants=("parallel",)), code)
    assert new_code.count("import numba") == 1
    assert new_code.count("@nb.njit(cache=True, parallel=True)") == 2
    assert new_code.count("nb.prange(len(x))") == 2


KERNELS = (
    "def saxpy(a, x, y):\n"
    "    out = np.empty_like(x)\n"
    "    for i in range(len(x)):\n"
    "        out[i] = a * x[i] + y[i]\n"
    "    return out\n\n\n"
    "def norm2(x):\n"
    "    s = 0.0\n"
    "    for i in range(len(x)):\n"
    "        s += x[i] * x[i]\n"
    "    return s\n\n\n"
    "def rowsum(m):\n"
    "    out = np.zeros(m.shape[0])\n"
    "    for i in range(m.shape[0]):\n"
    "        acc = 0.0\n"
    "        for j in range(m.shape[1]):\n"
    "            acc += m[i, j]\n"
    "        out[i] = acc\n"
    "    return out\n"
)


@pytest.mark.parametrize("variant", ["plain", "parallel", "fastmath"])
def test_jitted_functions_compute_the_same_results(variant: str, tmp_path: Path) -> None:
    new_code, found = rewrite(JitPass(variants=(variant,)), HEADER + KERNELS)
    assert {o.site.function for o in found} == {"saxpy", "norm2", "rowsum"}
    before = load(HEADER + KERNELS)
    after = vars(import_file(tmp_path, f"jitted_{variant}", new_code))
    rng = np.random.default_rng(5)
    x, y, m = rng.random(3000), rng.random(3000), rng.random((40, 30))
    assert np.allclose(after["saxpy"](2.0, x, y), before["saxpy"](2.0, x, y), rtol=1e-12)
    assert np.allclose(after["norm2"](x), before["norm2"](x), rtol=1e-9)
    assert np.allclose(after["rowsum"](m), before["rowsum"](m), rtol=1e-9)
    assert type(after["saxpy"]).__name__ == "CPUDispatcher"


def test_slice_array_expressions_in_a_time_loop_are_candidates() -> None:
    # Numba fuses the slice expressions into one loop without temporaries (measured:
    # benchmarks/passes_bench.py, kernel `stencil`)
    code = (
        "def smooth(u, steps):\n"
        "    v = u.copy()\n"
        "    for _ in range(steps):\n"
        "        v[1:-1] = 0.25 * v[:-2] + 0.5 * v[1:-1] + 0.25 * v[2:]\n"
        "    return v\n"
    )
    assert "GO401" in codes(jit_find(code))
    assert "GO402" not in codes(jit_find(code))  # each time step reads the previous one


def test_scalars_private_to_an_inner_loop_allow_prange_on_the_outer() -> None:
    code = (
        "def pairs(p):\n"
        "    n = p.shape[0]\n"
        "    e = 0.0\n"
        "    for i in range(n):\n"
        "        for j in range(i + 1, n):\n"
        "            d = p[i] - p[j]\n"
        "            e += d * d\n"
        "    return e\n"
    )
    assert "GO402" in codes(jit_find(code))
    stale = (
        code.replace("    return e\n", "").replace(
            "            e += d * d\n", "            e += d * d\n        p[i] = d\n"
        )
        + "    return e\n"
    )
    # `d` read after an inner loop that may be empty: a value from an earlier iteration
    assert "GO402" not in codes(jit_find(stale))


GLOBALS = HEADER + (
    "import os\n\n"
    "DT = 0.1\n"
    "N = int(os.environ.get('N', '4'))\n"
    "G = 9.81 * 2\n"
    "W = np.array([0.25, 0.5, 0.25])\n"
    "TABLE = np.zeros(8)\n"
    "EPS = np.finfo(np.float64).eps\n\n\n"
    "def set_dt(dt):\n    global DT\n    DT = dt\n\n\n"
    "def fill_table():\n    TABLE[0] = 1.0\n\n\n"
    "def euler(u):\n    v = np.empty_like(u)\n    for i in range(len(u)):\n"
    "        v[i] = u[i] - DT * u[i] * u[i]\n    return v\n\n\n"
    "def scaled(u):\n    s = 0.0\n    for i in range(len(u)):\n        s += u[i] * N\n    return s\n\n\n"
    "def tabled(u):\n    s = 0.0\n    for i in range(len(u)):\n"
    "        s += u[i] * TABLE[i % 8]\n    return s\n\n\n"
    "def constants(u):\n    s = 0.0\n    for i in range(len(u)):\n"
    "        s += u[i] * G * W[i % 3] + EPS\n    return s\n"
)


def test_globals_that_can_change_are_never_frozen_by_jit() -> None:
    """Numba freezes the globals a function reads when it compiles, and cache=True keeps
    them across runs: a global rebound by a setter, changed in place or computed at
    import would keep its first value. Constants are fine."""
    by_function = {o.site.function: o for o in jit_find(GLOBALS) if o.code == "GO490"}
    assert (
        "`DT`" in by_function["euler"].message
        and "`set_dt` rebinds" in by_function["euler"].message
    )
    assert "`N`" in by_function["scaled"].message and "imported" in by_function["scaled"].message
    assert (
        "`TABLE`" in by_function["tabled"].message and "in place" in by_function["tabled"].message
    )
    assert "constants" not in by_function
    assert "GO401" in {o.code for o in jit_find(GLOBALS) if o.site.function == "constants"}


def test_a_helper_other_functions_use_is_not_jitted_with_the_caller() -> None:
    """Jitting `sq` for `total` would also change `big_square` (int64 wrap-around on big
    Python ints) although no workload checks it."""
    code = HEADER + (
        "def sq(v):\n    return v * v\n\n\n"
        "def total(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += sq(x[i])\n"
        "    return s\n\n\n"
        "def big_square(n):\n    return sq(n) + 1\n"
    )
    (opp,) = [o for o in jit_find(code) if o.site.function == "total"]
    assert opp.code == "GO490" and "`sq` is also used by `big_square`" in opp.message
    alone = code.replace("def big_square(n):\n    return sq(n) + 1\n", "")
    assert "GO401" in codes([o for o in jit_find(alone) if o.site.function == "total"])


@pytest.mark.parametrize(
    "test",
    ["not np.isnan(x[i])", "not math.isnan(x[i])", "x[i] == x[i]", "x[i] != np.inf",
     "np.isfinite(x[i])", "x[i] < float('inf')"],
)  # fmt: skip
def test_fastmath_is_offered_where_the_code_tests_for_nan_or_inf(test: str) -> None:
    """GO403's flags (arcp, contract, reassoc) do not let LLVM assume there is no NaN or
    infinity, so such tests survive (`fastmath=True` folded them away; hunt 10)."""
    code = (
        "import math\n"
        + HEADER
        + (
            "def f(x):\n    s = 0.0\n    for i in range(len(x)):\n"
            f"        if {test}:\n            s += x[i] * 0.5\n    return s\n"
        )
    )
    found = codes(jit_find(code))
    assert {"GO401", "GO403"} <= set(found)


def test_two_reduction_statements_on_one_variable_are_not_parallel() -> None:
    """Numba's prange accepts one reduction statement per variable."""
    code = HEADER + (
        "def f(x):\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s += x[i]\n        s *= 0.5\n    return s\n"
    )
    assert "GO402" not in codes(jit_find(code))
