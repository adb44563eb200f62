"""`greenopt check` shows a transient status line on a terminal (stderr only), and
nothing at all when stderr is not a terminal; predictions are cached per feature vector."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from greenopt.cli import main
from greenopt.commands import check as check_cmd
from greenopt.config import Config
from greenopt.optimizer.findings import find_opportunities
from greenopt.optimizer.source import SourceModule

from . import kernels as K


def _loops(count: int) -> str:
    return "".join(
        f"def f{i}(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n"
        "    return s\n\n"
        for i in range(count)
    )


def test_find_opportunities_reports_each_pass() -> None:
    calls: list[tuple[str, int, int]] = []
    module = SourceModule.parse(K.SCALE, "k.py")
    plain = find_opportunities(module, ["vectorize", "jit"], Config())
    found = find_opportunities(
        module, ["vectorize", "jit"], Config(), progress=lambda *c: calls.append(c)
    )
    assert calls == [("vectorize", 1, 2), ("jit", 2, 2)]
    assert [(o.code, o.site) for o in found] == [(o.code, o.site) for o in plain]


def test_progress_on_a_fake_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("big.py").write_text(_loops(40), encoding="utf-8")
    main(["check", "--format", "json", "--no-predict", "big.py"])
    expected_out, expected_err = capsys.readouterr()

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(check_cmd, "_progress_console", lambda: console)
    monkeypatch.setattr(check_cmd, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(check_cmd, "PROGRESS_DELAY_S", 0.0)  # show it at once
    steps: list[tuple[str, int, int]] = []
    real_step = check_cmd.CheckProgress.step

    def recording(self: check_cmd.CheckProgress, name: str, done: int, total: int) -> None:
        steps.append((name, done, total))
        real_step(self, name, done, total)

    monkeypatch.setattr(check_cmd.CheckProgress, "step", recording)
    main(["check", "--format", "json", "--no-predict", "big.py"])
    out, err = capsys.readouterr()
    assert (out, err) == (expected_out, expected_err)  # stdout untouched, nothing else
    names = [s[0] for s in steps]
    assert "vectorize" in names and "predictions" in names
    fixes = [s for s in steps if s[0] == "fixes"]
    assert fixes and fixes[-1][1] == fixes[-1][2] == len(fixes)
    drawn = screen.getvalue()
    assert "checking big.py (240 lines)" in drawn


def test_no_progress_when_stderr_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("big.py").write_text(_loops(40), encoding="utf-8")
    screen = io.StringIO()
    monkeypatch.setattr(check_cmd, "_progress_console", lambda: Console(file=screen))
    monkeypatch.setattr(check_cmd, "PROGRESS_DELAY_S", 0.0)
    assert check_cmd.CheckProgress.for_terminal() is None
    main(["check", "--no-predict", "big.py"])
    assert capsys.readouterr().err == "" and screen.getvalue() == ""


def test_predictions_are_cached_by_feature_vector_to_the_bit() -> None:
    import random

    from greenopt.models.features import CANDIDATE_FEATURE_NAMES
    from greenopt.models.predict import load_model

    cached, fresh = load_model(), load_model()
    if not cached.available:
        pytest.skip("no shipped model")
    rng = random.Random(0)
    ranges = cached.document.get("feature_ranges") or {
        "min": [0.0] * len(CANDIDATE_FEATURE_NAMES),
        "max": [1.0] * len(CANDIDATE_FEATURE_NAMES),
    }
    vectors = [  # inside the training range, where the model answers
        {
            n: rng.choice([lo, hi, rng.uniform(lo, hi)])
            for n, lo, hi in zip(CANDIDATE_FEATURE_NAMES, ranges["min"], ranges["max"], strict=True)
        }
        for _ in range(40)
    ]
    for passes in (["vectorize"], ["jit"], ["vectorize", "jit"]):
        for feats in vectors * 2:  # the second time from the cache
            fresh._by_vector.clear()
            assert cached.predict_features(feats, passes) == fresh.predict_features(feats, passes)
    assert cached._by_vector and all(p.source == "model" for p in cached._by_vector.values())
