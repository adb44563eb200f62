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


def test_machine_note_when_parallel_variants_meet_another_core_count() -> None:
    """GO402 candidates ranked by a model trained on 2 CPUs, on 16: say so; else silent."""
    from dataclasses import replace

    from greenopt.optimizer.ranking import machine_note

    plain = _candidates()[0]
    parallel = replace(plain, codes=("GO402",))

    class Trained:
        document = {"training": {"machine": {"logical_cpus": 2}}}

    note = machine_note(Trained(), [plain, parallel], cpus=16)
    assert note is not None and "2-CPU machine" in note and "has 16" in note
    assert machine_note(Trained(), [plain, parallel], cpus=3) is None  # close enough
    assert machine_note(Trained(), [plain], cpus=16) is None  # no parallel candidate
    assert machine_note(ScaleFirstModel(), [parallel], cpus=16) is None  # no machine known
    assert machine_note(None, [parallel], cpus=16) is None
