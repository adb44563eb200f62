"""Bad input to `greenopt train` and `greenopt model eval` (the hunt16 traps).

Subprocess-based: every test runs ``sys.executable -m greenopt.cli`` in a tmp_path and
checks the contract for bad input: exit 2, one line on stderr naming the problem (no
traceback, no "internal error"), nothing modified, no partial output left behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from cli_run import assert_input_error, run

CORPUS_KERNEL = '''"""a*x + y element by element into a new array."""

import numpy as np

FAMILY = "linalg"
KERNEL = "saxpy_loop"
SETUP = "import numpy as np\\nrng = np.random.default_rng(51)\\nx = rng.random({n})\\ny = rng.random({n})\\ndel rng"
CALL = "saxpy_loop(2.5, x, y)"
SIZES = {"small": {"n": 2000}, "medium": {"n": 8000}, "large": {"n": 25000}}
SHAPES = {"x": ["n"], "y": ["n"]}


def saxpy_loop(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
'''


def digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def shipped_table() -> dict:
    spec = importlib.util.find_spec("greenopt")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / "models" / "data" / "training_table.json"
    return json.loads(path.read_text(encoding="utf-8"))


# --- malformed training tables --------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"rows": 5},
        {"rows": [1, 2]},
        "features-str",
        "features-nan",
    ],
    ids=["rows-int", "rows-not-objects", "features-str", "features-nan"],
)
def test_model_eval_malformed_training_table(tmp_path: Path, document: object) -> None:
    if document == "features-str":
        table = shipped_table()
        table["rows"][0]["features"] = "abc"
        document = table
    elif document == "features-nan":
        table = shipped_table()
        for row in table["rows"]:
            row["features"] = [float("nan")] * len(row["features"])
        document = table
    (tmp_path / "t.json").write_text(json.dumps(document))
    assert_input_error(run(["model", "eval", "--data", "t.json"], tmp_path))


@pytest.mark.parametrize("document", [{"rows": 5}, {"rows": [1, 2]}], ids=["int", "list"])
def test_train_from_table_malformed_rows(tmp_path: Path, document: object) -> None:
    (tmp_path / "t.json").write_text(json.dumps(document))
    (tmp_path / "out").mkdir()
    proc = run(["train", "--from-table", "t.json", "--out", "out"], tmp_path)
    assert_input_error(proc)
    assert list((tmp_path / "out").iterdir()) == []


def test_train_from_table_out_is_a_file(tmp_path: Path) -> None:
    table = shipped_table()
    table["rows"] = table["rows"][:3]
    (tmp_path / "t.json").write_text(json.dumps(table))
    (tmp_path / "afile").write_text("keep me\n")
    proc = run(["train", "--from-table", "t.json", "--out", "afile"], tmp_path)
    assert_input_error(proc)  # today: internal error FileExistsError, exit 70
    assert (tmp_path / "afile").read_text() == "keep me\n"


# --- data modified / partial output left behind ---------------------------------------


def test_train_from_table_failed_fit_overwrites_existing_table(tmp_path: Path) -> None:
    """A fit that fails (one family) exits 2 after it has already replaced --out's
    training_table.json/.csv; with the default --out that is the shipped table."""
    table = shipped_table()
    table["rows"] = table["rows"][:3]
    (tmp_path / "tiny.json").write_text(json.dumps(table))
    out = tmp_path / "model_dir"
    out.mkdir()
    (out / "training_table.json").write_text('{"keep": true}\n')
    (out / "training_table.csv").write_text("keep\n")
    (out / "cost_model.json").write_text('{"keep": true}\n')
    before = digest(out)
    proc = run(["train", "--from-table", "tiny.json", "--out", "model_dir"], tmp_path)
    assert_input_error(proc)
    assert digest(out) == before, "failed train left a new table next to the old model"


def test_train_from_table_failed_fit_leaves_no_partial_output(tmp_path: Path) -> None:
    table = shipped_table()
    table["rows"] = table["rows"][:3]
    (tmp_path / "tiny.json").write_text(json.dumps(table))
    proc = run(["train", "--from-table", "tiny.json", "--out", "fresh/sub"], tmp_path)
    assert_input_error(proc)
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").rglob("*.*"))


def _one_kernel_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "linalg").mkdir(parents=True)
    (corpus / "linalg" / "saxpy_loop.py").write_text(CORPUS_KERNEL)
    return corpus


@pytest.mark.parametrize(
    "bad",
    [["--meter", "bogus"], ["--shard", "x"], ["--shard", "3/2"]],
    ids=["meter", "shard", "shard-range"],
)
def test_train_bad_flag_creates_store(tmp_path: Path, bad: list[str]) -> None:
    """Flags validated after the measurement store is opened: exit 2 leaves a new SQLite
    store behind (or modifies an existing one)."""
    _one_kernel_corpus(tmp_path)
    proc = run(
        [
            "train",
            "--corpus",
            "corpus",
            "--sizes",
            "small",
            "--store",
            "new.sqlite",
            "--out",
            "out",
            "-q",
            *bad,
        ],
        tmp_path,
        timeout=60,
    )
    assert_input_error(proc)
    assert not (tmp_path / "new.sqlite").exists()
    assert not (tmp_path / "out").exists()


# --- bad flag values accepted ---------------------------------------------------------


@pytest.mark.parametrize("flag", ["--sizes", "--families"])
def test_train_empty_list_flag_is_an_error(tmp_path: Path, flag: str) -> None:
    """`--sizes ,` / `--families ,` silently mean "all" (and start measuring) where
    `--select ,` is an error."""
    _one_kernel_corpus(tmp_path)
    args = [
        "train",
        "--corpus",
        "corpus",
        "--store",
        "s.sqlite",
        "--out",
        "out",
        "-q",
        "--samples",
        "2",
        "--min-sample-s",
        "0.01",
        flag,
        ",",
    ]
    if flag == "--families":
        args += ["--sizes", "small"]
    try:
        proc = run(args, tmp_path, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{flag} , started measuring instead of failing")
    assert_input_error(proc)
    assert flag in proc.stderr


# --- unclear messages -----------------------------------------------------------------


def test_train_null_byte_kernel_message_has_no_none_line(tmp_path: Path) -> None:
    corpus = _one_kernel_corpus(tmp_path)
    with (corpus / "linalg" / "saxpy_loop.py").open("ab") as fh:
        fh.write(b"x = 1\x00\n")
    proc = run(
        [
            "train",
            "--corpus",
            "corpus",
            "--sizes",
            "small",
            "--store",
            "s.sqlite",
            "--out",
            "out",
            "-q",
        ],
        tmp_path,
        timeout=60,
    )
    assert_input_error(proc)
    assert ":None:" not in proc.stderr, proc.stderr


# --- further cases of the same contract ------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("ratio", "abc"), ("family", ["x"]), ("samples", 1.5), ("sizes", [1])],
)
def test_model_eval_row_field_of_the_wrong_type(tmp_path: Path, field: str, value: object) -> None:
    table = shipped_table()
    table["rows"][0][field] = value
    (tmp_path / "t.json").write_text(json.dumps(table))
    proc = run(["model", "eval", "--data", "t.json"], tmp_path)
    assert_input_error(proc)
    assert "t.json: training table row 1" in proc.stderr, proc.stderr


def test_train_one_family_fails_before_measuring(tmp_path: Path) -> None:
    """A selection of one family cannot be fitted: refused before the store is created
    (rather than after minutes of measuring); --measure-only still accepts it."""
    _one_kernel_corpus(tmp_path)
    args = ["train", "--corpus", "corpus", "--sizes", "small", "--store", "new.sqlite"]
    proc = run([*args, "--out", "out", "-q"], tmp_path, timeout=20)
    assert_input_error(proc)
    assert "only one family" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new.sqlite").exists() and not (tmp_path / "out").exists()


def test_train_from_table_success_leaves_no_temp_files(tmp_path: Path) -> None:
    """A refit replaces the three outputs in --out and leaves nothing else there."""
    table = shipped_table()
    sized = [r for r in table["rows"] if r["view"] == "sized"]
    table["rows"] = [r for r in sized if r["family"] == "ai"][:30]
    table["rows"] += [r for r in sized if r["family"] == "fluid"][:30]
    (tmp_path / "t.json").write_text(json.dumps(table))
    out = tmp_path / "out"
    out.mkdir()
    (out / "cost_model.json").write_text("old\n")
    proc = run(["train", "--from-table", "t.json", "--out", "out"], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "cost_model.json",
        "training_table.csv",
        "training_table.json",
    ]
    assert json.loads((out / "cost_model.json").read_text())["training"]["n_families"] == 2


def test_train_goes_on_past_a_malformed_kernel_file(tmp_path: Path) -> None:
    """A corpus file with a syntax error is one error line naming it; the other kernels
    are still measured into the store, and the run exits 2 at the end."""
    corpus = _one_kernel_corpus(tmp_path)
    (corpus / "signal").mkdir()
    (corpus / "signal" / "broken.py").write_text("def f(:\n    pass\n")
    args = ["train", "--corpus", "corpus", "--sizes", "small", "--store", "s.sqlite"]
    flags = ["--passes", "vectorize", "--samples", "2", "--min-sample-s", "0.01"]
    proc = run([*args, *flags, "--measure-only", "-q"], tmp_path, timeout=300)
    assert_input_error(proc)
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "broken.py" in errors[0], proc.stderr
    assert "1 corpus kernel file(s) skipped" in proc.stderr
    from greenopt.models.table import store_rows
    from greenopt.store import Store

    store = Store(str(tmp_path / "s.sqlite"))
    try:
        rows = store_rows(store)
    finally:
        store.close()
    assert {r.kernel for r in rows} == {"linalg/saxpy_loop"}, rows  # the good one measured
