"""`greenopt check`: output formats, exit codes, per-file errors, suppression, config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenopt.cli import main

from . import kernels as K

CLEAN = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "kern.py").write_text(K.SCALE, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    return tmp_path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", "--select", "vectorize", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_file_exits_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["pkg/clean.py"], capsys)
    assert (code, out, err) == (0, "", "")


def test_findings_exit_1_with_path_line_col(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["pkg"], capsys)
    assert code == 1 and err == ""
    first = out.splitlines()[0]
    assert first.startswith("pkg/kern.py:6:5: GO101 elementwise loop")
    assert "[fixable]" in first


def test_directory_walk_skips_venv_git_and_excludes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for d in (".git", "venv", "build", "node_modules"):
        (project / d).mkdir()
        (project / d / "k.py").write_text(K.SAXPY, encoding="utf-8")
    (project / "myenv").mkdir()
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    (project / "myenv" / "k.py").write_text(K.SAXPY, encoding="utf-8")
    (project / "gen").mkdir()
    (project / "gen" / "k.py").write_text(K.SAXPY, encoding="utf-8")
    code, out, _ = run([".", "--exclude", "gen", "--format", "json"], capsys)
    paths = {f["path"] for f in json.loads(out)["findings"]}
    assert paths == {"pkg/kern.py"}
    assert code == 1


def test_diff_shows_the_fix_and_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "pkg" / "kern.py").read_text()
    code, out, _ = run(["--diff", "pkg/kern.py"], capsys)
    assert code == 1
    assert "-        out[i] = a * x[i] + 1.0" in out
    assert "+    if x.shape[0] > 0:" in out  # an empty loop over a 2-D x returns; slices raise
    assert "+        out[:x.shape[0]] = a * x + 1.0" in out
    assert (project / "pkg" / "kern.py").read_text() == before


def test_explain_shows_loops_left_alone(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "trap.py").write_text(K.HEADER + K.TRAPS["print"], encoding="utf-8")
    code, out, _ = run(["trap.py"], capsys)
    assert (code, out) == (0, "")  # a note is not a finding
    code, out, _ = run(["--explain", "trap.py"], capsys)
    assert code == 0
    assert "GO190 loop left alone: does I/O (print)" in out
    assert "may still compile it" in out  # the rationale line


def test_json_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--format", "json", "pkg/kern.py"], capsys)
    payload = json.loads(out)
    (f,) = payload["findings"]
    assert f["code"] == "GO101" and f["line"] == 6 and f["column"] == 5
    assert f["pass"] == "vectorize" and f["fixable"] and f["static_safe"]
    assert f["function"] == "scale" and f["fix"].startswith("--- a/pkg/kern.py")
    assert payload["summary"] == {"files": 1, "findings": 1, "fixable": 1, "errors": 0}


def test_sarif_structure_and_fix(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--format", "sarif", "pkg/kern.py"], capsys)
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "greenopt"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert "GO101" in rule_ids and all(r["shortDescription"]["text"] for r in driver["rules"])
    (result,) = run_["results"]
    assert result["ruleId"] == "GO101"
    assert rule_ids[result["ruleIndex"]] == "GO101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (6, 5)
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "pkg/kern.py"
    (rep,) = change["replacements"]
    assert rep["deletedRegion"]["startLine"] == 6 and rep["deletedRegion"]["endLine"] == 8
    assert rep["insertedContent"]["text"] == (
        "    if x.shape[0] > 0:\n        out[:x.shape[0]] = a * x + 1.0\n"
    )
    # applying the replacement reproduces `rewrite --static`
    lines = (project / "pkg" / "kern.py").read_text().splitlines(keepends=True)
    d = rep["deletedRegion"]
    fixed = (
        "".join(lines[: d["startLine"] - 1])
        + rep["insertedContent"]["text"]
        + "".join(lines[d["endLine"] - 1 :])
    )
    assert "for i" not in fixed and "return out" in fixed


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("syntax.py", b"def f(:\n", "syntax error"),
        ("py2.py", b"print 'hello'\n", "Python 2"),
        ("latin1.py", "x = 'caf\xe9'\n".encode("latin-1"), "not UTF-8"),
        ("binary.py", b"\x00\x01\x02ELF", "binary"),
        ("empty.py", b"", "empty file"),
    ],
)
def test_bad_file_is_one_line_exit_2_and_others_still_checked(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, message: str
) -> None:
    bad = project / name
    bad.write_bytes(content)
    code, out, err = run([str(bad.name), "pkg/kern.py"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err and name in err
    assert "Traceback" not in err
    assert "pkg/kern.py:6:5: GO101" in out  # the good file is still reported
    assert bad.read_bytes() == content


def test_missing_path(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["nope.py", "pkg/kern.py"], capsys)
    assert code == 2 and "nope.py: no such file" in err and "GO101" in out


def test_empty_init_in_a_directory_is_not_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["pkg"], capsys)
    assert code == 1 and err == ""


def test_suppression_comments(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = K.SAXPY.replace("for i in range(len(x)):", "for i in range(len(x)):  # greenopt: ignore")
    (project / "a.py").write_text(src, encoding="utf-8")
    assert run(["a.py"], capsys)[0] == 0
    for tag, expected in (("[vectorize]", 0), ("[GO101]", 0), ("[jit]", 1), ("[GO104, GO1]", 0)):
        src = K.SAXPY.replace(
            "for i in range(len(x)):", f"for i in range(len(x)):  # greenopt: ignore{tag}"
        )
        (project / "a.py").write_text(src, encoding="utf-8")
        assert run(["a.py"], capsys)[0] == expected, tag


def test_directive_inside_a_string_does_not_suppress(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = K.SAXPY.replace(
        "for i in range(len(x)):", "for i in range(len(x) + len('# greenopt: ignore') * 0):"
    )
    (project / "a.py").write_text(src, encoding="utf-8")
    _, out, _ = run(["a.py", "--explain"], capsys)
    assert "GO1" in out


def test_select_and_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["pkg/kern.py", "--ignore", "GO101"], capsys)[0] == 0
    assert run(["pkg/kern.py", "--ignore", "vectorize"], capsys)[0] == 0
    code = main(["check", "pkg/kern.py", "--select", "GO102"])
    capsys.readouterr()
    assert code == 0
    code = main(["check", "pkg/kern.py", "--select", "bogus"])
    _, err = capsys.readouterr()
    assert code == 2 and "unknown pass or rule code 'bogus'" in err


def test_config_select_ignore_exclude(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.greenopt]\nselect = ["vectorize"]\nignore = ["GO101"]\n', encoding="utf-8"
    )
    (project / "st.py").write_text(K.STENCIL, encoding="utf-8")
    code = main(["check", "pkg", "st.py"])
    out, _ = capsys.readouterr()
    assert code == 1 and "GO104" in out and "GO101" not in out and "GO4" not in out
    (project / "pyproject.toml").write_text(
        '[tool.greenopt]\nselect = ["vectorize"]\nexclude = ["pkg/*"]\n', encoding="utf-8"
    )
    code = main(["check", "."])
    out, _ = capsys.readouterr()
    assert "pkg/kern.py" not in out and "st.py" in out


def test_bad_config_is_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text("[tool.greenopt]\nselekt = []\n", encoding="utf-8")
    code = main(["check", "pkg"])
    _, err = capsys.readouterr()
    assert code == 2 and "selekt" in err


def test_check_never_imports_heavy_libraries(project: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys; from greenopt.cli import main; rc = main(['check', 'pkg']); "
        "heavy = [m for m in ('numpy', 'numba', 'sklearn', 'scipy') if m in sys.modules]; "
        "print(rc, heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=project, timeout=120
    )
    assert proc.stdout.strip().splitlines()[-1] == "1 []"


def test_precommit_hooks_file() -> None:
    text = (Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: greenopt-check" in text and "entry: greenopt check" in text
    assert "id: greenopt-rewrite-static" in text
    assert "entry: greenopt rewrite --static --write" in text
