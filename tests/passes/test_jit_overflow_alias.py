"""jit: Python-int overflow, global random state and aliased arguments under prange.

Each case was found by an adversarial session: Numba's int64 wraps where Python ints
grow (`s += i * i * i`), Numba's `random` ignores the caller's `random.seed`, and
`prange` races when a caller passes one array as both input and output.
"""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.passes.jit import JitPass

from .helpers import JIT_HEADER as HEADER
from .helpers import import_file, rewrite
from .helpers import jit_by_function as by_function

# --- bug 1: additive int64 overflow ---------------------------------------------------------

OVERFLOWING = {
    # 99999**3 alone fits, the sum of i**3 for n=100000 is 2.5e19 > 2**63
    "cubes": "def cubes(n):\n    s = 0\n    for i in range(n):\n        s += i * i * i\n    return s\n",
    # the intermediate overflows even when accumulated into a float (i > 2.1e6)
    "cubes_float": (
        "def cubes_float(n):\n    s = 0.0\n    for i in range(n):\n        s += i * i * i\n"
        "    return s\n"
    ),
    "squares": "def squares(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n",
    "weighted": (
        "def weighted(x, k):\n    s = 0\n    for i in range(len(x)):\n"
        "        s += int(x[i]) * k\n    return s\n"
    ),
    "shifted": (
        "def shifted(x):\n    h = 0\n    for i in range(len(x)):\n"
        "        h += int(x[i]) << 40\n    return h\n"
    ),
    "pairs": (
        "def pairs(n):\n    c = 0\n    for i in range(n):\n        for j in range(n):\n"
        "            c += i * j\n    return c\n"
    ),
    "big_constant": (
        "def big_constant(n):\n    s = 0\n    for i in range(n):\n        s += 7 ** 25\n"
        "    return s\n"
    ),
    "big_factor": (
        "def big_factor(x):\n    out = np.zeros(len(x), dtype=np.int64)\n"
        "    for i in range(len(x)):\n        out[i] = i * 4294967296\n    return out\n"
    ),
    # 21! and comb(70, 35) exceed int64
    "factorials": (
        "def factorials(n):\n    s = 0\n    for i in range(n):\n"
        "        s += math.factorial(i)\n    return s\n"
    ),
    "binomials": (
        "def binomials(n):\n    s = 0\n    for i in range(n):\n"
        "        s += math.comb(n, i)\n    return s\n"
    ),
}

HARMLESS = {
    "dot": (
        "def dot(x, y):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i] * y[i]\n"
        "    return s\n"
    ),
    "flat_index": (
        "def flat_index(a, n, m):\n    s = 0.0\n    for i in range(n):\n        for j in range(m):\n"
        "            s += a[i * m + j] * a[i * m * m + j * m + j]\n    return s\n"
    ),
    "counter": (
        "def counter(x):\n    count = 0\n    for i in range(len(x)):\n        for j in range(len(x)):\n"
        "            if x[i] < x[j]:\n                count += 1\n    return count\n"
    ),
    "int_array_sum": (
        "def int_array_sum(x):\n    s = 0\n    for i in range(len(x)):\n        s += x[i]\n"
        "    return s\n"
    ),
    "index_sum": "def index_sum(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n",
    "small_factor": (
        "def small_factor(x):\n    out = np.empty(len(x))\n    for i in range(len(x)):\n"
        "        k = i * 2 + 1\n        out[i] = x[i] * k\n    return out\n"
    ),
    "float_param": (
        "def float_param(x, dt):\n    out = np.empty(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = x[i] + i * dt * dt\n    return out\n"
    ),
    "modular_hash": (
        "def modular_hash(x):\n    h = 7\n    for i in range(len(x)):\n"
        "        h = (h * 31 + int(x[i])) % 1000003\n    return h\n"
    ),
    "while_scan": (
        "def while_scan(x):\n    i = 0\n    s = 0.0\n    while i < len(x):\n        j = i\n"
        "        while j + 1 < len(x) and x[j + 1] == x[i]:\n            j += 1\n"
        "        s += x[i] * (j - i + 1)\n        i = j + 1\n    return s\n"
    ),
}


@pytest.mark.parametrize("name", sorted(OVERFLOWING))
def test_python_int_overflow_is_refused_with_the_reason(name: str) -> None:
    found = by_function(OVERFLOWING[name])[name]
    assert set(found) == {"GO490"}, found
    assert "int64" in found["GO490"]


def test_the_reason_names_the_expression() -> None:
    assert "`i * i * i`" in by_function(OVERFLOWING["cubes"])["cubes"]["GO490"]
    assert "`s += int(x[i]) * k`" in by_function(OVERFLOWING["weighted"])["weighted"]["GO490"]
    assert "`int(x[i]) << 40`" in by_function(OVERFLOWING["shifted"])["shifted"]["GO490"]


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_harmless_int_arithmetic_is_still_jitted(name: str) -> None:
    found = by_function(HARMLESS[name])[name]
    assert "GO401" in found and "GO490" not in found, found


def test_python_ints_really_differ_from_int64() -> None:
    # what the refusal protects: the interpreter's result for `cubes(100000)`
    n = 100000
    exact = sum(i * i * i for i in range(n))
    assert exact == 24999500002500000000 > np.iinfo(np.int64).max


# --- bug 2: the global random state ---------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    ["random.random()", "random.gauss(0.0, 1.0)", "np.random.random()", "np.random.normal()"],
)
def test_global_random_state_is_not_jitted(call: str) -> None:
    code = (
        "def walk(x):\n    out = np.empty(len(x))\n    for i in range(len(x)):\n"
        f"        out[i] = x[i] + {call}\n    return out\n"
    )
    found = by_function(code)["walk"]
    assert set(found) == {"GO490"}
    assert "global random state" in found["GO490"] and "seed" in found["GO490"]


def test_from_import_of_stdlib_random_is_not_jitted() -> None:
    code = (
        "from random import uniform\n\n\n"
        "def mc(n):\n    hits = 0\n    for i in range(n):\n        u = uniform(0.0, 1.0)\n"
        "        if u < 0.5:\n            hits += 1\n    return hits\n"
    )
    found = by_function(code)["mc"]
    assert set(found) == {"GO490"} and "random.uniform" in found["GO490"]


def test_a_generator_passed_in_is_still_jitted() -> None:
    code = (
        "def noise(x, rng):\n    out = np.empty(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = x[i] + rng.random()\n    return out\n"
    )
    assert "GO401" in by_function(code)["noise"]


# --- bug 3: aliased arguments under prange --------------------------------------------------

STENCIL = (
    "def smooth(x, out):\n    for i in range(1, len(x) - 1):\n"
    "        out[i] = x[i - 1] + x[i + 1]\n    return out\n"
)


def test_parallel_is_not_offered_when_an_alias_is_read_at_another_index() -> None:
    found = by_function(STENCIL)["smooth"]
    assert "GO401" in found and "GO402" not in found


@pytest.mark.parametrize(
    "body",
    ["out[i] = x[i] / np.sum(x)", "out[i] = helper(x, i)", "out[i] = x[i] + x[0]"],
)
def test_parallel_is_not_offered_when_an_alias_is_used_whole_or_elsewhere(body: str) -> None:
    code = (
        "def helper(x, i):\n    return x[i]\n\n\n"
        f"def f(x, out):\n    for i in range(len(x)):\n        {body}\n    return out\n"
    )
    assert "GO402" not in by_function(code)["f"]


def test_parallel_is_offered_when_aliases_meet_only_at_one_index() -> None:
    code = (
        "def scale(x, out):\n    for i in range(len(x)):\n        out[i] = 2.0 * x[i]\n"
        "    return out\n\n\n"
        "def fresh(x):\n    out = np.empty_like(x)\n    for i in range(1, len(x) - 1):\n"
        "        out[i] = x[i - 1] + x[i + 1]\n    return out\n\n\n"
        "def steps(x, n):\n    f = np.zeros((2, len(x)))\n    for i in range(len(x)):\n"
        "        f[0, i] = x[i]\n        f[1, i] = x[i]\n    for _ in range(n):\n"
        "        g = np.zeros((2, len(x)))\n        f = g\n    return f\n"
    )
    _, opps = rewrite(JitPass(), HEADER + code)
    rationale = {o.site.function: o.rationale for o in opps if o.code == "GO402"}
    assert "may be one array" in rationale["scale"]
    assert "fresh" in rationale and "steps" in rationale


def test_a_parameter_converted_in_place_is_still_no_fresh_arrays_memory() -> None:
    """`x = np.asarray(x, dtype=np.float32)` (what dtype-reduction writes) holds the
    parameter's memory or a copy, never `out`'s: the stencil on a fresh `out` stays
    parallel; a name that may hold a fresh array's memory does not get that pass."""
    code = (
        "def conv(x):\n    x = np.asarray(x, dtype=np.float32)\n"
        "    out = np.empty_like(x)\n    for i in range(1, len(x) - 1):\n"
        "        out[i] = x[i - 1] + x[i + 1]\n    return out\n\n\n"
        "def mixed(x):\n    out = np.empty(len(x))\n    x = np.asarray(out)\n"
        "    for i in range(1, len(x) - 1):\n        out[i] = x[i - 1] + x[i + 1]\n    return out\n"
    )
    found = by_function(code)
    assert "GO402" in found["conv"]
    assert "GO402" not in found["mixed"]


@pytest.mark.parametrize(
    ("view", "loop"),
    [
        ("y = np.asarray(out)[1:]", "range(len(out) - 1)"),
        ("y = out.reshape(-1)[1:]", "range(len(out) - 1)"),
        ("y = np.asarray(out)\n    y = y[::-1]", "range(len(out))"),
    ],
)
def test_parallel_is_not_offered_for_a_view_the_function_makes(view: str, loop: str) -> None:
    """`y` is `out` shifted (or reversed) by the function itself, not by a caller:
    `out[i] = y[i]` reads the element iteration i + 1 writes, a race under prange."""
    code = f"def shift(out):\n    {view}\n    for i in {loop}:\n        out[i] = y[i] * 0.5\n    return out\n"
    found = by_function(code)["shift"]
    assert "GO401" in found and "GO402" not in found


def test_parallel_is_not_offered_for_a_parameter_rebound_to_its_view() -> None:
    code = (
        "def rev(x):\n    y = x\n    x = x[::-1]\n    for i in range(len(x)):\n"
        "        y[i] = x[i] * 0.5\n    return y\n"
    )
    assert "GO402" not in by_function(code)["rev"]


def test_parameters_converted_in_place_still_meet_at_one_index() -> None:
    """dtype-reduction's `g = np.asarray(g, dtype=np.float32)` is no view the function
    made: `m[i]` written and `g[i]` read at one index keep the parallel variant."""
    code = (
        "def update(m, g):\n    g = np.asarray(g, dtype=np.float32)\n"
        "    for i in range(len(m)):\n        m[i] = 0.9 * m[i] + 0.1 * g[i]\n    return m\n"
    )
    assert "GO402" in by_function(code)["update"]


def test_the_plain_variant_keeps_aliased_results(tmp_path) -> None:
    pytest.importorskip("numba")
    new_code, _ = rewrite(JitPass(variants=("plain",)), HEADER + STENCIL)
    assert "@numba.njit(cache=True)" in new_code
    jitted = import_file(tmp_path, "aliased_plain", new_code)
    original = import_file(tmp_path, "aliased_orig", HEADER + STENCIL)
    x = np.arange(10.0)
    y = np.arange(10.0)
    np.testing.assert_array_equal(jitted.smooth(x, x), original.smooth(y, y))
