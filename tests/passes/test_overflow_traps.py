"""jit: Python-int overflow that `overflow_risk` misses (hunt14).

Each TRAPS kernel is accepted for @numba.njit (GO401) by the current analysis, yet a
Python int in it outgrows int64 on ordinary inputs and the compiled function returns
a silently different (wrapped) result; `test_trap_really_wraps` shows it on one input
per family. LEGAL kernels must keep being jitted.
"""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import JIT_HEADER as HEADER
from .helpers import jit_by_function as by_function

TRAPS = {
    # --- exponential growth through additions (growth estimate assumes one step per loop)
    "fib_tuple": (
        "def fib_tuple(n):\n    a, b = 0, 1\n    for i in range(n):\n        a, b = b, a + b\n"
        "    return a\n"
    ),
    "fib_temp": (
        "def fib_temp(n):\n    a = 0\n    b = 1\n    for i in range(n):\n        t = a + b\n"
        "        a = b\n        b = t\n    return a\n"
    ),
    "fib_aug": (
        "def fib_aug(n):\n    a = 0\n    b = 1\n    for i in range(n):\n        a += b\n"
        "        b += a\n    return a\n"
    ),
    "tuple_product": (
        "def tuple_product(n):\n    a, b = 2, 3\n    for i in range(n):\n        a, b = b, a * b\n"
        "    return a\n"
    ),
    "doubling": "def doubling(n):\n    x = 1\n    for i in range(n):\n        x = x + x\n    return x\n",
    "doubling_aug": (
        "def doubling_aug(n):\n    x = 1\n    for i in range(n):\n        x += x\n    return x\n"
    ),
    "doubling_plus_i": (
        "def doubling_plus_i(n):\n    s = 1\n    for i in range(n):\n        s = s + s + i\n    return s\n"
    ),
    "doubling_by_negation": (
        "def doubling_by_negation(n):\n    x = 1\n    for i in range(n):\n        y = -x\n"
        "        x = x - y\n    return x\n"
    ),
    "while_doubling": (
        "def while_doubling(n):\n    x = 1\n    k = 0\n    while k < n:\n        x = x + x\n"
        "        k += 1\n    return x\n"
    ),
    # --- an accumulation whose step dominates `base + 64` bits is not seen as growing
    "four_i_squared": (
        "def four_i_squared(n):\n    s = 0\n    for i in range(n):\n        s += 4 * i * i\n    return s\n"
    ),
    "i_squared_times_100": (
        "def i_squared_times_100(n):\n    s = 0\n    for i in range(n):\n        s += i * i * 100\n"
        "    return s\n"
    ),
    "weighted_len": (
        "def weighted_len(x):\n    s = 0\n    n = len(x)\n    for i in range(n):\n"
        "        s += (n - i) * i * 6\n    return s\n"
    ),
    "nested_10ij": (
        "def nested_10ij(n):\n    c = 0\n    for i in range(n):\n        for j in range(n):\n"
        "            c += 10 * i * j\n    return c\n"
    ),
    "while_counter_squares": (
        "def while_counter_squares(n):\n    s = 0\n    i = 0\n    while i < n:\n        s += i * i\n"
        "        i += 1\n    return s\n"
    ),
    # --- ints the analysis does not see as ints
    "enumerate_squares": (
        "def enumerate_squares(x):\n    s = 0\n    for i, v in enumerate(x):\n        s += i * i\n"
        "    return s\n"
    ),
    "tuple_unpacked_ints": (
        "def tuple_unpacked_ints(n):\n    s = 0\n    for k in range(n):\n        a, b = k, k\n"
        "        s += a * b * k\n    return s\n"
    ),
    "builtin_pow": (
        "def builtin_pow(n):\n    s = 0\n    for i in range(n):\n        s += pow(i, 4)\n    return s\n"
    ),
    "helper_cube": (
        "def cube(k):\n    return k * k * k\n\n\n"
        "def helper_cube(n):\n    s = 0\n    for i in range(n):\n        s += cube(i)\n    return s\n"
    ),
    "helper_square": (
        "def square(k):\n    return k * k\n\n\n"
        "def helper_square(n):\n    s = 0\n    for i in range(n):\n        s += square(i)\n    return s\n"
    ),
    # --- int() / round() / math.floor() of a scaled float (fixed point, nanoseconds)
    "nanoseconds": (
        "def nanoseconds(t):\n    s = 0\n    for i in range(len(t)):\n        s += int(t[i] * 1e9)\n"
        "    return s // len(t)\n"
    ),
    "round_fixed_point": (
        "def round_fixed_point(x):\n    s = 0\n    for i in range(len(x)):\n"
        "        s += round(x[i] * 1e12)\n    return s\n"
    ),
    "floor_fixed_point": (
        "def floor_fixed_point(x):\n    s = 0\n    for i in range(len(x)):\n"
        "        s += math.floor(x[i] * 1e12)\n    return s\n"
    ),
    # --- module-level int constants (Numba freezes them) are treated as unknown 31-bit values
    "global_lcg": (
        "M61 = 2**61 - 1\nA = 437799614237992725\n\n\n"
        "def global_lcg(n):\n    state = 12345\n    s = 0.0\n    for i in range(n):\n"
        "        state = (A * state) % M61\n        s += state / M61\n    return s\n"
    ),
    "square_mod_2_32": (
        "def square_mod_2_32(n):\n    h = 3\n    for i in range(n):\n"
        "        h = h * h % 2**32\n    return h\n"
    ),
    "square_mod_big_literal": (
        "def square_mod_big_literal(n):\n    h = 3\n    for i in range(n):\n"
        "        h = h * h % 4000000007\n    return h\n"
    ),
    "index_times_state_mod_2_32": (
        "def index_times_state_mod_2_32(n):\n    h = 3\n    for i in range(n):\n"
        "        h = (h * i + 1) % 2**32\n    return h\n"
    ),
    "global_rebound_in_function": (
        "SCALE = 2\n\n\n"
        "def global_rebound_in_function(x):\n    SCALE = 10**12\n    out = np.empty(len(x))\n"
        "    for i in range(len(x)):\n        out[i] = x[i] + SCALE * i\n    return out\n"
    ),
    "global_scale": (
        "SCALE = 10**12\n\n\n"
        "def global_scale(x):\n    out = np.empty(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = x[i] + SCALE * i\n    return out\n"
    ),
}

LEGAL = {
    "counter": (
        "def counter(x):\n    count = 0\n    for i in range(len(x)):\n        if x[i] > 0.5:\n"
        "            count += 1\n    return count\n"
    ),
    "float_sum": (
        "def float_sum(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n    return s\n"
    ),
    "index_sum": "def index_sum(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n",
    "ten_i": "def ten_i(n):\n    s = 0\n    for i in range(n):\n        s += 10 * i\n    return s\n",
    "modular_hash": (
        "def modular_hash(x):\n    h = 7\n    for i in range(len(x)):\n"
        "        h = (h * 31 + int(x[i])) % 1000003\n    return h\n"
    ),
    "modular_power_hash": (
        "def modular_power_hash(x):\n    h = 0\n    p = 1\n    for i in range(len(x)):\n"
        "        h = (h + int(x[i]) * p) % 1000000007\n        p = (p * 31) % 1000000007\n"
        "    return h\n"
    ),
    "modular_factorial": (
        "def modular_factorial(n):\n    h = 1\n    for i in range(1, n):\n"
        "        h = h * i % 1000000007\n    return h\n"
    ),
    "minstd": (
        "def minstd(n):\n    state = 1\n    s = 0.0\n    for i in range(n):\n"
        "        state = (48271 * state) % 2147483647\n        s += state / 2147483647\n    return s\n"
    ),
    "binary_search": (
        "def binary_search(x, vals):\n    out = np.empty(len(vals), dtype=np.int64)\n"
        "    for k in range(len(vals)):\n        lo = 0\n        hi = len(x)\n        while lo < hi:\n"
        "            mid = (lo + hi) // 2\n            if x[mid] < vals[k]:\n                lo = mid + 1\n"
        "            else:\n                hi = mid\n        out[k] = lo\n    return out\n"
    ),
    "enumerate_floats": (
        "def enumerate_floats(x, w):\n    s = 0.0\n    for i, v in enumerate(x):\n"
        "        s += v * w[i]\n    return s\n"
    ),
    "float_helper": (
        "def half(v):\n    return v * 0.5\n\n\n"
        "def float_helper(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += half(x[i])\n"
        "    return s\n"
    ),
    "small_global": (
        "WIDTH = 8\n\n\n"
        "def small_global(x):\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s += x[i] * (i % WIDTH)\n    return s\n"
    ),
    # constant expressions are folded exactly: `2**32` is 33 bits, not 2 * 32
    "lcg_mod_power_of_two": (
        "def lcg_mod_power_of_two(n):\n    state = 1\n    s = 0.0\n    for i in range(n):\n"
        "        state = (1664525 * state + 1013904223) % 2**32\n        s += state / 2**32\n"
        "    return s\n"
    ),
    "masked_hash": (
        "def masked_hash(x):\n    h = 5381\n    for i in range(len(x)):\n"
        "        h = (h * 33 + int(x[i])) & 0xFFFFFFFF\n    return h\n"
    ),
    "global_park_miller": (
        "M = 2**31 - 1\nG = 16807\n\n\n"
        "def global_park_miller(n):\n    state = 1\n    s = 0.0\n    for i in range(n):\n"
        "        state = (G * state) % M\n        s += state / M\n    return s\n"
    ),
    "tuple_swap_floats": (
        "def tuple_swap_floats(x):\n    a, b = 0.0, 1.0\n    for i in range(len(x)):\n"
        "        a, b = b, a + x[i]\n    return a + b\n"
    ),
}


@pytest.mark.parametrize("name", sorted(TRAPS))
def test_int64_overflow_trap_is_refused(name: str) -> None:
    found = by_function(TRAPS[name])[name]
    assert set(found) == {"GO490"}, found
    assert "int64" in found["GO490"]


@pytest.mark.parametrize("name", sorted(LEGAL))
def test_legal_int_arithmetic_is_still_jitted(name: str) -> None:
    found = by_function(LEGAL[name])[name]
    assert "GO401" in found and "GO490" not in found, found


# one input per family on which the interpreter's exact result exceeds int64 and the
# compiled function returns a different value without raising
WRAPS = [
    ("fib_tuple", (100,)),
    ("doubling", (70,)),
    ("four_i_squared", (2_000_000,)),
    ("enumerate_squares", (np.zeros(3_100_000),)),
    ("helper_square", (3_100_000,)),
    ("nanoseconds", (np.full(10, 1.7e9),)),
    ("global_lcg", (100,)),
]


@pytest.mark.parametrize(("name", "args"), WRAPS)
def test_trap_really_wraps(name: str, args: tuple) -> None:
    numba = pytest.importorskip("numba")
    namespace: dict = {}
    exec(compile(HEADER + TRAPS[name], f"{name}.py", "exec"), namespace)
    interpreted = namespace[name](*args)
    for helper in ("square", "cube"):  # what the jit pass decorates along with the caller
        if helper in namespace:
            namespace[helper] = numba.njit(namespace[helper])
    compiled = numba.njit(namespace[name])(*args)
    assert interpreted != compiled


# --- converse: NumPy's NEP 50 promotion wraps where Numba's int64 accumulator does not


def _int_total(x: np.ndarray):
    s = 0
    for i in range(len(x)):
        s += x[i]
    return s


@pytest.mark.parametrize(
    ("dtype", "values"),
    [(np.int32, [2**31 - 1] * 4), (np.uint8, [200, 200]), (np.uint64, [2**63 + 7, 3])],
)
def test_narrow_or_unsigned_int_accumulation_differs_compiled(dtype, values) -> None:
    """`s = 0; s += x[i]` keeps x's dtype in the interpreter (NEP 50: int32 wraps at
    2**31, uint8 at 256, uint64 is unsigned) and accumulates in int64 compiled: the
    jit pass offers GO401 for it, and docs/passes.md states it next to the float32
    analogue: the interpreted original wraps, which is the original's own bug."""
    numba = pytest.importorskip("numba")
    total = (
        "def total(x):\n    s = 0\n    for i in range(len(x)):\n        s += x[i]\n    return s\n"
    )
    assert "GO401" in by_function(total)["total"]
    x = np.array(values, dtype=dtype)
    with np.errstate(over="ignore"):  # the interpreted sum wraps, which is the point
        interpreted = int(_int_total(x))
    assert interpreted != int(numba.njit(_int_total)(x))


def test_constant_folding_never_computes_huge_powers() -> None:
    """`fold_int` reads constants without evaluating code: a power or shift past its
    bit limit is left unfolded (None) instead of being computed."""
    import libcst as cst

    from greenopt.passes.int_overflow import fold_int

    assert fold_int(cst.parse_expression("2**61 - 1")) == 2**61 - 1
    assert fold_int(cst.parse_expression("A // 2 + B"), {"A": 10, "B": 1}) == 6
    assert fold_int(cst.parse_expression("9**9**9**9")) is None
    assert fold_int(cst.parse_expression("1 << 10**9")) is None
    assert fold_int(cst.parse_expression("7 % 0")) is None
    assert fold_int(cst.parse_expression("n * 2")) is None
