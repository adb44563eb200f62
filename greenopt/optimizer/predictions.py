"""Predicted savings of single opportunities, for `check` and `rewrite --static`.

The shipped cost model (`greenopt.models.predict`) is loaded once by the caller
and passed in; a model failure on one finding gives no prediction for that
finding (never a made-up number). Predictions are static: nothing is run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenopt.passes.base import Opportunity

if TYPE_CHECKING:
    import ast

NO_PREDICTION: dict[str, Any] = {
    "predicted_ratio": None,
    "predicted_saving": None,
    "predicted_interval": None,
    "prediction_source": None,
}


def load_cost_model(path: str | None = None) -> tuple[Any | None, str | None]:
    """(the cost model, None), or (None, why it is unavailable): missing or broken."""
    try:
        from greenopt.models.predict import load_model
    except Exception as exc:
        return None, f"cost model unavailable ({type(exc).__name__})"
    try:
        return load_model(path), None
    except Exception as exc:  # a broken shipped model: report, never predict
        return None, f"cost model failed to load ({type(exc).__name__}: {exc})"


def load_model_or_none() -> Any | None:
    """The shipped cost model, or None when it is missing or cannot load."""
    return load_cost_model()[0]


def chosen_model_path(flag: str | None, config: Any | None) -> str | None:
    """The cost model a command was asked to use: `--model PATH`, else the config's
    `cost-model`, else None (the shipped model)."""
    if flag:
        return str(Path(flag).expanduser())
    return getattr(config, "cost_model", None) or None


def load_chosen_model(path: str | None) -> Any | None:
    """The model at `path`, or the shipped one (None if it cannot load) without a path.

    A path the user chose that is missing or is not a greenopt cost model is an
    InputError (exit 2), never a silent fallback to the shipped model.
    """
    if path is None:
        return load_model_or_none()
    from greenopt.models.predict import load_model

    return load_model(path)


def predict(model: Any | None, module_code: str, opportunity: Opportunity) -> dict[str, Any]:
    """JSON fields of the model's prediction for `opportunity` (all None when unavailable).

    `predicted_saving` is 1 − predicted E_after/E_before (0.4 = 40% less energy);
    `predicted_interval` is the 10%–90% interval of the ratio.
    """
    if model is None or opportunity.data.get("note"):
        return dict(NO_PREDICTION)
    try:
        p = model.predict_opportunity(_without_bom(module_code), opportunity)
    except Exception:
        return dict(NO_PREDICTION)
    return _fields(p)


def predict_many(
    model: Any | None,
    module_code: str,
    opportunities: Sequence[Opportunity],
    tree: ast.Module | None = None,
) -> list[dict[str, Any]]:
    """`[predict(model, module_code, o) for o in opportunities]`, computed in one batch.

    The same fields, to the bit, as one `predict` call per finding; `tree` may be the
    caller's `ast.parse` of exactly `module_code` (`SourceModule.ast_module()`), which
    spares the model a second parse of the module.
    """
    if model is None:
        return [dict(NO_PREDICTION) for _ in opportunities]
    module_code = _without_bom(module_code)
    wanted = [i for i, o in enumerate(opportunities) if not o.data.get("note")]
    out = [dict(NO_PREDICTION) for _ in opportunities]
    try:
        answers = model.predict_opportunities(module_code, [opportunities[i] for i in wanted], tree)
    except Exception:  # a model without the batch method or a failure of the batch
        return [predict(model, module_code, o) for o in opportunities]
    for i, answer in zip(wanted, answers, strict=True):
        if not isinstance(answer, BaseException):
            out[i] = _fields(answer)
    return out


def _without_bom(code: str) -> str:
    """`code` without a leading UTF-8 byte-order mark: the passes' positions (libcst's)
    and `ast` both read the text without it, so the model must too."""
    return code[1:] if code.startswith("\ufeff") else code


def _fields(p: Any) -> dict[str, Any]:
    """The JSON fields of one prediction `p` (all None unless its figures are finite and > 0)."""
    try:
        ratio, lo, hi = float(p.ratio), float(p.lo), float(p.hi)
    except Exception:
        return dict(NO_PREDICTION)
    if not all(math.isfinite(v) and v > 0 for v in (ratio, lo, hi)):
        return dict(NO_PREDICTION)
    return {
        "predicted_ratio": round(ratio, 4),
        "predicted_saving": round(1.0 - ratio, 4),
        "predicted_interval": [round(lo, 4), round(hi, 4)],
        "prediction_source": str(p.source),
    }


def saving_text(record: dict[str, Any]) -> str:
    """`−NN% predicted` (or `+NN% predicted` for a predicted loss); '' without a model figure."""
    saving = record.get("predicted_saving")
    if saving is None or record.get("prediction_source") != "model":
        return ""
    pct = saving * 100
    text = f"{abs(pct):.1f}" if 99.5 <= abs(pct) < 100 else f"{abs(round(pct))}"
    if text == "0":
        return "±0% predicted"
    return f"{'−' if pct > 0 else '+'}{text}% predicted"
