"""A rough candidate built from an opportunity, without rewriting any code.

`check` and `analyze` want a predicted saving per finding but never apply passes.
This module edits the *profile* of the function (`greenopt.models.features`)
the way the pass would edit the code, so the cost model sees an approximate
candidate:

* `vectorize`: the loop nest at the site stops being interpreted; its per-iteration
  arithmetic becomes whole-array operations over the nest's iterations (one numpy
  call per math call, temporaries for nested operators);
* `jit`: all interpreted work becomes compiled work (`mode_jit`, plus `mode_parallel`
  / `mode_fastmath` for those variants); for `parallel` the outer loop of the nest
  at the site becomes the `prange` loop, entered once, holding the nest's work;
* `dtype-reduction`: float64 bytes become float32 bytes;
* `loop-fusion`: the nest at the site merges into the previous/next one (one loop
  and its iteration overhead less, one temporary less).

The site is matched to a nest by line (in the coordinates of the code given);
when none matches, the heaviest nest is used.
"""

from __future__ import annotations

from collections.abc import Mapping

from greenopt.models.features import FunctionProfile, LoopNest

#: counts that disappear from a nest that is vectorised (its element-wise scalar work,
#: including divisions, libm calls, strided accesses and accumulations, becomes array work)
INTERPRETED = (
    "interp_ops_w",
    "interp_subscripts_w",
    "interp_calls_w",
    "interp_branches_w",
    "compiled_ops_w",
    "loop_iters_w",
    "reductions_w",
    "float_reductions_w",
    "divisions_w",
    "math_calls_w",
    "strided_w",
)


def _nest_at(profile: FunctionProfile, line: int | None) -> LoopNest | None:
    """The top-level loop nest containing `line`, else the heaviest nest.

    `line` is in the coordinates of the profiled code: correct when the caller
    passes the whole module (as `check` can); for a function cut out of a file the
    site's line usually falls outside the snippet and the heaviest nest is used.
    """
    if not profile.nests:
        return None
    if line is not None:
        for nest in profile.nests:
            if nest.line <= line <= nest.end_line:
                return nest
    return max(
        profile.nests,
        key=lambda n: n.counts.get("interp_ops_w", 0.0) + n.counts.get("compiled_ops_w", 0.0),
    )


def _subtract(counts: dict[str, float], part: Mapping[str, float], keys: tuple[str, ...]) -> None:
    for k in keys:
        counts[k] = max(0.0, counts.get(k, 0.0) - part.get(k, 0.0))


def _add_prange(counts: dict[str, float], nest: LoopNest) -> None:
    """The `par_*` counts of `nest` run with its outer loop as a `prange` (entered once)."""
    work = nest.counts.get("interp_ops_w", 0.0) + nest.counts.get("compiled_ops_w", 0.0)
    additions = {
        "par_launches_w": 1.0,
        "par_ops_w": work,
        "par_iters_w": nest.counts.get("loop_iters_w", 0.0),
        "par_float_reductions_w": nest.counts.get("float_reductions_w", 0.0),
        "par_offset_loops": 1.0 if nest.outer_offsets else 0.0,
        "par_nested_loops": 1.0 if nest.depth > 1 else 0.0,
    }
    for key, value in additions.items():
        counts[key] = counts.get(key, 0.0) + value


def approximate(
    profile: FunctionProfile,
    pass_name: str,
    line: int | None = None,
    data: Mapping[str, object] | None = None,
) -> FunctionProfile:
    """The profile of the function after `pass_name` rewrote the site at `line` (approx.).

    `data` is the opportunity's pass-private data; for `jit` its `variant`
    ("plain" / "parallel" / "fastmath") sets the execution-mode flags.
    """
    counts = dict(profile.counts)
    flags = dict(profile.flags)
    nest = _nest_at(profile, line)
    if pass_name == "vectorize" and nest is not None:
        iters = max(nest.trip_product, 1.0)
        per_iter_ops = nest.counts.get("interp_ops_w", 0.0) / iters
        per_iter_calls = nest.counts.get("interp_calls_w", 0.0) / iters
        array_ops = max(1.0, per_iter_ops / 4.0)  # ~4 interpreted ops per arithmetic operator
        _subtract(counts, nest.counts, INTERPRETED)
        counts["n_loops"] = max(0.0, counts.get("n_loops", 0.0) - nest.counts.get("n_loops", 0.0))
        counts["vec_ops_w"] = counts.get("vec_ops_w", 0.0) + array_ops
        counts["vec_elems_w"] = counts.get("vec_elems_w", 0.0) + array_ops * iters
        counts["np_calls_w"] = counts.get("np_calls_w", 0.0) + per_iter_calls + 1.0
        counts["np_elementwise_w"] = counts.get("np_elementwise_w", 0.0) + per_iter_calls
        counts["np_elems_w"] = counts.get("np_elems_w", 0.0) + (per_iter_calls + 1.0) * iters
        counts["temporaries_w"] = counts.get("temporaries_w", 0.0) + max(0.0, array_ops - 1.0)
        if counts["n_loops"] == 0:
            flags["vectorised"] = 1.0
        flags["max_depth"] = max(
            0.0, flags.get("max_depth", 0.0) - (nest.depth if counts["n_loops"] == 0 else 0)
        )
    elif pass_name == "jit":
        moved = sum(counts.get(k, 0.0) for k in ("interp_ops_w",))
        for k in ("interp_ops_w", "interp_subscripts_w", "interp_calls_w", "interp_branches_w"):
            counts[k] = 0.0
        counts["compiled_ops_w"] = counts.get("compiled_ops_w", 0.0) + moved
        flags["mode_jit"] = 1.0
        variant = (data or {}).get("variant")
        if variant == "parallel":
            flags["mode_parallel"] = 1.0
            flags["uses_prange"] = 1.0
            if nest is not None:
                _add_prange(counts, nest)
        elif variant == "fastmath":
            flags["mode_fastmath"] = 1.0
    elif pass_name == "dtype-reduction":
        counts["bytes_f32_w"] = (
            counts.get("bytes_f32_w", 0.0) + counts.get("bytes_f64_w", 0.0) / 2.0
        )
        counts["bytes_f64_w"] = 0.0
        counts["temp_bytes_w"] = counts.get("temp_bytes_w", 0.0) / 2.0
        flags["uses_float32"] = 1.0
    elif pass_name == "loop-fusion":
        if nest is not None and len(profile.nests) >= 2:
            counts["n_loops"] = max(0.0, counts.get("n_loops", 0.0) - 1.0)
            counts["loop_iters_w"] = max(0.0, counts.get("loop_iters_w", 0.0) - nest.trip_product)
            ops = counts.get("interp_ops_w", 0.0)
            counts["interp_ops_w"] = max(0.0, ops - nest.trip_product)
        if counts.get("temporaries_w", 0.0) >= 1.0:
            counts["temporaries_w"] -= 1.0
            counts["vec_ops_w"] = max(0.0, counts.get("vec_ops_w", 0.0) - 1.0)
    return FunctionProfile(
        name=profile.name, counts=counts, flags=flags, nests=[], first_line=profile.first_line
    )
