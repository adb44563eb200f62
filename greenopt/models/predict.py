"""Predicted energy ratios for candidates and opportunities (the shipped cost model).

Imports without scikit-learn (only numpy and the stdlib) and never unpickles: the
shipped model is a JSON document of boosted trees (`greenopt.models.trees`)
written by `greenopt train` to `greenopt/models/data/cost_model.json`. Which
predictor answers is decided per pass combination by the document's `policy`
(the learned model only where it beat the baselines in cross-validation), and
is reported in `Prediction.source`: "model", or "baseline" (roofline or no-change;
also when no model is shipped or the features lie far outside the training range).
"""

from __future__ import annotations

import ast
import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenopt.errors import InputError
from greenopt.models.baselines import roofline_log_ratio
from greenopt.models.delta import approximate
from greenopt.models.features import (
    CANDIDATE_FEATURE_NAMES,
    FunctionIndex,
    FunctionProfile,
    candidate_features,
    profile_code,
    profile_function,
)

if TYPE_CHECKING:
    from greenopt.models.trees import Ensemble
    from greenopt.passes.base import Opportunity

#: the shipped model document
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "cost_model.json"
#: format tag accepted by `load_model`
MODEL_FORMAT = "greenopt-cost-model"
#: model document version this greenopt reads (written by `greenopt train`)
MODEL_VERSION = 1
#: predictors a policy may name
POLICY_CHOICES = ("model", "roofline", "no-change")
#: interval (log units) around a baseline prediction when no cross-validated residuals exist
DEFAULT_SPREAD_LOG = (-0.7, 0.7)
#: how far (log units) beyond the training range a feature may lie before the model abstains
RANGE_SLACK = 1.5
#: profiles kept per model before the caches are emptied (bounds memory on long batch runs)
PROFILE_CACHE_SIZE = 256
#: model predictions kept per model, by feature vector, before that cache is emptied
PREDICTION_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Prediction:
    """Predicted E_variant / E_original with an 80% interval and who predicted it."""

    ratio: float  # point estimate
    lo: float  # 10% quantile
    hi: float  # 90% quantile
    source: str  # "model" | "baseline"

    @property
    def saving(self) -> float:
        """Predicted fraction of energy saved (negative when the variant costs more)."""
        return 1.0 - self.ratio


def _pass_key(passes: Sequence[str]) -> str:
    return "+".join(sorted(passes)) or "none"


def _parse_function(code: str) -> str:
    """`code` dedented, so a method's source parses on its own."""
    return textwrap.dedent(code)


class CostModel:
    """Predicts energy ratios from static features; see the module docstring.

    Built by `load_model`; `document` is None when no model is shipped, in which case
    every prediction is the roofline baseline.
    """

    def __init__(self, document: Mapping[str, Any] | None = None, path: str | None = None) -> None:
        self.document = document
        self.path = path
        self._ensembles: dict[str, Ensemble] | None = None
        # (code, function) -> profile: `check` asks about many findings of one module
        self._profiles: dict[tuple[str, str | None], FunctionProfile] = {}
        # code -> its functions by name (one parse and one walk per module, not per finding)
        self._indexes: dict[str, FunctionIndex] = {}
        # feature vector -> the model's prediction (equal vectors walk the trees alike)
        self._by_vector: dict[tuple[float, ...], Prediction] = {}

    # -- model parts ---------------------------------------------------------
    @property
    def available(self) -> bool:
        """True when a fitted model is loaded."""
        return self.document is not None

    def _models(self) -> dict[str, Ensemble]:
        """The ensembles, rebuilt from JSON on first use."""
        if self._ensembles is None:
            from greenopt.models.trees import Ensemble

            assert self.document is not None
            try:
                self._ensembles = {
                    name: Ensemble.from_dict(data) for name, data in self.document["models"].items()
                }
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{self.path}: malformed cost model: {exc}") from None
        return self._ensembles

    def _choice(self, passes: Sequence[str]) -> str:
        if self.document is None:
            return "roofline"
        policy = self.document.get("policy", {})
        return str(
            policy.get("by_passes", {}).get(_pass_key(passes), policy.get("default", "model"))
        )

    def _in_range(self, vector: Sequence[float]) -> bool:
        assert self.document is not None
        ranges = self.document.get("feature_ranges")
        if not ranges:
            return True
        for v, lo, hi in zip(vector, ranges["min"], ranges["max"], strict=True):
            if v < lo - RANGE_SLACK or v > hi + RANGE_SLACK:
                return False
        return True

    def _spread(self, name: str, passes: Sequence[str]) -> tuple[float, float]:
        """Cross-validated 10%–90% residual quantiles of predictor `name` (log units):
        those of `passes`' rows where the model has them, else those of every row."""
        doc = self.document or {}
        residuals = doc.get("residuals_by_passes", {}).get(_pass_key(passes), {}).get(name)
        if not residuals:
            residuals = doc.get("residuals", {}).get(name)
        if residuals and len(residuals) == 2:
            return float(residuals[0]), float(residuals[1])
        return DEFAULT_SPREAD_LOG

    # -- predictions -----------------------------------------------------------
    def predict_features(self, features: Mapping[str, float], passes: Sequence[str]) -> Prediction:
        """Prediction from a candidate feature dict (`features.candidate_features`)."""
        names = (
            list(self.document.get("feature_names", CANDIDATE_FEATURE_NAMES))
            if self.document is not None
            else list(CANDIDATE_FEATURE_NAMES)
        )
        vector = [float(features.get(n, 0.0)) for n in names]
        choice = self._choice(passes)
        if choice == "model" and self.document is not None and self._in_range(vector):
            # identical functions give identical vectors: walk the trees once per vector
            key = tuple(vector)
            cached = self._by_vector.get(key)
            if cached is not None:
                return cached
            models = self._models()
            point = models["point"].predict_one(vector)
            lo = models["q10"].predict_one(vector) if "q10" in models else point
            hi = models["q90"].predict_one(vector) if "q90" in models else point
            lo, mid, hi = sorted((lo, point, hi))
            prediction = Prediction(math.exp(mid), math.exp(lo), math.exp(hi), "model")
            if len(self._by_vector) >= PREDICTION_CACHE_SIZE:
                self._by_vector.clear()
            self._by_vector[key] = prediction
            return prediction
        if choice == "no-change":
            center = 0.0
            spread = self._spread("no-change", passes)
        else:
            center = roofline_log_ratio(features)
            spread = self._spread("roofline", passes)
        lo, hi = center + min(spread[0], 0.0), center + max(spread[1], 0.0)
        return Prediction(math.exp(center), math.exp(lo), math.exp(hi), "baseline")

    def predict_candidate(
        self,
        original_code: str,
        candidate_code: str,
        function: str,
        passes: Sequence[str],
        sizes: Mapping[str, int] | None = None,
    ) -> Prediction:
        """Predicted E_candidate / E_original of `function` in two versions of a module.

        `original_code` / `candidate_code` may be whole modules or just the function;
        `function` is its qualified name; `sizes` binds parameter sizes when known.
        """
        try:
            original = profile_code(_parse_function(original_code), sizes, function)
            candidate = profile_code(_parse_function(candidate_code), sizes, function)
        except SyntaxError as exc:
            raise InputError(f"cannot predict for {function}: syntax error: {exc.msg}") from None
        feats = candidate_features(original.features(), candidate.features(), passes)
        return self.predict_features(feats, passes)

    def predict_opportunity(self, function_code: str, opportunity: Opportunity) -> Prediction:
        """Predicted ratio if `opportunity` alone were applied to its function.

        `function_code` is the enclosing function's source (or the whole module);
        the candidate is approximated from the opportunity's pass and site.
        """
        try:
            profile = self._profile(function_code, opportunity.site.function)
        except SyntaxError as exc:
            raise InputError(
                f"cannot predict for {opportunity.site.function}: syntax error: {exc.msg}"
            ) from None
        variant = approximate(
            profile, opportunity.pass_name, opportunity.site.line, opportunity.data
        )
        passes = [opportunity.pass_name]
        feats = candidate_features(profile.features(), variant.features(), passes)
        return self.predict_features(feats, passes)

    def predict_opportunities(
        self,
        code: str,
        opportunities: Sequence[Opportunity],
        tree: ast.Module | None = None,
    ) -> list[Prediction | InputError]:
        """`predict_opportunity(code, o)` for each of `opportunities` of one module.

        `tree` may be the caller's `ast.parse` of exactly `code` (`SourceModule.ast_module()`):
        it is then reused instead of parsing the module again. Each answer is the
        prediction, or the InputError `predict_opportunity` would raise for that
        finding, so one bad finding never hides the others' predictions.
        """
        if tree is not None:
            self._seed_index(code, tree)
        out: list[Prediction | InputError] = []
        for opportunity in opportunities:
            try:
                out.append(self.predict_opportunity(code, opportunity))
            except InputError as exc:
                out.append(exc)
        return out

    def _seed_index(self, code: str, tree: ast.Module) -> None:
        """Index `tree` as the parse of `code` when it is exactly what `_index` would parse.

        `_index` parses `textwrap.dedent(code)`; a text that dedenting changes, or that
        starts with a byte-order mark (which `ast.parse` refuses, while the caller's
        tree was parsed without it), is left to `_index`, so answers never depend on
        whether a tree was passed.
        """
        if code in self._indexes or code.startswith("\ufeff"):
            return
        if _parse_function(code) != code:
            return
        self._remember_index(code, FunctionIndex.of(tree))

    def _index(self, code: str) -> FunctionIndex:
        """The functions of `code` (dedented) by name, parsed and walked once per code."""
        index = self._indexes.get(code)
        if index is None:
            index = FunctionIndex.of(ast.parse(_parse_function(code)))
            self._remember_index(code, index)
        return index

    def _remember_index(self, code: str, index: FunctionIndex) -> None:
        if len(self._indexes) >= PROFILE_CACHE_SIZE:
            self._indexes.clear()
        self._indexes[code] = index

    def function_features(self, code: str, function: str | None = None) -> dict[str, float]:
        """The unsized features of `function` in `code`, from the profile that
        `predict_opportunity` caches: a caller that wants both computes it once."""
        return self._profile(code, function).features()

    def _profile(self, code: str, function: str | None) -> FunctionProfile:
        """The (unsized) profile of `function` in `code`, parsed once per code and function.

        Profiles are never mutated (`approximate` copies), so sharing them is safe.
        """
        key = (code, function)
        profile = self._profiles.get(key)
        if profile is None:
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                self._profiles.clear()
            node = self._index(code).find(function)
            if node is None:  # not a function of this code: profile it as a whole
                profile = profile_code(_parse_function(code), None, function)
            else:
                profile = profile_function(node, None)
            self._profiles[key] = profile
        return profile

    def info(self) -> dict[str, Any]:
        """What is loaded: path, training summary, policy and cross-validated figures."""
        if self.document is None:
            return {"path": self.path, "available": False, "source": "baseline (roofline)"}
        doc = self.document
        return {
            "path": self.path,
            "available": True,
            "version": doc.get("version"),
            "training": doc.get("training", {}),
            "policy": doc.get("policy", {}),
            "cv": doc.get("cv", {}),
            "n_trees": {
                name: len(m.get("offsets", m.get("trees", [])))
                for name, m in doc.get("models", {}).items()
            },
        }


def load_model(path: str | None = None) -> CostModel:
    """The shipped model (default) or the model document at `path`.

    Without a shipped model the result predicts with the roofline baseline
    (`source="baseline"`); an explicit `path` that is missing or malformed is an
    InputError.
    """
    target = Path(path) if path is not None else DEFAULT_MODEL_PATH
    if not target.exists():
        if path is not None:
            raise InputError(f"{target}: no such cost model")
        return CostModel(None, None)
    try:
        document = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{target}: cannot read cost model: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        raise InputError(f"{target}: not a greenopt cost model")
    problem = _document_problem(document)
    if problem is not None:
        raise InputError(f"{target}: {problem}")
    model = CostModel(document, str(target))
    model._models()  # build (and so validate) the trees now, not as silent non-predictions
    return model


def _document_problem(doc: Mapping[str, Any]) -> str | None:
    """Why `doc` (a cost model document) cannot be used, or None when it can.

    Checked at load time because prediction failures are swallowed per finding: a
    broken model would otherwise silently predict nothing.
    """
    version = doc.get("version")
    if type(version) is not int:
        return f"malformed cost model: 'version' must be an integer, not {version!r}"
    if version != MODEL_VERSION:
        return (
            f"unsupported cost model version {version} (this greenopt reads version "
            f"{MODEL_VERSION}; retrain it with `greenopt train`)"
        )
    for key in ("models", "feature_names"):
        if key not in doc:
            return f"malformed cost model: missing {key!r}"
    names = doc["feature_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return "malformed cost model: 'feature_names' must be a list of strings"
    if names != list(CANDIDATE_FEATURE_NAMES):
        return (
            f"cost model features do not match this greenopt's ({len(names)} names, expected "
            f"{len(CANDIDATE_FEATURE_NAMES)}; retrain it with `greenopt train`)"
        )
    models = doc["models"]
    if not isinstance(models, dict) or "point" not in models:
        return "malformed cost model: 'models' must be an object with a 'point' model"
    for name, data in models.items():
        if not isinstance(data, dict) or data.get("n_features") != len(names):
            return f"malformed cost model: model {name!r} does not take {len(names)} features"
    for key in ("policy", "residuals", "residuals_by_passes", "feature_ranges", "training", "cv"):
        if key in doc and not isinstance(doc[key], dict):
            return f"malformed cost model: {key!r} must be an object"
    policy = doc.get("policy", {})
    by_passes = policy.get("by_passes", {})
    if not isinstance(by_passes, dict) or not all(
        c in POLICY_CHOICES for c in (policy.get("default", "model"), *by_passes.values())
    ):
        return f"malformed cost model: 'policy' may only choose {', '.join(POLICY_CHOICES)}"
    ranges = doc.get("feature_ranges", {})
    if ranges and not all(
        isinstance(ranges.get(k), list)
        and len(ranges[k]) == len(names)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in ranges[k])
        for k in ("min", "max")
    ):
        return f"malformed cost model: 'feature_ranges' needs min and max of {len(names)} numbers"
    spreads = [(name, spread) for name, spread in doc.get("residuals", {}).items()]
    for key, by_name in doc.get("residuals_by_passes", {}).items():
        if not isinstance(by_name, dict):
            return f"malformed cost model: residuals of passes {key!r} must be an object"
        spreads += [(f"{name} ({key})", spread) for name, spread in by_name.items()]
    for name, spread in spreads:
        if not (
            isinstance(spread, list)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in spread)
        ):
            return f"malformed cost model: residuals of {name!r} must be a list of numbers"
    return None
