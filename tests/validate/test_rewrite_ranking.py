"""Ranking: the cost model's order, and the documented fallback when it is missing or fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenopt.optimizer.candidates import generate
from greenopt.optimizer.ranking import rank
from greenopt.optimizer.source import SourceModule

from .fakepasses import ReplaceBodyPass, ScaleReturnsPass

CODE = """import numpy as np


def f(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s
"""


def _candidates() -> list[Any]:
    passes = {
        "replace-body": ReplaceBodyPass({"f": "return float(np.sum(x))\n"}),
        "scale-returns": ScaleReturnsPass(),
    }
    return generate(SourceModule.parse(CODE), "f", passes).candidates


@dataclass(frozen=True)
class Pred:
    ratio: float
    lo: float
    hi: float
    source: str = "model"


class ScaleFirstModel:
    """Predicts the scale-returns-only candidate best (to see the model's order is used)."""

    def predict_candidate(self, original, candidate, function, passes, sizes):  # type: ignore[no-untyped-def]
        r = 0.1 if passes == ["scale-returns"] else 0.9
        return Pred(r, r / 2, r * 2)


class BrokenModel:
    def predict_candidate(self, *args: Any) -> Any:
        raise ValueError("bad features")


def test_model_order_is_used() -> None:
    ranking = rank(SourceModule.parse(CODE), _candidates(), model=ScaleFirstModel())
    assert ranking.model_used
    assert ranking.ranked[0].candidate.passes == ("scale-returns",)
    assert ranking.ranked[0].predicted_ratio == 0.1 and ranking.ranked[0].source == "model"


def test_fallback_without_model_ranks_by_loops_removed() -> None:
    ranking = rank(SourceModule.parse(CODE), _candidates(), model=None)
    assert not ranking.model_used
    first = ranking.ranked[0]
    assert first.candidate.loops_removed == 1 and len(first.candidate.steps) == 1
    assert first.predicted_ratio is None and first.source == "loops-removed"


def test_failing_model_falls_back_with_a_note() -> None:
    ranking = rank(SourceModule.parse(CODE), _candidates(), model=BrokenModel())
    assert not ranking.model_used and "bad features" in (ranking.note or "")
    assert ranking.ranked[0].candidate.loops_removed == 1
