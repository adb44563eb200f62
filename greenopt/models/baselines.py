"""Baseline predictors the learned model must beat (DESIGN §6, issue 6).

* **no change**: every candidate costs what the original costs (ratio 1);
* **roofline**: an analytic time model of the static counts. Energy on one core is
  close to proportional to busy time, so the predicted energy ratio is the ratio
  of the estimated times of candidate and original::

      T = c_interp * interpreted ops + c_sub * interpreted subscripts
        + c_call * interpreted calls + c_comp * compiled ops
        + c_np * numpy calls + c_vec * whole-array operations
        + c_elem * elements processed by numpy + bytes touched / bandwidth

  with constants typical of CPython 3.11+ on a current x86 core (documented in
  docs/model.md). JIT compile time is not included: the measured ratio is warm.

Both work on the log1p-scaled features of `greenopt.models.features` (they undo
the scaling), so they can be evaluated on the exported training table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: seconds per unit of each raw count (see module docstring)
ROOFLINE_COSTS: dict[str, float] = {
    "interp_ops_w": 35e-9,
    "interp_subscripts_w": 60e-9,
    "interp_calls_w": 120e-9,
    "compiled_ops_w": 0.8e-9,
    "np_calls_w": 1.5e-6,
    "vec_ops_w": 1.0e-6,
    "np_elems_w": 1.0e-9,
    "vec_elems_w": 1.0e-9,
}
#: sustained bytes per second for memory traffic (one core, streaming)
ROOFLINE_BANDWIDTH = 8e9
#: fixed per-call overhead of entering a Python function (seconds)
CALL_OVERHEAD_S = 1e-6


def roofline_time(features: Mapping[str, float], prefix: str = "") -> float:
    """Estimated seconds of one call from log1p-scaled features (keys with `prefix`)."""

    def raw(name: str) -> float:
        return math.expm1(max(0.0, float(features.get(prefix + name, 0.0))))

    total = CALL_OVERHEAD_S
    for name, cost in ROOFLINE_COSTS.items():
        total += cost * raw(name)
    total += (raw("bytes_f64_w") + raw("bytes_f32_w")) / ROOFLINE_BANDWIDTH
    return total


def candidate_raw_features(candidate_features: Mapping[str, float]) -> dict[str, float]:
    """The candidate's own scaled features from a candidate feature dict (orig + delta)."""
    out: dict[str, float] = {}
    for key, value in candidate_features.items():
        if key.startswith("orig_"):
            name = key[len("orig_") :]
            out[name] = float(value) + float(candidate_features.get(f"delta_{name}", 0.0))
    return out


def roofline_log_ratio(candidate_features: Mapping[str, float]) -> float:
    """log(T_candidate / T_original) of the roofline model for a candidate feature dict."""
    t_orig = roofline_time(candidate_features, prefix="orig_")
    t_cand = roofline_time(candidate_raw_features(candidate_features))
    return math.log(t_cand / t_orig)


def no_change_log_ratio(candidate_features: Mapping[str, float]) -> float:
    """The no-change baseline: log ratio 0 for every candidate."""
    return 0.0
