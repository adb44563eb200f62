"""Static features of one function for the analysis tables.

The cost model's `greenopt.models.features.function_features` is used when that
module is installed (source "models.features"); otherwise the screening counts
are the features (source "screening"). Both are computed with the stdlib `ast`
only: nothing is imported or executed from the analysed code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from greenopt.batch.screening import FunctionSketch

FeatureFunction = Callable[[str], dict[str, float]]


@dataclass(frozen=True)
class FeatureExtractor:
    """Computes a function's feature dict; `source` names where the features come from."""

    function_features: FeatureFunction | None
    source: str

    def features(self, sketch: FunctionSketch, function_code: str) -> tuple[dict[str, float], str]:
        """Features of one function and their source; falls back to screening counts on failure."""
        if self.function_features is not None:
            try:
                values = self.function_features(function_code)
                return {str(k): float(v) for k, v in values.items()}, self.source
            except (SyntaxError, ValueError, TypeError, RecursionError):
                pass
        return screening_features(sketch), "screening"


def screening_features(sketch: FunctionSketch) -> dict[str, float]:
    """The screening counts of a function as a feature dict."""
    return {
        "n_lines": float(sketch.n_lines),
        "n_statements": float(sketch.n_statements),
        "n_loops": float(sketch.n_loops),
        "max_loop_depth": float(sketch.max_loop_depth),
        "n_comprehensions": float(sketch.n_comprehensions),
        "n_calls": float(sketch.n_calls),
        "n_numpy_calls": float(sketch.n_numpy_calls),
    }


def load_feature_extractor() -> FeatureExtractor:
    """The cost model's feature function when available, else the screening fallback."""
    try:
        module = importlib.import_module("greenopt.models.features")
        function = module.function_features
    except (ImportError, AttributeError):
        return FeatureExtractor(function_features=None, source="screening")
    return FeatureExtractor(function_features=function, source="models.features")
