"""Fitting and cross-validating the cost model from a training table (needs scikit-learn).

`HistGradientBoostingRegressor`s on the candidate feature vector predict
log(E_candidate / E_original): squared error for the point estimate (ten of them
on bootstrap resamples of the kernels, averaged), quantile loss at 0.1 and 0.9
for the interval. They are evaluated with GroupKFold by
kernel family (a family is never in both the training and the test fold), next to
the two baselines (no change, roofline). The model is kept only where it beats
them: per pass combination, the predictor with the lowest cross-validated mean
absolute log error is chosen (`policy`); predictions then say which one answered
(`Prediction.source`). The result is one JSON document (trees as data, no pickle)
that `greenopt.models.predict` evaluates without scikit-learn.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from greenopt.errors import InputError
from greenopt.models.baselines import roofline_log_ratio
from greenopt.models.evaluation import bootstrap_intervals, mean_abs_log_error, ranking_metrics
from greenopt.models.features import CANDIDATE_FEATURE_NAMES, candidate_features, function_features
from greenopt.models.predict import MODEL_FORMAT, MODEL_VERSION
from greenopt.models.table import (
    TrainingRow,
    TrainingTable,
    csv_text,
    stage_text,
    table_json_text,
    write_text_atomic,
)
from greenopt.models.trees import Ensemble, averaged, from_sklearn

#: hyper-parameters of the boosted trees (small data: shallow trees, strong shrinkage)
HGB_PARAMS: dict[str, Any] = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 4,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
#: quantiles of the interval
QUANTILES = (0.1, 0.9)
#: pass combinations with fewer cross-validated samples than this use the global choice
MIN_POLICY_SAMPLES = 8
#: features are rounded to this many decimals (the exported table reproduces the fit exactly)
FEATURE_DECIMALS = 6
#: the predictors a policy may choose
PREDICTORS = ("model", "roofline", "no-change")


#: the point model is bagged: this many members, each fitted on a bootstrap resample
#: of the training *kernels* (a kernel's sizes, views and candidates drawn together),
#: their predictions averaged. One fit leans on whichever kernels happen to decide a
#: split; the average is steadier where a few groups decide the mean top-1 regret.
BAG_MEMBERS = 10
#: hyper-parameters of each bag member (fewer, larger steps: ten of them are averaged,
#: and every tree costs `check` time per finding)
BAG_PARAMS: dict[str, Any] = dict(HGB_PARAMS, max_iter=50, learning_rate=0.2)
#: hyper-parameters of the quantile models of the interval
QUANTILE_PARAMS: dict[str, Any] = dict(HGB_PARAMS, max_iter=100, learning_rate=0.1)
#: seed of the kernel resampling (the fit is deterministic)
BAG_SEED = 12345


def fit_ensembles(x: np.ndarray, y: np.ndarray, kernels: Sequence[str]) -> dict[str, Ensemble]:
    """Fit the point model (bagged, see `fit_point`) and the quantile models, exported
    as JSON-able ensembles.

    OpenMP is limited to one thread: the data are small, and on a loaded machine
    spinning OpenMP workers make the fit many times slower, not faster.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    models: dict[str, Ensemble] = {"point": fit_point(x, y, kernels)}
    with threadpool_limits(limits=1):
        for q in QUANTILES:
            est = HistGradientBoostingRegressor(loss="quantile", quantile=q, **QUANTILE_PARAMS)
            est.fit(x, y)
            models[f"q{int(round(q * 100)):02d}"] = from_sklearn(est)
    return models


def fit_point(x: np.ndarray, y: np.ndarray, kernels: Sequence[str]) -> Ensemble:
    """The point model: `BAG_MEMBERS` boosted regressors, each on a bootstrap resample
    of the kernels of `kernels` (one name per row), averaged into one ensemble.

    Resampling kernels rather than rows keeps a kernel's rows together, as the
    GroupKFold evaluation does with families: rows of one kernel are not
    independent samples.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    names = np.asarray(kernels)
    if len(names) != len(y):
        raise ValueError("fit_point needs one kernel name per row")
    distinct = np.unique(names)
    rows_of = {k: np.nonzero(names == k)[0] for k in distinct.tolist()}
    rng = np.random.default_rng(BAG_SEED)
    members: list[Ensemble] = []
    with threadpool_limits(limits=1):
        for seed in range(BAG_MEMBERS):
            drawn = rng.choice(distinct, size=len(distinct), replace=True)
            idx = np.concatenate([rows_of[k] for k in drawn.tolist()])
            params = dict(BAG_PARAMS, random_state=seed)
            est = HistGradientBoostingRegressor(loss="squared_error", **params)
            members.append(from_sklearn(est.fit(x[idx], y[idx])))
    return averaged(members)


def pass_key(passes: Sequence[str]) -> str:
    """Policy key of a pass combination ('jit', 'loop-fusion+vectorize', ...)."""
    return "+".join(sorted(passes)) or "none"


@dataclass
class CrossValidation:
    """Out-of-fold predictions (log ratios) of the model and the baselines."""

    rows: list[TrainingRow]
    measured: np.ndarray
    model: np.ndarray
    roofline: np.ndarray
    no_change: np.ndarray
    folds: np.ndarray  # fold index of each row
    n_splits: int
    fold_families: list[list[str]] = field(default_factory=list)

    def predictions(self, name: str) -> np.ndarray:
        """Out-of-fold predictions of predictor `name` (see `PREDICTORS`)."""
        return {"model": self.model, "roofline": self.roofline, "no-change": self.no_change}[name]

    def groups(self) -> list[str]:
        """Ranking group of each row."""
        return [r.group for r in self.rows]


def _matrix(table: TrainingTable) -> tuple[list[TrainingRow], np.ndarray, np.ndarray]:
    rows = table.usable_rows()
    if not rows:
        raise InputError("the training table has no measured rows")
    x = np.array(
        [[float(r.features.get(n, 0.0)) for n in table.feature_names] for r in rows],
        dtype=np.float64,
    )
    y = np.array([math.log(float(r.ratio)) for r in rows], dtype=np.float64)  # type: ignore[arg-type]
    return rows, x, y


def cross_validate(
    table: TrainingTable,
    n_splits: int | None = None,
    fit: Callable[[np.ndarray, np.ndarray, Sequence[str]], Ensemble] | None = None,
) -> CrossValidation:
    """GroupKFold by family: out-of-fold predictions of the model and both baselines."""
    from sklearn.model_selection import GroupKFold

    rows, x, y = _matrix(table)
    families = np.array([r.family for r in rows])
    kernels = np.array([r.kernel for r in rows])
    distinct = sorted(set(families.tolist()))
    if len(distinct) < 2:
        raise InputError("GroupKFold by family needs at least 2 families in the training table")
    k = min(n_splits or len(distinct), len(distinct))
    fit = fit or fit_point
    model_pred = np.zeros(len(rows))
    folds = np.zeros(len(rows), dtype=np.int64)
    fold_families: list[list[str]] = []
    for i, (train, test) in enumerate(GroupKFold(n_splits=k).split(x, y, groups=families)):
        ens = fit(x[train], y[train], kernels[train].tolist())
        model_pred[test] = ens.predict(x[test])
        folds[test] = i
        fold_families.append(sorted(set(families[test].tolist())))
    roof = np.array([roofline_log_ratio(r.features) for r in rows])
    return CrossValidation(
        rows=rows,
        measured=y,
        model=model_pred,
        roofline=roof,
        no_change=np.zeros(len(rows)),
        folds=folds,
        n_splits=k,
        fold_families=fold_families,
    )


def _policy_score(metrics: Mapping[str, Any]) -> float:
    """One number for comparing policies: ordering quality minus regret and harm."""
    return (
        float(metrics.get("pairwise_accuracy") or 0.0)
        + float(metrics.get("best_in_top2") or 0.0)
        - float(metrics.get("top1_regret_mean") or 0.0)
        - float(metrics.get("harm_rate") or 0.0)
    )


def choose_policy(cv: CrossValidation) -> dict[str, Any]:
    """Where the model is kept, and which baseline answers elsewhere.

    The default is the predictor with the best ranking score over all
    cross-validated rows (`_policy_score`: pairwise accuracy + best-in-top-2 −
    mean top-1 regret − harm rate). Then, per pass combination with at least
    `MIN_POLICY_SAMPLES` rows, the baseline with the lowest mean absolute log error
    there replaces the default only if it is more accurate there *and* the mixed
    predictions rank at least as well overall: mixing predictors inside a group
    must not make the ordering worse.
    """
    groups = cv.groups()
    scores = {
        name: _policy_score(ranking_metrics(cv.predictions(name), cv.measured, groups))
        for name in PREDICTORS
    }
    errors_all = {
        name: mean_abs_log_error(cv.predictions(name), cv.measured) for name in PREDICTORS
    }
    default = max(PREDICTORS, key=lambda n: (scores[n], -PREDICTORS.index(n)))
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(cv.rows):
        by_key[pass_key(r.passes)].append(i)
    detail: dict[str, dict[str, float]] = {}
    policy: dict[str, Any] = {"default": default, "by_passes": {}}
    best = _policy_score(ranking_metrics(policy_predictions(cv, policy), cv.measured, groups))
    for key, idx in sorted(by_key.items()):
        errs = {
            name: mean_abs_log_error(cv.predictions(name)[idx], cv.measured[idx])
            for name in PREDICTORS
        }
        detail[key] = {**errs, "n": float(len(idx))}
        if len(idx) < MIN_POLICY_SAMPLES:
            continue
        challenger = min(PREDICTORS, key=lambda n: (errs[n], PREDICTORS.index(n)))
        if challenger == default:
            continue
        trial = {"default": default, "by_passes": {**policy["by_passes"], key: challenger}}
        score = _policy_score(ranking_metrics(policy_predictions(cv, trial), cv.measured, groups))
        if score >= best:
            policy, best = trial, score
    policy.update({"mae_log": detail, "mae_log_all": errors_all, "scores": scores})
    return policy


def policy_predictions(cv: CrossValidation, policy: dict[str, Any]) -> np.ndarray:
    """Out-of-fold predictions of the shipped combination (model where it wins)."""
    out = np.empty(len(cv.rows))
    for i, r in enumerate(cv.rows):
        name = policy["by_passes"].get(pass_key(r.passes), policy["default"])
        out[i] = cv.predictions(name)[i]
    return out


def _view_metrics(
    cv: CrossValidation, policy: Mapping[str, Any], idx: np.ndarray
) -> dict[str, Any]:
    """Model, shipped-mix and baseline metrics on the rows `idx`."""
    groups = [cv.rows[i].group for i in idx]
    true = cv.measured[idx]
    ci = [cv.rows[i].ci95 for i in idx]
    out: dict[str, Any] = dict(ranking_metrics(cv.model[idx], true, groups, ci))
    out["baselines"] = {
        "no_change": ranking_metrics(cv.no_change[idx], true, groups, ci),
        "roofline": ranking_metrics(cv.roofline[idx], true, groups, ci),
    }
    out["shipped"] = ranking_metrics(policy_predictions(cv, policy)[idx], true, groups, ci)
    out["n_kernels"] = len({cv.rows[i].kernel for i in idx})
    out["n_families"] = len({cv.rows[i].family for i in idx})
    return out


def other_sizes_reference(cv: CrossValidation) -> np.ndarray:
    """Each row's log ratio "predicted" by the same candidate measured at its kernel's other sizes.

    The mean measured log ratio of the rows with the same kernel, candidate and
    view but another workload size (0 when there is none). Not a model: it knows
    the held-out kernel's own measurements, which no static predictor can. Its
    figures show how far the measurements of one candidate agree across sizes,
    i.e. how much of the ranking targets this table's noise (and the real effect
    of size) leaves reachable.
    """
    by_candidate: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(cv.rows):
        by_candidate[(r.kernel, r.candidate, r.view)].append(i)
    out = np.zeros(len(cv.rows))
    for members in by_candidate.values():
        for i in members:
            others = [j for j in members if cv.rows[j].size != cv.rows[i].size]
            out[i] = float(np.mean(cv.measured[others])) if others else 0.0
    return out


def evaluate(cv: CrossValidation, policy: dict[str, Any]) -> dict[str, Any]:
    """The eval report (see docs/model.md).

    Top level: the model's figures on the rows whose features were bound to the
    workload sizes ("sized" view), with `baselines` and `shipped` (the policy mix);
    `unsized` holds the same figures when sizes are unknown, as in `check` and a
    `rewrite` that passes none. `intervals90` holds 90% bootstrap intervals of the
    model's sized figures (kernels resampled), and `reference_other_sizes` the
    figures of `other_sizes_reference` (a noise reference, not a predictor).
    """
    views = np.array([r.view for r in cv.rows])
    sized = np.nonzero(views == "sized")[0]
    unsized = np.nonzero(views == "unsized")[0]
    main_idx = sized if len(sized) else np.arange(len(cv.rows))
    report: dict[str, Any] = _view_metrics(cv, policy, main_idx)
    main_groups = [cv.rows[i].group for i in main_idx]
    report.update(
        {
            "intervals90": bootstrap_intervals(
                cv.model[main_idx],
                cv.measured[main_idx],
                main_groups,
                [cv.rows[i].kernel for i in main_idx],
            ),
            "reference_other_sizes": ranking_metrics(
                other_sizes_reference(cv)[main_idx], cv.measured[main_idx], main_groups
            ),
            "n_samples": int(len(main_idx)),
            "n_samples_all_views": len(cv.rows),
            "unsized": _view_metrics(cv, policy, unsized) if len(unsized) else None,
            "cv": "GroupKFold",
            "cv_splits": cv.n_splits,
            "cv_group": "family",
            "fold_families": cv.fold_families,
            "policy": {"default": policy["default"], "by_passes": policy["by_passes"]},
            "mae_log": policy["mae_log_all"],
            "meters": sorted(
                {f"{r.meter} ({'measured' if r.measured else 'estimated'})" for r in cv.rows}
            ),
        }
    )
    return report


def _residual_quantiles(pred: np.ndarray, true: np.ndarray) -> list[float]:
    """10% and 90% quantiles of (measured − predicted) log ratio."""
    resid = true - pred
    return [float(np.quantile(resid, QUANTILES[0])), float(np.quantile(resid, QUANTILES[1]))]


def residuals_by_passes(cv: CrossValidation) -> dict[str, dict[str, list[float]]]:
    """Each predictor's residual quantiles per pass combination with at least
    `MIN_POLICY_SAMPLES` rows.

    A baseline's interval must come from the rows it answers for: over every row
    (mostly Numba candidates at 0.1–1% of the original's energy), the no-change
    baseline's residuals gave a float32 candidate an interval reaching down to 0.1%.
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(cv.rows):
        by_key[pass_key(r.passes)].append(i)
    return {
        key: {
            name: _residual_quantiles(cv.predictions(name)[idx], cv.measured[idx])
            for name in PREDICTORS
        }
        for key, idx in sorted(by_key.items())
        if len(idx) >= MIN_POLICY_SAMPLES
    }


def table_digest(table: TrainingTable) -> str:
    """SHA-256 of the table's canonical JSON (ties a model to its data)."""
    blob = json.dumps(table.to_dict(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def build_model(table: TrainingTable, n_splits: int | None = None) -> dict[str, Any]:
    """Cross-validate, choose the policy, fit on all rows and return the model document."""
    rows, x, y = _matrix(table)
    cv = cross_validate(table, n_splits)
    policy = choose_policy(cv)
    report = evaluate(cv, policy)
    ensembles = fit_ensembles(x, y, [r.kernel for r in rows])
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "feature_names": list(table.feature_names),
        "models": {name: ens.to_dict() for name, ens in ensembles.items()},
        "policy": {"default": policy["default"], "by_passes": policy["by_passes"]},
        "residuals": {
            "model": _residual_quantiles(cv.model, cv.measured),
            "roofline": _residual_quantiles(cv.roofline, cv.measured),
            "no-change": _residual_quantiles(cv.no_change, cv.measured),
        },
        "residuals_by_passes": residuals_by_passes(cv),
        "feature_ranges": {
            "min": x.min(axis=0).tolist(),
            "max": x.max(axis=0).tolist(),
        },
        "training": {
            "n_samples": len(rows),
            "n_kernels": len({r.kernel for r in rows}),
            "n_families": len({r.family for r in rows}),
            "meters": sorted({r.meter for r in rows}),
            "measured": all(r.measured for r in rows),
            "machine": table.machine,
            "table_sha256": table_digest(table),
            "hgb_params": HGB_PARAMS,
            "quantile_params": QUANTILE_PARAMS,
            "point_model": {
                "bagged": BAG_MEMBERS,
                "resampled": "kernels",
                "hgb_params": BAG_PARAMS,
                "seed": BAG_SEED,
            },
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        },
        "cv": report,
    }


def refeaturize(row: TrainingRow) -> dict[str, float]:
    """The row's features recomputed from its stored code with the current extractor.

    Rows carry the original and candidate function sources and the bound sizes, so
    improving `greenopt.models.features` never requires measuring again. Rows
    without code keep the features they were recorded with.
    """
    if not (row.original_code and row.candidate_code):
        return dict(row.features)
    sizes = row.sizes or None
    original = function_features(row.original_code, sizes, row.function)
    variant = function_features(row.candidate_code, sizes, row.function)
    feats = candidate_features(original, variant, row.passes)
    return {k: round(v, FEATURE_DECIMALS) for k, v in feats.items()}


def make_table(
    rows: Sequence[TrainingRow], machine: dict[str, Any], notes: Sequence[str] = ()
) -> TrainingTable:
    """An exportable table of `rows` with freshly computed features.

    Each measured row appears twice: with its features bound to the workload's
    sizes ("sized") and computed as if the sizes were unknown ("unsized", what
    `check` and `rewrite` see), so one model serves both cases.
    """
    from greenopt import __version__

    fresh: list[TrainingRow] = []
    for row in rows:
        copy = TrainingRow.from_dict(row.to_dict())
        copy.view = "sized"
        copy.features = refeaturize(copy)
        fresh.append(copy)
        if row.usable and row.original_code and row.candidate_code:
            blind = TrainingRow.from_dict(row.to_dict())
            blind.view, blind.sizes = "unsized", {}
            blind.features = refeaturize(blind)
            blind.original_code = blind.candidate_code = ""  # kept once, in the sized row
            fresh.append(blind)
    return TrainingTable(
        rows=fresh,
        feature_names=list(CANDIDATE_FEATURE_NAMES),
        machine=machine,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        greenopt_version=__version__,
        notes=list(notes),
    )


def save_model(document: dict[str, Any], path: str | Path) -> None:
    """Write the model document as compact JSON (atomically)."""
    write_text_atomic(path, json.dumps(document, separators=(",", ":")))


#: the files `export` writes into its directory
EXPORT_NAMES = ("training_table.json", "training_table.csv", "cost_model.json")


def export(table: TrainingTable, document: dict[str, Any], out: str | Path) -> None:
    """Write the table (JSON + CSV) and the model fitted on it into directory `out`.

    Called only after a successful fit. All three files are written to temporary files
    next to their targets first and only then renamed over them, so a failure while
    writing leaves `out` as it was and a model never sits next to a table it was not
    fitted on.
    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    texts = (
        table_json_text(table),
        csv_text(table.rows, table.feature_names),
        json.dumps(document, separators=(",", ":")),
    )
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in zip(EXPORT_NAMES, texts, strict=True):
            staged.append((stage_text(directory / name, text), directory / name))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
