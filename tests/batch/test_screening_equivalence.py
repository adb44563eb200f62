"""Screening must not change results: screened analysis == whole-module analysis.

Checked on every kernel of the training corpus and on every registered pass's own
examples (before texts and must-not-change texts), with all available passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source
from greenopt.optimizer.findings import available_passes
from greenopt.passes.registry import pass_class

ROOT = Path(__file__).resolve().parents[2]
PASSES = tuple(available_passes())


def _sources() -> list[tuple[str, str]]:
    out = [
        (str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / "corpus").rglob("*.py"))
    ]
    for name in PASSES:
        cls = pass_class(name)
        for i, ex in enumerate(cls.EXAMPLES):
            out.append((f"{name}-example-{i}", ex.before))
        for i, text in enumerate(cls.UNCHANGED):
            out.append((f"{name}-unchanged-{i}", text))
    return out


SOURCES = _sources()


def _opportunities(path: str, text: str, screen: bool) -> list[tuple[object, ...]]:
    options = AnalysisOptions(passes=PASSES, screen=screen, predict=False, file_timeout_s=None)
    r = analyze_source(path, text.encode(), options)
    assert r.status == "ok", r.message
    return [
        (f.qualname, o.pass_name, o.code, o.line, o.col, o.end_line, o.end_col, o.message)
        for f in r.functions
        for o in f.opportunities
    ]


@pytest.mark.parametrize(("path", "text"), SOURCES, ids=[p for p, _ in SOURCES])
def test_screened_analysis_equals_whole_module_analysis(path: str, text: str) -> None:
    assert _opportunities(path, text, screen=True) == _opportunities(path, text, screen=False)


def test_the_check_covers_real_findings() -> None:
    """Guard against a vacuous comparison: the sources do produce opportunities."""
    found = {
        o[1]
        for p, t in SOURCES
        if p.endswith(("relu_naive.py", "matmul_naive.py"))
        for o in _opportunities(p, t, True)
    }
    assert {"vectorize", "jit"} <= found
