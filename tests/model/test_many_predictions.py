"""Batched predictions (`check`): the same answers, to the bit, as one call per finding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenopt.errors import InputError
from greenopt.models.predict import CostModel, Prediction, load_model
from greenopt.optimizer.findings import find_opportunities
from greenopt.optimizer.predictions import NO_PREDICTION, predict, predict_many
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Opportunity, Site

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    ROOT / "examples" / "kernels.py",
    ROOT / "corpus" / "ai" / "attention_naive.py",
    ROOT / "corpus" / "fluid" / "burgers1d.py",
    ROOT / "corpus" / "image" / "sobel.py",
]

KERNEL = '''import numpy as np


def f(n):
    """Doc with a blank line that holds spaces:
<SPACES>
    end."""
    out = np.zeros(n)
    for i in range(n):
        out[i] = i * 2.0
    return out
'''.replace("<SPACES>", "    ")


def _one_by_one(code: str, opportunities: list[Opportunity]) -> list[Prediction | str]:
    model = load_model()
    out: list[Prediction | str] = []
    for opp in opportunities:
        try:
            out.append(model.predict_opportunity(code, opp))
        except InputError as exc:
            out.append(str(exc))
    return out


def _batched(code: str, opportunities: list[Opportunity], tree: Any) -> list[Prediction | str]:
    answers = load_model().predict_opportunities(code, opportunities, tree)
    return [str(a) if isinstance(a, InputError) else a for a in answers]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_batch_equals_one_call_per_finding(path: Path) -> None:
    module = SourceModule.read(path)
    opportunities = find_opportunities(module)
    assert opportunities
    expected = _one_by_one(module.code, opportunities)
    assert any(isinstance(p, Prediction) and p.source == "model" for p in expected)
    # Prediction equality compares the floats exactly
    assert _batched(module.code, opportunities, module.ast_module()) == expected
    assert _batched(module.code, opportunities, None) == expected
    model = load_model()
    fields = [predict(model, module.code, o) for o in opportunities]
    assert predict_many(model, module.code, opportunities, module.ast_module()) == fields


def _opp(line: int, function: str | None = "f", **data: object) -> Opportunity:
    site = Site("k.py", line, 4, line + 1, 0, function=function)
    return Opportunity("vectorize", "GO101", "m", "r", site, data=data)


def test_no_tree_is_taken_for_text_that_dedenting_changes() -> None:
    """The model parses `textwrap.dedent(code)`: where that is not `code` (a line of
    spaces), a caller's tree is not what the model would parse and is not used."""
    opportunities = [_opp(10), _opp(10, None), _opp(10, "g")]
    expected = _one_by_one(KERNEL, opportunities)
    assert all(isinstance(p, Prediction) for p in expected)
    module = SourceModule.parse(KERNEL)
    assert _batched(KERNEL, opportunities, module.ast_module()) == expected
    # a tree that would change the answers if it were used
    other_code = KERNEL.replace("i * 2.0", "np.sin(np.arange(i)).sum() ** 3")
    other = SourceModule.parse(other_code).ast_module()
    assert _batched(other_code, opportunities, other) != expected
    assert _batched(KERNEL, opportunities, other) == expected


def test_byte_order_mark_answers_as_one_by_one() -> None:
    code = "\ufeff" + KERNEL.replace("    \n", "\n")
    assert "    \n" not in code
    opportunities = [_opp(10)]
    expected = _one_by_one(code, opportunities)
    tree = SourceModule.parse(code).ast_module()
    assert tree is not None
    assert _batched(code, opportunities, tree) == expected


def test_syntax_errors_are_per_finding_input_errors() -> None:
    answers = CostModel(None).predict_opportunities("def (:\n", [_opp(1), _opp(1, None)])
    assert len(answers) == 2 and all(isinstance(a, InputError) for a in answers)
    assert predict_many(CostModel(None), "def (:\n", [_opp(1)]) == [NO_PREDICTION]


class _PerFindingOnly:
    """A model without the batch method, failing on one finding."""

    def __init__(self) -> None:
        self.inner = load_model()

    def predict_opportunity(self, code: str, opp: Opportunity) -> Prediction:
        if opp.site.line == 99:
            raise RuntimeError("model bug")
        return self.inner.predict_opportunity(code, opp)


def test_predict_many_keeps_notes_failures_and_order() -> None:
    opportunities = [_opp(10), _opp(10, note="report only"), _opp(99), _opp(10, None)]
    model = load_model()
    expected = [predict(model, KERNEL, o) for o in opportunities]
    assert expected[1] == NO_PREDICTION and expected[0]["prediction_source"] is not None
    assert predict_many(model, KERNEL, opportunities) == expected
    assert predict_many(_PerFindingOnly(), KERNEL, opportunities) == [
        *expected[:2],
        NO_PREDICTION,
        expected[3],
    ]
    assert predict_many(None, KERNEL, opportunities) == [NO_PREDICTION] * 4
