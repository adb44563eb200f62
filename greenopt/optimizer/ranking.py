"""Rank a function's candidates by predicted energy ratio, so only the top-k are measured.

The cost model (`greenopt.models.predict`) predicts E_candidate / E_original from
static features. It is imported lazily and is optional: when it is missing or
fails, candidates are ranked by a documented fallback, the number of loops the
rewrite removed (more first, ties by fewer passes), and *all* candidates are
measured, since an ordering without a model is too weak to prune on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from greenopt.optimizer.candidates import Candidate
from greenopt.optimizer.source import SourceModule


@dataclass(frozen=True)
class Ranked:
    """A candidate with its prediction (None without a model) and where it came from."""

    candidate: Candidate
    predicted_ratio: float | None
    predicted_lo: float | None
    predicted_hi: float | None
    source: str  # "model" | "baseline" | "loops-removed"


@dataclass
class Ranking:
    """Candidates best-first, and whether the order came from the cost model."""

    ranked: list[Ranked]
    model_used: bool
    note: str | None = None


def load_cost_model() -> tuple[object | None, str | None]:
    """The shipped cost model, or (None, reason) when it cannot be loaded."""
    from greenopt.optimizer.predictions import load_cost_model as load

    model, reason = load()
    return model, (f"{reason}; ranked by loops removed" if reason else None)


def rank(
    original: SourceModule,
    candidates: Sequence[Candidate],
    sizes: Mapping[str, int] | None = None,
    model: object | None = None,
) -> Ranking:
    """Order `candidates` best first (lowest predicted ratio, or most loops removed).

    `model` is a cost model from `load_cost_model()`, or None for the fallback order.
    """
    note = None
    if model is not None:
        ranked: list[Ranked] = []
        try:
            for c in candidates:
                p = model.predict_candidate(  # type: ignore[attr-defined]
                    original.code, c.module.code, c.function, list(c.passes), sizes
                )
                ranked.append(Ranked(c, float(p.ratio), float(p.lo), float(p.hi), str(p.source)))
        except Exception as exc:
            note = f"cost model failed ({type(exc).__name__}: {exc}); ranked by loops removed"
        else:
            ranked.sort(key=lambda r: (r.predicted_ratio, -r.candidate.loops_removed))
            return Ranking(ranked, model_used=True, note=note)
    fallback = [Ranked(c, None, None, None, "loops-removed") for c in candidates]
    fallback.sort(key=lambda r: (-r.candidate.loops_removed, len(r.candidate.steps)))
    return Ranking(fallback, model_used=False, note=note)
