"""What people read: the `rewrite --static` summary and `check`'s JSON, SARIF, `--diff`
and `--explain` (fixes from a real-world code hunt). The validated rewrite's report is
tested in `tests/validate/test_report_ux_rewrite.py`.

Fast: `check` and `rewrite --static` never run code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenopt.cli import main

KERNELS = """import numpy as np


def scale(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] * 2.0
    return out


def total(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
    return s


def cumulate(x):
    out = np.zeros(len(x))
    acc = 0.0
    for i in range(len(x)):
        acc = acc + x[i]
        out[i] = acc
    return out
"""

SCRIPT = """import numpy as np

u = np.zeros(100)
for step in range(10):
    for i in range(1, 99):
        u[i] = u[i] + 1.0


class Grid:
    for _ in range(2):
        pass


def f():
    for i in range(3):
        pass


if __name__ == "__main__":
    while u[0] < 1:
        u[0] += 1
"""


@pytest.fixture
def kernels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.py").write_text(KERNELS, encoding="utf-8")
    (tmp_path / "script.py").write_text(SCRIPT, encoding="utf-8")
    return tmp_path


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# -- 1. rewrite --static: findings that need a workload are one grouped line -------------


def test_static_rewrite_groups_findings_that_need_a_workload(
    kernels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(["rewrite", "--static", "k.py", "--json", "r.json"], capsys)
    assert code == 0
    lines = err.splitlines()
    grouped = [line for line in lines if "that need a workload" in line]
    assert len(grouped) == 1, err
    assert "jit: scale, total, cumulate" in grouped[0]
    assert "greenopt rewrite k.py --workload W" in grouped[0]
    assert not [line for line in lines if "the jit pass needs a workload" in line]
    # the JSON report keeps every skipped item
    report = json.loads((kernels / "r.json").read_text())
    jit = [s for s in report["skipped"] if s["pass"] == "jit"]
    assert len(jit) >= 3 and all("needs a workload" in s["reason"] for s in jit)
    # -v lists each one again
    _, _, verbose = _cli(["rewrite", "--static", "k.py", "-v"], capsys)
    assert "that need a workload" not in verbose
    assert len([x for x in verbose.splitlines() if "the jit pass needs a workload" in x]) == len(
        jit
    )


# -- 2. check JSON / SARIF: `fixable` means a static fix is offered ----------------------


def test_check_json_fixable_is_consistent_with_fix_and_summary(
    kernels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(["check", "k.py", "--format", "json", "--no-predict"], capsys)
    assert code == 1
    payload = json.loads(out)
    findings = payload["findings"]
    jit = [f for f in findings if f["pass"] == "jit"]
    assert jit and all(not f["fixable"] and f["fix_status"] == "workload" for f in jit)
    for f in findings:
        assert f["fixable"] == (f["fix_status"] == "static")
        if f["fixable"]:
            assert f["fix"] and f["static_safe"]
    assert payload["summary"]["fixable"] == sum(f["fixable"] for f in findings) >= 1


def test_check_sarif_fixable_matches_the_offered_fixes(
    kernels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _cli(["check", "k.py", "--format", "sarif", "--no-predict"], capsys)
    results = json.loads(out)["runs"][0]["results"]
    assert results
    for r in results:
        props = r["properties"]
        assert props["fixable"] == ("fixes" in r) == (props["fixStatus"] == "static")


# -- 3. check --diff: a finding without a static fix says so ----------------------------


def test_check_diff_says_when_a_finding_needs_a_workload(
    kernels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _cli(["check", "k.py", "--diff", "--no-predict", "--select", "jit"], capsys)
    lines = out.splitlines()
    go401 = [i for i, line in enumerate(lines) if " GO401 " in line]
    assert go401
    for i in go401:
        assert lines[i + 1] == "    no static fix: needs a workload (greenopt rewrite --workload)"
    _, plain, _ = _cli(["check", "k.py", "--no-predict", "--select", "jit"], capsys)
    assert "no static fix" not in plain  # only under --diff, in text
    _, js, _ = _cli(["check", "k.py", "--diff", "--format", "json", "--no-predict"], capsys)
    assert "no static fix" not in js


# -- 4. module-level loops: a note, never a finding ---------------------------------------


def test_module_level_loops_are_counted_and_explained_not_reported(
    kernels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(["check", "script.py", "--no-predict"], capsys)
    assert code == 0  # exit status unchanged: a note is not a finding
    # the outer `for` (its nested loop is not counted again), the class body's and the
    # `while` under `if __name__ == "__main__"`; never the function's loop
    assert out == (
        "No findings. 3 module-level loop(s) not analysed: only functions are "
        "(--explain lists them).\n"
    )
    code, out, _ = _cli(["check", "script.py", "--no-predict", "--explain"], capsys)
    assert code == 0
    notes = [line for line in out.splitlines() if ": note: module-level loop" in line]
    assert [n.split(": note")[0] for n in notes] == [
        "script.py:4:1",
        "script.py:10:5",
        "script.py:20:5",
    ]
    # with findings, the count joins the summary line
    code, out, _ = _cli(["check", "script.py", "k.py", "--no-predict"], capsys)
    assert code == 1
    assert out.splitlines()[-1].endswith(
        "3 module-level loop(s) not analysed: only functions are (--explain lists them)."
    )
    # JSON: a separate `notes` list, no finding; SARIF: nothing
    _, js, _ = _cli(["check", "script.py", "--format", "json", "--no-predict"], capsys)
    payload = json.loads(js)
    assert payload["findings"] == [] and payload["summary"]["findings"] == 0
    assert [(n["line"], n["kind"]) for n in payload["notes"]] == [
        (4, "module-level-loop"),
        (10, "module-level-loop"),
        (20, "module-level-loop"),
    ]
    _, sarif, _ = _cli(["check", "script.py", "--format", "sarif", "--no-predict"], capsys)
    assert json.loads(sarif)["runs"][0]["results"] == []
