"""Predicted energy ratios of opportunities, from the shipped cost model when there is one.

`greenopt.models.predict.load_model()` is loaded at most once per process (the
model is read-only and loading it for every file would dominate the run). When
the model package is missing or cannot load, every prediction is None with
source "none": analyze never invents a number.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from greenopt.passes.base import Opportunity


@dataclass(frozen=True)
class PredictedRatio:
    """Predicted E_rewritten / E_original of a function with an interval (10%-90%)."""

    ratio: float | None
    lo: float | None
    hi: float | None
    source: str  # "model" | "baseline" | "none"


NO_PREDICTION = PredictedRatio(None, None, None, "none")


@dataclass(frozen=True)
class Predictor:
    """Wraps the cost model (or its absence, with the reason) for per-opportunity predictions."""

    model: Any | None
    unavailable_reason: str | None

    def features(self, function_code: str, function: str) -> dict[str, float] | None:
        """The model's features of `function` from the profile its predictions reuse
        (so a function is profiled once), or None without a model or on failure."""
        shared = getattr(self.model, "function_features", None)
        if shared is None:
            return None
        try:
            return {str(k): float(v) for k, v in shared(function_code, function).items()}
        except Exception:  # the caller falls back to its own extractor
            return None

    def predict(self, function_code: str, opportunity: Opportunity) -> PredictedRatio:
        """The model's prediction for `opportunity` inside `function_code`, or NO_PREDICTION."""
        if self.model is None:
            return NO_PREDICTION
        try:
            p = self.model.predict_opportunity(function_code, opportunity)
            ratio, lo, hi = float(p.ratio), float(p.lo), float(p.hi)
        except Exception:  # a model failure on one function must not fail the file
            return NO_PREDICTION
        if not all(math.isfinite(v) for v in (ratio, lo, hi)):
            return NO_PREDICTION
        return PredictedRatio(ratio, lo, hi, str(p.source))


@functools.lru_cache(maxsize=4)
def load_predictor(model_path: str | None = None, enabled: bool = True) -> Predictor:
    """The cost model for this process (cached per path: it is immutable once loaded)."""
    if not enabled:
        return Predictor(None, "predictions disabled")
    from greenopt.optimizer.predictions import load_cost_model

    model, reason = load_cost_model(model_path)
    return Predictor(model, reason)
