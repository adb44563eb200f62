"""A cost model of the user's own (`--model PATH`, `[tool.greenopt] cost-model`) is used
by check, rewrite --static and analyze; a missing or malformed one is exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenopt.cli import main
from greenopt.config import load_config
from greenopt.errors import InputError

LOOP = (
    "import numpy as np\n\n\n"
    "def total(x):\n"
    "    s = 0.0\n"
    "    for i in range(len(x)):\n"
    "        s += x[i] * 2.0\n"
    "    return s\n"
)


def _predictions(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict[str, float]:
    assert main(["check", "--format", "json", *args]) == 1
    out = json.loads(capsys.readouterr().out)
    return {f["code"]: f["predicted_ratio"] for f in out["findings"] if not f["note"]}


def test_check_uses_the_chosen_model_from_flag_or_config(
    tmp_path: Path, built_model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "k.py"
    src.write_text(LOOP)
    shipped = _predictions(capsys, [str(src)])
    chosen = _predictions(capsys, [str(src), "--model", built_model])
    assert set(chosen) == set(shipped) and chosen != shipped
    # the same model named in pyproject.toml, relative to it
    model_copy = tmp_path / "models" / "mine.json"
    model_copy.parent.mkdir()
    model_copy.write_bytes(Path(built_model).read_bytes())
    (tmp_path / "pyproject.toml").write_text('[tool.greenopt]\ncost-model = "models/mine.json"\n')
    assert _predictions(capsys, [str(src)]) == chosen
    # --model wins over the config
    other = _predictions(capsys, [str(src), "--model", str(model_copy)])
    assert other == chosen


@pytest.mark.parametrize("command", [["check"], ["rewrite", "--static"]])
def test_missing_or_malformed_model_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    src = tmp_path / "k.py"
    src.write_text(LOOP)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for model, message in ((tmp_path / "none.json", "no such cost model"), (bad, "not a greenopt")):
        assert main([*command, str(src), "--model", str(model)]) == 2
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and "Traceback" not in captured.err
    assert src.read_text() == LOOP  # nothing modified


def test_rewrite_static_predicts_with_the_chosen_model(
    tmp_path: Path, built_model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "k.py"
    src.write_text(LOOP)
    reports = {}
    for name, extra in (("shipped", []), ("chosen", ["--model", built_model])):
        out = tmp_path / f"{name}.json"
        assert main(["rewrite", "--static", str(src), "-q", "--json", str(out), *extra]) == 0
        reports[name] = out.read_text()
    assert reports["shipped"] != reports["chosen"]


def test_analyze_checks_the_chosen_model_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "k.py"
    src.write_text(LOOP)
    out = tmp_path / "out"
    args = ["analyze", str(src), "--out", str(out), "--jobs", "1", "--no-progress"]
    assert main([*args, "--model", str(tmp_path / "none.json")]) == 2
    assert "no such cost model" in capsys.readouterr().err
    assert not out.exists()


def test_config_cost_model_is_resolved_against_the_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.greenopt]\ncost-model = "m/cost.json"\n')
    assert load_config(tmp_path).cost_model == str(tmp_path / "m" / "cost.json")
    (tmp_path / "pyproject.toml").write_text("[tool.greenopt]\ncost-model = 3\n")
    with pytest.raises(InputError, match="cost-model must be a path"):
        load_config(tmp_path)
