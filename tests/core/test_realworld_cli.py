"""Regressions found by running the CLI on public scientific Python code (realworld hunt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenopt.cli import main

# A method with a loop (mhdflow_1d's Grid class): jit reports GO490 "is a method; only
# module-level functions are jitted", a note that proposes nothing.
METHOD_WITH_LOOP = """\
import numpy as np


class Grid:
    def static_cartesian(self, n, dx):
        x = np.zeros(n)
        for i in range(n - 1):
            x[i + 1] = x[i] + dx
        return x
"""

# A reduction the static rewrite refuses with a reason far longer than a terminal line.
LONG_REASON = """\
import numpy as np


def get_distance(x1, x2):
    sum = 0
    for i in range(len(x1)):
        sum += (x1[i] - x2[i]) ** 2
    return np.sqrt(sum)
"""


def _write(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    return path


def test_not_jitted_note_has_no_predicted_saving_in_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "grid.py", METHOD_WITH_LOOP)
    main(["check", "--explain", "--select", "jit", str(path)])
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if " GO490 " in line]
    assert notes, out
    assert all("predicted" not in line for line in notes), notes


def test_not_jitted_note_has_no_predicted_saving_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "grid.py", METHOD_WITH_LOOP)
    main(["check", "--explain", "--format", "json", str(path)])
    findings = json.loads(capsys.readouterr().out)["findings"]
    notes = [f for f in findings if f["note"]]
    assert any(f["code"] == "GO490" for f in notes), findings
    for f in notes:
        assert f["predicted_ratio"] is None and f["predicted_saving"] is None, f
        assert f["prediction_source"] is None, f
    # the real findings of the same function still get their prediction
    assert any(not f["note"] and f["prediction_source"] is not None for f in findings)


def test_static_rewrite_report_never_folds_a_line_in_a_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "dist.py", LONG_REASON)
    code = main(["rewrite", "--static", "--no-store", str(path)])
    err = capsys.readouterr().err
    assert code == 0
    lines = err.splitlines()
    # each skipped finding is one line, however long its reason, so logs can be grepped
    skipped = [line for line in lines if line.startswith("  skipped GO102")]
    assert len(skipped) == 1, err
    assert skipped[0].rstrip().endswith("validate it with a workload"), err
    assert all(line.startswith(("greenopt rewrite", "  ")) for line in lines if line), err
