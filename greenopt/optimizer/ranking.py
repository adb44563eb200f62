"""Rank a function's candidates by predicted energy ratio, so only the top-k are measured.

The cost model (`greenopt.models.predict`) predicts E_candidate / E_original from
static features. It is imported lazily and is optional: when it is missing or
fails, candidates are ranked by a documented fallback, the number of loops the
rewrite removed (more first, ties by fewer passes), and *all* candidates are
measured, since an ordering without a model is too weak to prune on.
"""

from __future__ import annotations

import os
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


#: CPU-count ratio (either way) beyond which the training machine counts as different
CPU_RATIO_NOTE = 2.0


def machine_note(
    model: object | None, candidates: Sequence[Candidate], cpus: int | None = None
) -> str | None:
    """A warning when `parallel=True` candidates (GO402) are ranked by a model trained
    on a machine with a very different number of CPUs (`cpus`, default this one's):
    which of Numba's variants wins depends on the cores, so the ranking of the
    parallel ones is the training machine's."""
    if model is None or not any("GO402" in c.codes for c in candidates):
        return None
    document = getattr(model, "document", None) or {}
    machine = (document.get("training") or {}).get("machine") or {}
    trained = machine.get("logical_cpus")
    here = cpus if cpus is not None else os.cpu_count()
    if not isinstance(trained, int) or trained < 1 or not here:
        return None
    if max(trained, here) / min(trained, here) < CPU_RATIO_NOTE:
        return None
    return (
        f"the cost model was trained on a {trained}-CPU machine and this one has {here}: "
        "its ranking of parallel=True variants is that machine's "
        "(--top-k 3 or --measure-all measure more candidates)"
    )


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
