"""`greenopt model eval|info` and `greenopt train` through the CLI entry point."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from greenopt.cli import main
from greenopt.models.table import record_row, store_rows, write_table
from greenopt.store import Store

from .conftest import synthetic_table


def test_model_eval_writes_the_documented_keys(tmp_path, table, capsys) -> None:
    data = tmp_path / "table.json"
    write_table(table, data, tmp_path / "table.csv")
    out = tmp_path / "eval.json"
    assert main(["model", "eval", "--data", str(data), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    for key in (
        "spearman",
        "pairwise_accuracy",
        "top1_regret_mean",
        "top1_regret_p90",
        "top1_regret_median",
        "top1_regret_trimmed_mean",
        "best_in_top2",
        "harm_rate",
        "mape_ratio",
        "n_kernels",
        "n_families",
        "n_samples",
    ):
        assert key in report
    assert report["cv"] == "GroupKFold"
    assert (report["n_kernels"], report["n_families"], report["n_samples"]) == (16, 4, 144)
    assert set(report["baselines"]) == {"no_change", "roofline"}
    assert "pairwise accuracy" in capsys.readouterr().out
    header = (tmp_path / "table.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["kernel", "family", "size"] and "pass_jit" in header


def test_model_eval_bad_input_is_one_line_exit_2(tmp_path, capsys) -> None:
    assert main(["model", "eval", "--data", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such training table" in err[0]
    one_family = synthetic_table()
    one_family.rows = [r for r in one_family.rows if r.family == "ai"]
    path = tmp_path / "one.json"
    write_table(one_family, path, None)
    assert main(["model", "eval", "--data", str(path)]) == 2
    assert "at least 2 families" in capsys.readouterr().err


def test_model_info(built_model, capsys) -> None:
    assert main(["model", "info", "--model", built_model]) == 0
    out = capsys.readouterr().out
    assert "trained on 144 samples" in out
    assert "the average of 10 models fitted on bootstrap resamples of the kernels" in out
    assert main(["model", "info", "--model", built_model, "--json", "-"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["available"] and set(info["n_trees"]) == {"point", "q10", "q90"}
    assert all(n > 0 for n in info["n_trees"].values())  # the packed trees are counted
    assert info["this_machine"]["same_as_training"] is False  # the synthetic table's "test"


def test_model_info_says_whether_the_table_was_measured_here(built_model, tmp_path, capsys) -> None:
    from greenopt.measure.machine import machine_fingerprint

    here = machine_fingerprint()
    assert main(["model", "info", "--model", built_model]) == 0
    out = capsys.readouterr().out
    assert "measured on: unknown CPU (machine id test); not this machine" in out
    assert f"machine id {here.machine_id}): which Numba flags win differs" in out
    doc = json.loads(Path(built_model).read_text(encoding="utf-8"))
    doc["training"]["machine"] = here.to_dict()
    path = tmp_path / "here.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["model", "info", "--model", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"(machine id {here.machine_id}); this machine" in out
    assert main(["model", "info", "--model", str(path), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["this_machine"]["same_as_training"] is True
    doc["training"]["machine"] = {}
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["model", "info", "--model", str(path)]) == 0
    assert "measured on: unknown machine" in capsys.readouterr().out


def test_train_fit_only_from_a_store(tmp_path, monkeypatch, capsys) -> None:
    """Rows recorded in the store are exported and fitted without measuring anything."""
    from greenopt.measure.machine import machine_fingerprint
    from greenopt.models.corpus import default_corpus_dir, load_corpus

    kernels = load_corpus(default_corpus_dir(), limit=3)
    table = synthetic_table(n_kernels=3)
    machine = machine_fingerprint().machine_id
    by_family = {}
    for k in kernels:
        by_family.setdefault(k.family, []).append(k)
    store_path = tmp_path / "store.sqlite"
    store = Store(store_path)
    from greenopt.models.collect import load_passes, plan

    hashes: dict[str, list[str]] = {}
    for task in plan(kernels, load_passes()[0]).tasks:
        hashes.setdefault(task.kernel.key, []).append(task.candidate_hash)
    recorded = 0
    for row in table.rows:
        kernel = by_family[row.family][int(row.kernel[-1])]
        row.kernel, row.machine_id = kernel.key, machine
        # each synthetic candidate stands for one the passes really generate
        c = int(row.candidate[1:])
        if c < len(hashes.get(kernel.key, ())):
            row.candidate = hashes[kernel.key][c]
            record_row(store, row)
            recorded += 1
    # and one row of a candidate no pass generates any more (a pass changed since)
    stale = table.rows[0]
    stale.candidate = "0123456789ab"
    record_row(store, stale)
    assert len(store_rows(store)) == recorded + 1
    store.close()
    out = tmp_path / "out"
    rc = main(
        ["train", "--fit-only", "--store", str(store_path), "--out", str(out), "--limit", "3"]
    )
    assert rc == 0
    assert {p.name for p in out.iterdir()} == {
        "training_table.json",
        "training_table.csv",
        "cost_model.json",
    }
    exported = json.loads((out / "training_table.json").read_text())
    assert "0123456789ab" not in {r["candidate"] for r in exported["rows"]}
    assert any("1 stored rows of candidates" in n for n in exported["notes"])
    doc = json.loads((out / "cost_model.json").read_text())
    assert doc["format"] == "greenopt-cost-model" and doc["cv"]["cv"] == "GroupKFold"
    assert doc["training"]["meters"] == ["estimate"] and doc["training"]["measured"] is False


@pytest.mark.parametrize(
    "args, message",
    [
        (["--families", "nope"], "no corpus kernels"),
        (["--fit-only", "--measure-only"], "exclude each other"),
        (["--samples", "0"], "--samples"),
        (["--retries", "-1"], "--retries"),
        (["--max-other-cpus", "-0.5"], "--max-other-cpus"),
        (["--corpus", "/nonexistent/corpus"], "corpus directory not found"),
        (["--sizes", "huge"], "unknown sizes: huge"),
    ],
)
def test_train_bad_input(tmp_path, capsys, args, message) -> None:
    rc = main(["train", "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o"), *args])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o").exists()


def test_train_fit_only_with_empty_store_is_exit_2(tmp_path, capsys) -> None:
    rc = main(
        ["train", "--fit-only", "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o")]
    )
    assert rc == 2
    assert "no measured training rows" in capsys.readouterr().err


def test_train_bad_shard(tmp_path, capsys) -> None:
    rc = main(["train", "--store", str(tmp_path / "s.sqlite"), "--shard", "3/2", "--limit", "1"])
    assert rc == 2
    assert "--shard" in capsys.readouterr().err


KERNEL = '''"""{doc}"""

import numpy as np

FAMILY = "{family}"
KERNEL = "{name}"
SETUP = "import numpy as np\\nrng = np.random.default_rng(1)\\nx = rng.random({{n}})\\ny = rng.random({{n}})\\ndel rng"
CALL = "{name}(x, y)"
SIZES = {{"small": {{"n": 500}}, "medium": {{"n": 1000}}, "large": {{"n": 2000}}}}
SHAPES = {{"x": ["n"], "y": ["n"]}}


def {name}(x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = {expr}
    return out
'''


def test_train_end_to_end_measures_resumes_and_fits(tmp_path, capsys) -> None:
    """Two one-kernel families: candidates are checked, measured, stored, then fitted."""
    corpus = tmp_path / "corpus"
    for family, name, expr in (("fa", "addk", "x[i] + y[i]"), ("fb", "mulk", "x[i] * y[i]")):
        (corpus / family).mkdir(parents=True)
        (corpus / family / f"{name}.py").write_text(
            KERNEL.format(doc=name, family=family, name=name, expr=expr)
        )
    store, out = tmp_path / "s.sqlite", tmp_path / "out"
    args = [
        "train",
        "--corpus",
        str(corpus),
        "--store",
        str(store),
        "--out",
        str(out),
        "--passes",
        "vectorize",
        "--samples",
        "2",
        "--min-sample-s",
        "0.01",
        "--meter",
        "estimate",
    ]
    assert main([*args, "--measure-only"]) == 0
    rows = store_rows(Store(store))
    assert len(rows) == 6 and {r.status for r in rows} == {"measured"}
    assert all(r.meter == "estimate" and r.measured is False and r.ratio > 0 for r in rows)
    # x and y are parameters of unknown rank: the slices run behind a rank guard
    assert all(r.passes == ["vectorize"] and "out[:len(x)] = " in r.candidate_code for r in rows)
    assert all("if x.ndim == y.ndim == 1:" in r.candidate_code for r in rows)
    assert all("for " in r.original_code for r in rows)
    assert all(r.attempts >= 1 for r in rows)
    if Path("/proc/stat").exists():  # the machine's other load while each row was measured
        assert all(r.other_cpus is not None and r.other_cpus >= 0 for r in rows)
    capsys.readouterr()
    assert main(args) == 0  # resumes: nothing left to measure, then fits
    assert "(0 still to measure)" in capsys.readouterr().err
    assert len(store_rows(Store(store))) == 6
    table = json.loads((out / "training_table.json").read_text())
    assert len(table["rows"]) == 12  # sized + unsized view of each measured row
    assert table["machine"]["machine_id"]
    # a quicker run on one size: only those rows are measured and fitted
    quick_store, quick_out = tmp_path / "q.sqlite", tmp_path / "q"
    quick = [*args[:4], str(quick_store), "--out", str(quick_out), *args[7:]]
    assert main([*quick, "--sizes", "medium"]) == 0
    assert {r.size for r in store_rows(Store(quick_store))} == {"medium"}
    table = json.loads((quick_out / "training_table.json").read_text())
    assert {r["size"] for r in table["rows"]} == {"medium"} and len(table["rows"]) == 4
    capsys.readouterr()
    # fitting the full store on one size keeps only that size's rows
    assert main([*args, "--fit-only", "--sizes", "large"]) == 0
    table = json.loads((out / "training_table.json").read_text())
    assert {r["size"] for r in table["rows"]} == {"large"}


def _table_with_code(tmp_path):
    """A table of two families whose rows carry function sources but stale features."""
    table = synthetic_table(n_kernels=2)
    table.rows = [r for r in table.rows if r.family in ("ai", "fluid")]
    code = "def k(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i] / 3.0\n    return s\n"
    for row in table.rows:
        row.original_code = code
        row.candidate_code = "import numba\n@numba.njit(cache=True)\n" + code
        row.function, row.sizes = "k", {"x": 100, "x.size": 100}
        row.features = {n: 0.0 for n in table.feature_names}
    path = tmp_path / "table.json"
    write_table(table, path, None)
    return table, path


def test_train_from_table_refeaturizes_and_refits_without_measuring(tmp_path, capsys) -> None:
    table, path = _table_with_code(tmp_path)
    out = tmp_path / "out"
    assert main(["train", "--from-table", str(path), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    fresh = json.loads((out / "training_table.json").read_text())
    assert len(fresh["rows"]) == 2 * len(table.rows)  # a sized and an unsized view of each
    names = fresh["feature_names"]
    sized = next(r for r in fresh["rows"] if r["view"] == "sized")
    feats = dict(zip(names, sized["features"], strict=True))
    assert feats["orig_divisions_w"] == pytest.approx(math.log1p(100))
    assert feats["delta_mode_jit"] == 1.0
    doc = json.loads((out / "cost_model.json").read_text())
    assert doc["feature_names"] == names and doc["training"]["n_families"] == 2


def test_train_from_table_bad_input(tmp_path, capsys) -> None:
    _, path = _table_with_code(tmp_path)
    args = ["train", "--from-table", str(path), "--out", str(tmp_path / "o")]
    assert main([*args, "--fit-only"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert main(["train", "--from-table", str(tmp_path / "none.json")]) == 2
    assert "no such training table" in capsys.readouterr().err
    bare = synthetic_table()
    write_table(bare, tmp_path / "bare.json", None)
    assert (
        main(["train", "--from-table", str(tmp_path / "bare.json"), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "no measured rows with function sources" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "shards, cpus, warned",
    [(1, 2, False), (2, 2, True), (2, 4, False), (3, 4, True), (4, 16, False)],
)
def test_shard_warning_when_shards_would_compete_for_cores(shards, cpus, warned) -> None:
    from greenopt.commands.train import shard_warning

    message = shard_warning(shards, cpus)
    assert (message is not None) is warned
    if message:
        assert f"{shards} shards on {cpus} CPUs" in message


def test_grouped_measurement_shares_the_original_and_attributes_a_failure(tmp_path) -> None:
    """A kernel's candidates are measured in one session per size; one that fails at a
    larger size (after passing the equivalence check on the smallest) is recorded as
    failed there, and its sibling is still measured."""
    from greenopt.models.collect import CandidateTask, CollectOptions, Collector
    from greenopt.models.corpus import load_kernel

    path = tmp_path / "fa" / "addk.py"
    path.parent.mkdir()
    path.write_text(KERNEL.format(doc="addk", family="fa", name="addk", expr="x[i] + y[i]"))
    kernel = load_kernel(path)
    good = "def addk(x, y):\n    return x + y\n"
    fragile = "def addk(x, y):\n    if len(x) > 600:\n        raise ValueError('too big')\n    return x + y\n"
    tasks = [
        CandidateTask(
            kernel=kernel,
            function="addk",
            candidate_hash=name,
            candidate_code=kernel.code.split("def addk")[0] + body,
            original_function="",
            candidate_function=body,
            passes=("vectorize",),
            recipe=name,
        )
        for name, body in (("good", good), ("fragile", fragile))
    ]
    store = Store(tmp_path / "s.sqlite")
    collector = Collector(
        store,
        CollectOptions(meter="estimate", samples=2, min_sample_s=0.01, timeout_s=60),
        "estimate",
        False,
        "m",
        workdir=str(tmp_path),
    )
    try:
        rows = collector.run_kernel(kernel, tasks)
    finally:
        collector.close()
    status = {(r.candidate, r.size): r.status for r in rows}
    assert status == {
        ("good", "small"): "measured",
        ("good", "medium"): "measured",
        ("good", "large"): "measured",
        ("fragile", "small"): "measured",
        ("fragile", "medium"): "failed",
        ("fragile", "large"): "failed",
    }
    small = {r.candidate: r for r in rows if r.size == "small"}
    assert small["good"].orig_energy_j == small["fragile"].orig_energy_j  # one shared original
    assert all("too big" in r.reason for r in rows if r.status == "failed")
    assert len(store_rows(store)) == 6
