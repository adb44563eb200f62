"""Approximate candidates from opportunities move work the way the pass would."""

from __future__ import annotations

from greenopt.models.delta import approximate
from greenopt.models.features import profile_code

TWO_NESTS = """
import numpy as np

def f(x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = x[i] * 2.0
    total = 0.0
    for i in range(len(y)):
        for j in range(3):
            total += y[i] * j
    return out, total
"""
SIZES = {"x": 1000, "x.size": 1000, "y": 500, "y.size": 500}


def test_vectorize_removes_the_nest_at_the_site_only() -> None:
    prof = profile_code(TWO_NESTS, SIZES)
    assert len(prof.nests) == 2
    first = approximate(prof, "vectorize", line=6)  # the first loop (file line == snippet line)
    assert first.counts["n_loops"] == prof.counts["n_loops"] - 1
    assert first.counts["loop_iters_w"] == prof.counts["loop_iters_w"] - 1000
    assert first.counts["vec_elems_w"] > prof.counts.get("vec_elems_w", 0.0)
    second = approximate(prof, "vectorize", line=9)
    assert second.counts["n_loops"] == prof.counts["n_loops"] - 2
    assert second.counts["interp_ops_w"] < first.counts["interp_ops_w"]


def test_unknown_sites_use_the_heaviest_nest() -> None:
    prof = profile_code(TWO_NESTS, SIZES)
    outside = approximate(prof, "vectorize", line=400)
    assert outside.counts["n_loops"] == prof.counts["n_loops"] - 2
    heaviest = approximate(prof, "vectorize", line=None)
    assert heaviest.counts["n_loops"] == prof.counts["n_loops"] - 2  # the 2-deep nest is heavier


def test_jit_dtype_and_fusion_deltas() -> None:
    prof = profile_code(TWO_NESTS, SIZES)
    jit = approximate(prof, "jit", data={"variant": "fastmath"})
    assert jit.counts["interp_ops_w"] == 0 and jit.counts["compiled_ops_w"] > 0
    assert jit.flags["mode_jit"] == jit.flags["mode_fastmath"] == 1.0
    dtype = approximate(prof, "dtype-reduction")
    assert dtype.counts["bytes_f64_w"] == 0 and dtype.counts["bytes_f32_w"] > 0
    fused = approximate(prof, "loop-fusion", line=9)
    assert fused.counts["n_loops"] == prof.counts["n_loops"] - 1
    assert fused.counts["loop_iters_w"] < prof.counts["loop_iters_w"]
    # the original profile is never modified
    assert prof.counts == profile_code(TWO_NESTS, SIZES).counts


def test_vectorize_turns_element_divisions_and_libm_calls_into_array_work() -> None:
    code = (
        "import math\n\ndef f(x, h):\n    out = x.copy()\n    for i in range(len(x)):\n"
        "        out[i] = math.sqrt(x[i]) / h\n    return out\n"
    )
    prof = profile_code(code, {"x": 100, "x.size": 100})
    assert prof.counts["divisions_w"] == prof.counts["math_calls_w"] == 100
    vec = approximate(prof, "vectorize", line=5)
    assert vec.counts["divisions_w"] == vec.counts["math_calls_w"] == 0
    jit = approximate(prof, "jit", data={"variant": "fastmath"})
    assert jit.counts["divisions_w"] == 100  # compiled, the divisions are still there


def test_parallel_variant_runs_the_nest_as_one_prange() -> None:
    """The rough parallel candidate gets the `par_*` counts of its nest, entered once."""
    stencil = (
        "def f(u, out):\n    for i in range(1, len(u) - 1):\n"
        "        out[i] = 0.5 * (u[i - 1] + u[i + 1])\n    return out\n"
    )
    prof = profile_code(stencil, {"u": 102, "u.size": 102, "out.size": 102})
    par = approximate(prof, "jit", data={"variant": "parallel"})
    assert par.counts["par_launches_w"] == 1.0
    assert par.counts["par_iters_w"] == 100
    assert par.counts["par_ops_w"] == prof.nests[0].counts["interp_ops_w"]
    assert par.counts["par_offset_loops"] == 1.0 and par.counts["par_nested_loops"] == 0.0
    assert par.features()["par_ops_per_launch"] > 0
    nested = approximate(profile_code(TWO_NESTS, SIZES), "jit", data={"variant": "parallel"})
    assert nested.counts["par_nested_loops"] == 1.0  # the heaviest nest is 2 deep
    assert nested.counts["par_offset_loops"] == 0.0
    fast = approximate(prof, "jit", data={"variant": "fastmath"})
    assert not any(k.startswith("par_") for k in fast.counts)
