"""`greenopt analyze` end to end: statuses, tables, resume, interruption, bad flags."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from greenopt.batch.discovery import discover
from greenopt.batch.file_analysis import AnalysisOptions
from greenopt.batch.results import DB_NAME, ResultStore
from greenopt.batch.runner import BatchOptions, run_batch
from greenopt.cli import main
from greenopt.optimizer.findings import available_passes

from .conftest import expected_statuses, make_corpus


@pytest.fixture(autouse=True)
def pinned_code_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the cache key stable while other work edits this checkout during the tests."""
    monkeypatch.setattr("greenopt.batch.fingerprint.code_fingerprint", lambda: "pinned")


def _statuses(out: Path) -> dict[str, str]:
    with ResultStore(out / DB_NAME) as store:
        return {r["path"]: r["status"] for r in store.file_rows()}


def test_analyze_records_every_file_with_its_status(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = main(["analyze", str(corpus), "--out", str(out), "--jobs", "1", "--format", "csv"])
    assert rc == 0
    assert _statuses(out) == expected_statuses(corpus)
    stdout = capsys.readouterr().out
    assert "14 analysed, 0 reused" in stdout and "report:" in stdout
    with (out / "functions.csv").open() as fh:
        functions = list(csv.DictReader(fh))
    names = {(Path(r["path"]).name, r["qualname"]) for r in functions}
    assert ("relu_naive.py", "relu_naive") in names
    assert ("logsumexp.py", "logsumexp") in names
    with (out / "opportunities.csv").open() as fh:
        opps = list(csv.DictReader(fh))
    assert any(r["code"].startswith("GO1") and r["qualname"] == "relu_naive" for r in opps)
    for r in opps:  # a prediction is the model's (with an interval) or explicitly absent
        if r["prediction_source"] == "none":
            assert r["predicted_ratio"] == ""
        else:
            assert float(r["predicted_lo"]) <= float(r["predicted_hi"])
    assert (out / "files.csv").is_file() and (out / "report.html").is_file()


def test_rerun_reuses_unchanged_files_and_reanalyses_changed_ones(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(corpus), "--out", str(out), "--jobs", "1"]) == 0
    capsys.readouterr()
    (corpus / "kernels" / "relu_naive.py").write_text("def relu(x):\n    return x\n")
    assert main(["analyze", str(corpus), "--out", str(out), "--jobs", "1"]) == 0
    stdout = capsys.readouterr().out
    # 14 files, too-large and symlink-loop are parent-side (never cached); 1 changed file
    assert "(3 analysed, 11 reused)" in stdout
    assert main(["analyze", str(corpus), "--out", str(out), "--jobs", "1", "--no-resume"]) == 0
    assert "(14 analysed, 0 reused)" in capsys.readouterr().out


def test_exclude_and_gitignore(corpus: Path, tmp_path: Path) -> None:
    d = discover([corpus], excludes=["broken/", "*_helpers.py"])
    names = sorted(Path(f.path).name for f in d.files)
    assert "syntax.py" not in names and "string_helpers.py" not in names
    assert "generated.py" not in names and "skip.gen.py" not in names and "keep.gen.py" in names
    assert d.n_excluded == 2 and d.n_gitignored == 2
    d2 = discover([corpus], use_gitignore=False)
    assert {"generated.py", "skip.gen.py"} <= {Path(f.path).name for f in d2.files}


def test_parquet_and_json_exports(corpus: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert (
        main(["analyze", str(corpus), "--out", str(out), "--jobs", "1", "--format", "parquet"]) == 0
    )
    table = pq.read_table(out / "functions.parquet")
    assert "predicted_saving" in table.column_names and table.num_rows > 10
    assert main(["analyze", str(corpus), "--out", str(out), "--jobs", "1", "--format", "json"]) == 0
    doc = json.loads((out / "greenopt-analysis.json").read_text())
    assert {r["status"] for r in doc["files"]} >= {"ok", "syntax", "python2", "binary"}
    assert isinstance(doc["functions"][0]["features"], dict)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--scheduler", "localhost:1"], "--scheduler must be an address"),
        (["--max-file-bytes", "0"], "--max-file-bytes must be positive"),
        (["--passes", "nope"], "unknown pass"),
        (["--format", "xml"], "xml"),
    ],
)
def test_bad_flags_exit_2_and_write_nothing(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(corpus), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_interrupted_run_keeps_finished_files_and_resumes(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = BatchOptions(
        out_dir=out, analysis=AnalysisOptions(passes=tuple(available_passes())), jobs=1
    )
    seen: list[str] = []

    def interrupt_after_four(result: object) -> None:
        seen.append(str(result))
        if len(seen) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(discover([corpus]), options, on_result=interrupt_after_four)
    committed = _statuses(out)
    assert len(committed) == 4  # nothing finished was lost
    with sqlite3.connect(out / DB_NAME) as conn:
        cached = conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0]
    summary = run_batch(discover([corpus]), options)
    assert summary.n_reused == cached and summary.n_analyzed == 14 - cached
    assert _statuses(out) == expected_statuses(corpus)


def test_killed_process_resumes(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    for i in range(12):  # enough work to be killed part-way
        (corpus / "many").mkdir(exist_ok=True)
        (corpus / "many" / f"k{i}.py").write_text(
            (corpus / "kernels" / "matmul_naive.py").read_text() + f"\nVERSION = {i}\n"
        )
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "greenopt",
        "analyze",
        str(corpus),
        "--out",
        str(out),
        "--jobs",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / DB_NAME
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    done = conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0]
            except sqlite3.Error:
                done = 0
            if done >= 3:
                break
        time.sleep(0.05)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        cached = conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0]
    assert cached >= 3
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert f"{cached} reused" in result.stdout
    statuses = _statuses(out)
    assert len(statuses) == 26 and statuses[str(corpus / "many" / "k11.py")] == "ok"
