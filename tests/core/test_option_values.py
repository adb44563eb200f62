"""Option values checked before any work: report paths, --memory-mb, --samples,
--timeout, --splits, --store directories, a command group without a command, syntax
errors named by their flag, and bad files of an analyze batch named on stderr."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from greenopt.cli import main

KERNEL = "def f(n):\n    s = 0.0\n    for i in range(n):\n        s += i\n    return s\n"
MEASURE = ["measure", "--setup", "x = 1", "--call", "x + 1", "-q"]


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def kernel(tmp_path: Path) -> Path:
    path = tmp_path / "k.py"
    path.write_text(KERNEL)
    return path


# -- 1. report paths are checked before the work -------------------------------------


def test_measure_json_path_that_cannot_be_written_fails_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a directory used to pass the check and fail only after measuring
    assert main([*MEASURE, "--no-store", "--json", str(tmp_path)]) == 2
    assert "is a directory" in _one_line(capsys.readouterr().err)
    assert main([*MEASURE, "--no-store", "--json", str(tmp_path / "no" / "x.json")]) == 2
    assert "directory does not exist" in _one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["model", "eval"], ["model", "info"]])
def test_model_json_path_is_checked_before_the_work(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--json", str(tmp_path / "missing" / "x.json")]) == 2
    captured = capsys.readouterr()
    assert "directory does not exist" in _one_line(captured.err)
    assert captured.out == ""  # nothing was evaluated or printed first


# -- 2. --memory-mb has a floor ---------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "255", "-1"])
def test_rewrite_memory_limit_below_the_floor_is_refused(
    kernel: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rewrite", str(kernel), "--call", "f(10)", "--memory-mb", value]) == 2
    assert "at least 256 MB" in _one_line(capsys.readouterr().err)
    assert kernel.read_text() == KERNEL


# -- 3. --samples: a confidence interval needs two ----------------------------------------


def test_measure_and_train_need_two_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*MEASURE, "--no-store", "--samples", "1"]) == 2
    assert "--samples must be at least 2" in _one_line(capsys.readouterr().err)
    out = tmp_path / "out"
    assert (
        main(["train", "--store", str(tmp_path / "s.sqlite"), "--out", str(out), "--samples", "1"])
        == 2
    )
    assert "--samples must be at least 2" in _one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


# -- 4. train --timeout, and why nothing could be fitted ------------------------------------


@pytest.mark.parametrize("value", ["0", "-5", "inf", "nan", "1e9"])
def test_train_timeout_is_validated_like_rewrite_and_measure(
    tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o")]
    assert main(["train", *args, "--timeout", value]) == 2
    train_err = _one_line(capsys.readouterr().err)
    assert main([*MEASURE, "--no-store", "--timeout", value]) == 2
    measure_err = _one_line(capsys.readouterr().err)
    assert "--timeout must be a positive, finite number of seconds" in train_err
    assert train_err == measure_err
    assert list(tmp_path.iterdir()) == []


def test_no_rows_message_does_not_blame_fit_only_when_measuring_failed() -> None:
    from greenopt.commands.train import _no_rows_message

    failed = [SimpleNamespace(status="failed", reason="child timed out after 0.1 s")] * 3
    message = _no_rows_message(failed, fit_only=False)
    assert "--fit-only" not in message
    assert "3 x failed: child timed out" in message and "--timeout" in message
    assert "run without --fit-only" in _no_rows_message([], fit_only=True)
    assert "--fit-only" not in _no_rows_message([], fit_only=False)


# -- 5. model eval --splits ---------------------------------------------------------------


def test_model_eval_splits_above_the_families_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["model", "eval", "--splits", "1000"]) == 2
    captured = capsys.readouterr()
    assert "--splits 1000: the table has only" in _one_line(captured.err)
    assert captured.out == ""


# -- 6. analyze names its bad files -----------------------------------------------------------


def _corpus(root: Path, bad: int) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "good.py").write_text(KERNEL)
    for i in range(bad):
        (corpus / f"bad{i}.py").write_text("def f(:\n")
    (corpus / "latin1.py").write_bytes(b"\xff\xfe = 1\n")
    return corpus


def test_analyze_names_each_bad_file_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus(tmp_path, bad=1)
    out = tmp_path / "out"
    assert main(["analyze", str(corpus), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("greenopt: error: ") and "bad0.py: line 1" in line for line in err)
    assert any("latin1.py: not UTF-8 (byte 0)" in line for line in err)  # check's words
    assert not any("good.py" in line for line in err)


def test_analyze_caps_the_bad_files_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import greenopt.commands.analyze as analyze

    monkeypatch.setattr(analyze, "MAX_ERRORS_SHOWN", 2)
    corpus = _corpus(tmp_path, bad=3)
    out = tmp_path / "out"
    assert main(["analyze", str(corpus), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert sum(line.startswith("greenopt: error: ") for line in err) == 2
    assert err[-1].startswith("greenopt: ... and 2 more file(s) with errors")


# -- 7. a group without a command ------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["model"]])
def test_a_group_without_a_command_is_a_usage_error(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("greenopt: error: missing command; usage: greenopt")
    assert main([*command, "--help"]) == 0
    assert "Usage:" in capsys.readouterr().out


# -- 8. syntax errors are named by their flag or file ------------------------------------------


def test_setup_syntax_error_names_setup_not_call(
    kernel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rewrite", str(kernel), "--setup", "x = (", "--call", "f(10)"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "syntax error in setup (--setup)" in line and "--call" not in line
    module = ["--module", str(kernel)]
    assert (
        main([*MEASURE[:1], "--no-store", "-q", *module, "--setup", "x = (", "--call", "f(1)"]) == 2
    )
    line = _one_line(capsys.readouterr().err)
    assert "syntax error in setup (--setup)" in line and "--call" not in line
    assert main([*MEASURE[:1], "--no-store", "-q", *module, "--call", "f(1"]) == 2
    assert "syntax error in call 'f(1' (--call)" in _one_line(capsys.readouterr().err)


def test_workload_file_compile_errors_name_the_file_and_line(
    kernel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workload = kernel.parent / "k_workload.py"
    # parses (ast) but does not compile: reported before any child starts
    workload.write_text("import k\nbreak\n\n\ndef workload_f():\n    return k.f(10)\n")
    assert main(["rewrite", str(kernel), "--workload", str(workload), "--no-store"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "k_workload.py:2: syntax error in workload file: 'break' outside loop" in line


# -- 9. --store in a missing directory ------------------------------------------------------------


def test_store_in_a_missing_directory_is_refused_everywhere(
    kernel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "typo" / "s.sqlite")
    assert main([*MEASURE, "--store", store]) == 2
    assert "directory does not exist" in _one_line(capsys.readouterr().err)
    assert main(["rewrite", str(kernel), "--call", "f(10)", "--store", store]) == 2
    assert "directory does not exist" in _one_line(capsys.readouterr().err)
    assert main(["train", "--fit-only", "--store", store, "--out", str(tmp_path / "o")]) == 2
    assert "directory does not exist" in _one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.py"]


def test_the_default_store_still_gets_its_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import greenopt.store as store_module
    from greenopt.errors import InputError

    default = tmp_path / "data" / "greenopt" / "greenopt.sqlite"
    monkeypatch.setattr(store_module, "default_store_path", lambda: default)
    store_module.check_store_option(default)  # named explicitly: still fine
    with pytest.raises(InputError, match="directory does not exist"):
        store_module.check_store_option(tmp_path / "other" / "s.sqlite")
    store_module.Store().close()
    assert default.is_file()
