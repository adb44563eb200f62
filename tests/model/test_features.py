"""Static features: deterministic, symbolic trip counts, sensible orderings."""

from __future__ import annotations

import math

import pytest

from greenopt.models.features import (
    CANDIDATE_FEATURE_NAMES,
    DEFAULT_TRIP,
    FEATURE_NAMES,
    candidate_features,
    feature_vector,
    function_features,
    profile_code,
)

LOOP = """
import numpy as np

def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
"""

VECTOR = """
import numpy as np

def saxpy(a, x, y):
    return a * x + y
"""

JITTED = """
import numba
import numpy as np

@numba.njit(cache=True, parallel=True, fastmath=True)
def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in numba.prange(len(x)):
        out[i] = a * x[i] + y[i]
    return out
"""

SIZES = {
    "x": 1000,
    "x.shape[0]": 1000,
    "x.size": 1000,
    "y": 1000,
    "y.shape[0]": 1000,
    "y.size": 1000,
}


def raw(code: str, sizes=None, name=None) -> dict[str, float]:
    return profile_code(code, sizes, name).counts


def test_features_are_deterministic_and_complete() -> None:
    a = function_features(LOOP, SIZES)
    b = function_features(LOOP, dict(SIZES))
    assert a == b
    assert list(a) == list(FEATURE_NAMES)
    assert all(math.isfinite(v) for v in a.values())


def test_loop_scores_more_interpreted_work_than_its_vectorised_twin() -> None:
    loop, vec = function_features(LOOP, SIZES), function_features(VECTOR, SIZES)
    assert loop["interp_ops_w"] > vec["interp_ops_w"] + 5
    assert loop["interp_subscripts_w"] > vec["interp_subscripts_w"]
    assert vec["vec_ops_w"] > 0 and loop["vec_ops_w"] == 0
    assert vec["vectorised"] == 1.0 and loop["vectorised"] == 0.0
    assert vec["temporaries_w"] > 0  # a * x is a temporary inside a * x + y


SLICES = """
import numpy as np

def saxpy(a, x, y):
    out = np.empty_like(x)
    out[:len(x)] = a * x + y[:len(x)]
    return out
"""

GUARDED = """
import numpy as np

def saxpy(a, x, y):
    out = np.empty_like(x)
    if x.ndim == y.ndim == 1:
        out[:len(x)] = a * x + y[:len(x)]
    else:
        for i in range(len(x)):
            out[i] = a * x[i] + y[i]
    return out
"""


def test_the_fallback_loop_of_a_rank_guard_counts_as_never_run() -> None:
    """vectorize's `if x.ndim == y.ndim == 1: <slices> else: <the loop>` runs the slices
    for the arrays the loop was written for: it scores like the slices, not half a loop."""
    loop, vec = function_features(LOOP, SIZES), function_features(SLICES, SIZES)
    got = function_features(GUARDED, SIZES)
    assert got["loop_iters_w"] == vec["loop_iters_w"] < loop["loop_iters_w"]
    assert got["interp_ops_w"] < vec["interp_ops_w"] + 1 < loop["interp_ops_w"]
    assert got["vec_ops_w"] == vec["vec_ops_w"] > 0
    plain_if = GUARDED.replace("x.ndim == y.ndim == 1", "a > 0")  # not a guard: half each
    assert function_features(plain_if, SIZES)["loop_iters_w"] > got["loop_iters_w"]


def test_trip_counts_are_bound_to_sizes() -> None:
    small = raw(LOOP, {"x": 10, "x.size": 10})
    big = raw(LOOP, {"x": 1000, "x.size": 1000})
    assert small["loop_iters_w"] == 10
    assert big["loop_iters_w"] == 1000
    unknown = raw(LOOP)
    assert unknown["loop_iters_w"] == DEFAULT_TRIP


def test_shape_unpacking_and_triangular_nests() -> None:
    code = """
def tri(a):
    n, m = a.shape
    s = 0.0
    for i in range(n):
        for j in range(i):
            s += a[i, j]
    return s
"""
    counts = raw(code, {"a.shape[0]": 100, "a.shape[1]": 100, "a.size": 10000})
    # outer 100 + inner ~100 * 50
    assert counts["loop_iters_w"] == pytest.approx(100 + 100 * 50)
    assert counts["reductions_w"] == pytest.approx(100 * 50)


def test_execution_mode_from_decorators() -> None:
    feats = function_features(JITTED, SIZES)
    assert feats["mode_jit"] == feats["mode_parallel"] == feats["mode_fastmath"] == 1.0
    assert feats["uses_prange"] == 1.0
    assert feats["interp_ops_w"] == 0.0 and feats["compiled_ops_w"] > 0
    plain = function_features(LOOP, SIZES)
    assert plain["mode_jit"] == 0.0 and plain["compiled_ops_w"] == 0.0
    # GO403's spelling: a set of LLVM flags is fastmath too
    flagged = JITTED.replace("fastmath=True", 'fastmath={"arcp", "contract", "reassoc"}')
    assert function_features(flagged, SIZES)["mode_fastmath"] == 1.0
    empty = JITTED.replace("fastmath=True", "fastmath=set()")
    assert function_features(empty, SIZES)["mode_fastmath"] == 0.0


def test_float32_bytes_are_counted_separately() -> None:
    f32 = LOOP.replace("np.empty_like(x)", "np.empty_like(x, dtype=np.float32)")
    a, b = function_features(LOOP, SIZES), function_features(f32, SIZES)
    assert a["bytes_f64_w"] > 0 and a["bytes_f32_w"] == 0
    assert b["bytes_f32_w"] > 0 and b["bytes_f64_w"] == 0
    assert b["uses_float32"] == 1.0


def test_numpy_calls_by_kind() -> None:
    code = """
import numpy as np

def f(x):
    z = np.zeros(len(x))
    e = np.exp(x)
    s = e.sum()
    return np.dot(z, e) + s
"""
    c = raw(code, {"x": 100, "x.size": 100})
    assert c["np_allocation_w"] == 1 and c["np_elementwise_w"] == 1
    assert c["np_reduction_w"] == 1 and c["np_linalg_w"] == 1


def test_function_is_found_by_qualified_name() -> None:
    code = LOOP + VECTOR.replace("def saxpy", "def other")
    assert profile_code(code, None, "other").name == "other"
    assert profile_code(code, None, "Cls.saxpy").name == "saxpy"
    assert profile_code(code, None, "outer.<locals>.other").name == "other"


def test_candidate_features_are_original_delta_and_passes() -> None:
    orig, cand = function_features(LOOP, SIZES), function_features(VECTOR, SIZES)
    feats = candidate_features(orig, cand, ["vectorize"])
    assert list(feats) == list(CANDIDATE_FEATURE_NAMES)
    assert feats["delta_interp_ops_w"] == pytest.approx(cand["interp_ops_w"] - orig["interp_ops_w"])
    assert feats["pass_vectorize"] == 1.0 and feats["pass_jit"] == 0.0
    assert feats["roofline_log_ratio"] < 0  # the roofline expects a saving
    assert len(feature_vector(feats)) == len(CANDIDATE_FEATURE_NAMES)


def test_module_without_function_is_profiled_as_a_body() -> None:
    counts = raw("for i in range(10):\n    x = i * 2\n")
    assert counts["loop_iters_w"] == 10


NUMBA_SENSITIVE = """
import math

def kernel(a, x, h):
    n, m = a.shape
    count = 0
    total = 0.0
    for i in range(n):
        for j in range(m):
            total += a[i, j] / h
            count += 1
    for j in range(m):
        for i in range(n):
            x[i, j] = math.exp(a[i, j]) + a[i, j] ** 2 + a[i, j] ** 0.5
    return total, count
"""
SENSITIVE_SIZES = {"a.shape[0]": 10, "a.shape[1]": 20, "a.size": 200, "x.size": 200}


def test_counts_of_what_numba_variants_treat_differently() -> None:
    """Divisions, libm calls and fractional powers, strided accesses, float accumulations."""
    counts = raw(NUMBA_SENSITIVE, SENSITIVE_SIZES)
    assert counts["divisions_w"] == 200  # `/ h` in the first nest; `** 2` is no libm call
    assert counts["math_calls_w"] == 400  # math.exp and `** 0.5` in the second nest
    # in the second nest the `i` loop is innermost: 3 reads of a[i, j] + 1 store to x[i, j]
    assert counts["strided_w"] == 4 * 200
    assert counts["reductions_w"] == 400 and counts["float_reductions_w"] == 200  # not `count`


def test_contiguous_accesses_and_counters_are_not_flagged() -> None:
    code = (
        "def f(a):\n    c = 0\n    for i in range(len(a)):\n        c += a[i] > 0\n    return c\n"
    )
    counts = raw(code, {"a": 50, "a.size": 50})
    assert counts.get("strided_w", 0.0) == 0 and counts.get("float_reductions_w", 0.0) == 0
    assert counts["reductions_w"] == 50  # an accumulation, counted, but into an int counter
    assert raw("def f(a):\n    return a[()] + a[0, 1]\n").get("strided_w", 0.0) == 0


PARALLEL_STENCIL = """
import numba

@numba.njit(parallel=True)
def step(u, out, steps):
    for t in range(steps):
        for i in numba.prange(1, len(u) - 1):
            out[i] = 0.5 * (u[i - 1] + u[i + 1])
    return out
"""
PARALLEL_ROWS = """
import numba

@numba.njit(parallel=True)
def rowsum(a, out):
    for i in numba.prange(a.shape[0]):
        s = 0.0
        for j in range(a.shape[1]):
            s += a[i, j]
        out[i] = s
    return out
"""


def test_prange_work_is_counted_per_launch() -> None:
    """A `prange` nested in a time loop starts its threads once per step."""
    counts = raw(PARALLEL_STENCIL, {"u": 1002, "u.size": 1002, "out.size": 1002, "steps": 10})
    assert counts["par_launches_w"] == 10
    assert counts["par_iters_w"] == 10 * 1000
    assert counts["par_offset_loops"] == 1 and counts.get("par_nested_loops", 0.0) == 0
    feats = function_features(
        PARALLEL_STENCIL, {"u": 1002, "u.size": 1002, "out.size": 1002, "steps": 10}
    )
    per_launch = counts["par_ops_w"] / 10
    assert feats["par_ops_per_launch"] == pytest.approx(math.log1p(per_launch))
    assert per_launch > 1000  # several compiled ops per element


def test_prange_over_rows_with_an_inner_reduction() -> None:
    sizes = {"a.shape[0]": 40, "a.shape[1]": 30, "a.size": 1200, "out.size": 40}
    counts = raw(PARALLEL_ROWS, sizes)
    assert counts["par_launches_w"] == 1
    assert counts["par_iters_w"] == 40 + 40 * 30  # the prange's own and the inner loop's
    assert counts["par_float_reductions_w"] == 1200
    assert counts["par_nested_loops"] == 1 and counts.get("par_offset_loops", 0.0) == 0


def test_serial_code_has_no_parallel_counts() -> None:
    feats = function_features(LOOP, {"x": 100, "x.size": 100})
    assert all(feats[n] == 0.0 for n in FEATURE_NAMES if n.startswith("par_"))


def test_argument_sizes_follow_the_corpus_convention() -> None:
    """What `rewrite`'s trace records for the model, as `corpus` binds it for training."""
    import numpy as np

    from greenopt.models.features import argument_sizes

    assert argument_sizes("img", np.zeros((30, 40))) == {
        "img": 30,
        "img.shape[0]": 30,
        "img.shape[1]": 40,
        "img.size": 1200,
    }
    assert argument_sizes("xs", [1.0, 2.0, 3.0]) == {"xs": 3, "xs.size": 3}
    assert argument_sizes("steps", 25) == {"steps": 25}
    assert argument_sizes("flag", True) == {} and argument_sizes("h", 0.5) == {}
    assert argument_sizes("n", np.int64(12)) == {"n": 12}  # a numpy integer scalar
    assert argument_sizes("s", np.float64(2.0)) == {} and argument_sizes("x", None) == {}


def test_traced_sizes_bind_trip_counts() -> None:
    from greenopt.models.features import argument_sizes

    code = "def f(a, steps):\n    for t in range(steps):\n        for i in range(a.shape[1]):\n            a[0, i] += 1.0\n"
    sizes = {
        **argument_sizes("a", type("A", (), {"shape": (4, 50)})()),
        **argument_sizes("steps", 7),
    }
    assert raw(code, sizes)["loop_iters_w"] == 7 + 7 * 50
