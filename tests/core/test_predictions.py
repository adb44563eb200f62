"""Predicted savings attached to findings (`check`, `rewrite --static`): static, never invented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from greenopt.optimizer.predictions import predict, saving_text
from greenopt.passes.base import Opportunity, Site

KERNEL = """import numpy as np


def f(n):
    a = np.ones(n)
    out = np.zeros(n)
    for i in range(n):
        out[i] = a[i] * 2.0
    return out
"""


class _Broken:
    def predict_opportunity(self, code: str, opp: Opportunity) -> None:
        raise RuntimeError("model bug")


def _opp(**data: object) -> Opportunity:
    return Opportunity("vectorize", "GO101", "m", "r", Site("m.py", 7, 4, 8, 0, "f"), data=data)


def test_no_model_or_failing_model_gives_no_prediction() -> None:
    for model in (None, _Broken()):
        rec = predict(model, KERNEL, _opp())
        assert rec["predicted_saving"] is None and rec["prediction_source"] is None
        assert saving_text(rec) == ""


def test_saving_text_formats_model_predictions_only() -> None:
    rec = {"predicted_saving": 0.42, "prediction_source": "model"}
    assert saving_text(rec) == "−42% predicted"
    assert saving_text({**rec, "predicted_saving": -0.1}) == "+10% predicted"
    assert saving_text({**rec, "predicted_saving": 0.998}) == "−99.8% predicted"
    assert saving_text({**rec, "prediction_source": "baseline"}) == ""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "greenopt", *args], capture_output=True, text=True, cwd=cwd
    )


def test_check_json_and_text_carry_the_shipped_models_prediction(tmp_path: Path) -> None:
    (tmp_path / "k.py").write_text(KERNEL)
    out = _run("check", "k.py", "--select", "vectorize", "--format", "json", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    (finding,) = json.loads(out.stdout)["findings"]
    assert finding["prediction_source"] == "model"
    assert 0 < finding["predicted_saving"] < 1
    lo, hi = finding["predicted_interval"]
    assert lo <= finding["predicted_ratio"] <= hi
    text = _run("check", "k.py", "--select", "vectorize", cwd=tmp_path)
    assert "% predicted)" in text.stdout
    plain = _run("check", "k.py", "--select", "vectorize", "--no-predict", cwd=tmp_path)
    assert "predicted" not in plain.stdout and plain.returncode == 1


def test_rewrite_static_json_carries_predictions(tmp_path: Path) -> None:
    (tmp_path / "k.py").write_text(KERNEL)
    out = _run("rewrite", "--static", "k.py", "--json", "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    (applied,) = report["applied"]
    assert applied["code"] == "GO101" and applied["prediction_source"] == "model"
    assert 0 < applied["predicted_saving"] < 1
    assert (tmp_path / "k.py").read_text() == KERNEL  # a diff only, nothing written
