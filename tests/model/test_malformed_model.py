"""A malformed or unsupported cost model is refused when loaded: exit 2 naming the file,
for `model info` and for every command that predicts (check, rewrite --static, analyze)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from greenopt.cli import main
from greenopt.errors import InputError
from greenopt.models.predict import DEFAULT_MODEL_PATH, load_model

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL_PATH.exists(), reason="no model shipped")

LOOP = (
    "import numpy as np\n\n\n"
    "def total(x):\n"
    "    s = 0.0\n"
    "    for i in range(len(x)):\n"
    "        s += x[i] * 2.0\n"
    "    return s\n"
)


def _shipped() -> dict[str, Any]:
    return json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


def _broken(tmp_path: Path, name: str, **changes: Any) -> Path:
    """A copy of the shipped model with `changes` applied, written to `tmp_path/name.json`."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({**_shipped(), **changes}), encoding="utf-8")
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert str(path) in lines[0] and "internal error" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("key", ["models", "cv", "training", "policy", "feature_ranges"])
def test_model_info_refuses_a_null_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    path = _broken(tmp_path, key, **{key: None})
    assert main(["model", "info", "--model", str(path)]) == 2
    assert key in _one_error_line(capsys, path)


def _structural_cases() -> dict[str, dict[str, Any]]:
    doc = _shipped()
    return {
        "models-null": {"models": None},
        "five-features": {"feature_names": doc["feature_names"][:5]},
        "features-null": {"feature_names": None},
        "renamed-feature": {"feature_names": ["x", *doc["feature_names"][1:]]},
        "version-99": {"version": 99},
        "no-point-model": {"models": {"q10": doc["models"]["q10"]}},
        "residuals-by-passes-not-numbers": {"residuals_by_passes": {"jit": {"model": "wide"}}},
        "residuals-by-passes-not-object": {"residuals_by_passes": {"jit": [0.1, 0.2]}},
        "bad-tree-offsets": {
            "models": {**doc["models"], "point": {**doc["models"]["point"], "offsets": [0, 10**9]}}
        },
    }


CASES = sorted(_structural_cases()) if DEFAULT_MODEL_PATH.exists() else []


@pytest.mark.parametrize("case", CASES)
def test_load_model_refuses_a_broken_document(tmp_path: Path, case: str) -> None:
    path = _broken(tmp_path, case, **_structural_cases()[case])
    with pytest.raises(InputError, match=str(path)):
        load_model(str(path))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", [["check"], ["rewrite", "--static"]])
def test_commands_refuse_a_broken_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, command: list[str]
) -> None:
    src = tmp_path / "k.py"
    src.write_text(LOOP)
    path = _broken(tmp_path, case, **_structural_cases()[case])
    assert main([*command, str(src), "--model", str(path)]) == 2
    _one_error_line(capsys, path)
    assert src.read_text() == LOOP


@pytest.mark.parametrize("case", ["models-null", "five-features", "version-99"])
def test_analyze_refuses_a_broken_model_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    src = tmp_path / "k.py"
    src.write_text(LOOP)
    path = _broken(tmp_path, case, **_structural_cases()[case])
    out = tmp_path / "out"
    args = ["analyze", str(src), "--out", str(out), "--jobs", "1", "--no-progress"]
    assert main([*args, "--model", str(path)]) == 2
    _one_error_line(capsys, path)
    assert not out.exists()


def test_the_shipped_model_still_loads(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_model().available and load_model(str(DEFAULT_MODEL_PATH)).available
    assert main(["model", "info"]) == 0
    assert str(DEFAULT_MODEL_PATH) in capsys.readouterr().out
