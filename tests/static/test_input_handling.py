"""Input handling of the static front ends: encodings (BOM, PEP 263), Python 3.12
syntax, SARIF URIs and notifications, the findings count, `# greenopt: ignore[...]`
warnings, empty `--select`, and `--exclude` on files named on the command line."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from greenopt.cli import main
from greenopt.errors import InputError
from greenopt.optimizer.source import atomic_write, read_source

from . import kernels as K

BOM = b"\xef\xbb\xbf"
#: a module with a statically proven fix (GO101 at 6:5) and jit variants (GO401-GO403)
LATIN1 = (
    "# -*- coding: latin-1 -*-\n"
    + K.HEADER
    + 'def scale(a, x):\n    """caf\xe9"""\n'
    + "    out = np.zeros(x.shape[0])\n"
    + "    for i in range(x.shape[0]):\n"
    + "        out[i] = a * x[i] + 1.0\n"
    + "    return out\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- 1. byte-order mark ------------------------------------------------------------


def test_bom_file_is_checked_exactly_like_the_same_file_without_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "plain.py").write_text(K.SCALE, encoding="utf-8")
    (project / "bom.py").write_bytes(BOM + K.SCALE.encode("utf-8"))
    results = {}
    for name in ("plain", "bom"):
        code, out, err = run(["check", "--format", "json", f"{name}.py"], capsys)
        assert code == 1 and err == ""
        text = out.replace(f"{name}.py", "X.py")
        results[name] = json.loads(text)["findings"]
    assert results["bom"] == results["plain"]
    # the shipped model predicts the BOM file's findings too
    assert any(f["predicted_saving"] is not None for f in results["bom"])
    diffs = {}
    for name in ("plain", "bom"):
        code, out, _ = run(["check", "--diff", f"{name}.py"], capsys)
        diffs[name] = out.replace(f"{name}.py", "X.py")
    assert diffs["bom"] == diffs["plain"] and "% predicted" in diffs["bom"]


def test_rewrite_static_write_keeps_the_bom(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "plain.py").write_text(K.SCALE, encoding="utf-8")
    (project / "bom.py").write_bytes(BOM + K.SCALE.encode("utf-8"))
    reports = {}
    for name in ("plain", "bom"):
        code, _, err = run(["rewrite", "--static", "--write", f"{name}.py"], capsys)
        assert code == 0, err
        reports[name] = err.replace(f"{name}.py", "X.py")
    assert reports["bom"] == reports["plain"] and "% predicted" in reports["bom"]
    plain = (project / "plain.py").read_bytes()
    assert b"for i" not in plain
    assert (project / "bom.py").read_bytes() == BOM + plain


# -- 2. PEP 263 encodings ------------------------------------------------------------


def test_latin1_declared_file_is_read_and_written_back_in_latin1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "lat.py"
    target.write_bytes(LATIN1.encode("latin-1"))
    code, out, err = run(["check", "lat.py"], capsys)
    assert code == 1 and err == "" and "lat.py:8:5: GO101" in out
    code, _, err = run(["rewrite", "--static", "--write", "-q", "lat.py"], capsys)
    assert code == 0, err
    data = target.read_bytes()
    assert b'"""caf\xe9"""' in data and b"for i" not in data  # still Latin-1
    compile(data, "lat.py", "exec")  # Python reads it back, with its declaration
    assert data.decode("latin-1").startswith("# -*- coding: latin-1 -*-\n")


@pytest.mark.parametrize(
    "content,message",
    [
        (b"# coding: ascii\nx = '\xe9'\n", "not valid ascii text"),
        (b"x = 1\ny = '\xe9'\n", "not UTF-8 (byte 11)"),
        (b"# coding: no-such-codec\nx = 1\n", "bad encoding declaration"),
    ],
)
def test_text_not_valid_in_its_encoding_is_one_line_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    (project / "bad.py").write_bytes(content)
    (project / "good.py").write_text(K.SCALE, encoding="utf-8")
    code, out, err = run(["check", "bad.py", "good.py"], capsys)
    assert code == 2 and message in one_error_line(err) and "bad.py" in err
    assert "good.py:6:5: GO101" in out
    assert (project / "bad.py").read_bytes() == content


def test_atomic_write_encodes_as_the_text_declares(tmp_path: Path) -> None:
    from greenopt.optimizer.source import encode_source

    target = tmp_path / "m.py"
    atomic_write(target, "# coding: latin-1\nx = 'é'\n")
    assert target.read_bytes() == b"# coding: latin-1\nx = '\xe9'\n"
    assert read_source(target) == "# coding: latin-1\nx = 'é'\n"
    atomic_write(target, "\ufeffx = 'é'\n")
    assert target.read_bytes() == BOM + "x = 'é'\n".encode()
    with pytest.raises(InputError, match="declared encoding ascii"):
        encode_source("# coding: ascii\nx = 'é'\n", "m.py")


# -- 3. Python 3.12 syntax on an older Python ---------------------------------------

NEWER = pytest.mark.skipif(sys.version_info >= (3, 12), reason="the syntax is valid here")


@NEWER
@pytest.mark.parametrize(
    "source",
    [
        "type X = list[int]\n",
        "def f[T](x: T) -> T:\n    return x\n",
        "class C[T]:\n    pass\n",
        'x = "a"\ny = f"{f"{x}"}"\n',
    ],
)
def test_python_312_syntax_gets_a_hint(
    project: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    (project / "new.py").write_text(source, encoding="utf-8")
    code, _, err = run(["check", "new.py"], capsys)
    line = one_error_line(err)
    assert code == 2 and "new.py:" in line and "syntax error" in line
    assert line.endswith(
        f"(this syntax needs Python 3.12+; greenopt is running on "
        f"{sys.version_info.major}.{sys.version_info.minor})"
    )


@NEWER
@pytest.mark.parametrize("source", ["def f(:\n", "type = 3\ntype X\n", "x = f'{a'\n"])
def test_plain_syntax_errors_get_no_312_hint(
    project: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    (project / "bad.py").write_text(source, encoding="utf-8")
    code, _, err = run(["check", "bad.py"], capsys)
    assert code == 2 and "syntax error" in one_error_line(err) and "3.12" not in err


# -- 4. SARIF ----------------------------------------------------------------------

#: RFC 3986 URI-reference characters: unreserved, reserved and percent-encodings only
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-F]{2})*")

#: what SARIF 2.1.0's schema allows (`additionalProperties: false`) and requires on
#: the objects greenopt writes: name -> (allowed keys, required keys)
_SARIF: dict[str, tuple[set[str], set[str]]] = {
    "log": ({"$schema", "version", "runs", "inlineExternalProperties", "properties"},
            {"version", "runs"}),
    "run": ({"tool", "invocations", "conversion", "language", "versionControlProvenance",
             "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
             "automationDetails", "runAggregates", "baselineGuid", "redactionTokens",
             "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
             "externalPropertyFileReferences", "threadFlowLocations", "taxonomies",
             "addresses", "translations", "policies", "webRequests", "webResponses",
             "specialLocations", "properties"}, {"tool"}),
    "invocation": ({"commandLine", "arguments", "responseFiles", "startTimeUtc",
                    "endTimeUtc", "exitCode", "ruleConfigurationOverrides",
                    "notificationConfigurationOverrides", "toolExecutionNotifications",
                    "toolConfigurationNotifications", "exitCodeDescription",
                    "exitSignalName", "exitSignalNumber", "processStartFailureMessage",
                    "executionSuccessful", "machine", "account", "processId",
                    "executableLocation", "workingDirectory", "environmentVariables",
                    "stdin", "stdout", "stderr", "stdoutStderr", "properties"},
                   {"executionSuccessful"}),
    "notification": ({"locations", "message", "level", "threadId", "timeUtc", "exception",
                      "descriptor", "associatedRule", "properties"}, {"message"}),
    "location": ({"id", "physicalLocation", "logicalLocations", "message", "annotations",
                  "relationships", "properties"}, set()),
    "physicalLocation": ({"address", "artifactLocation", "region", "contextRegion",
                          "properties"}, {"artifactLocation"}),
    "artifactLocation": ({"uri", "uriBaseId", "index", "description", "properties"},
                         set()),
    "region": ({"startLine", "startColumn", "endLine", "endColumn", "charOffset",
                "charLength", "byteOffset", "byteLength", "snippet", "message",
                "sourceLanguage", "properties"}, set()),
    "message": ({"text", "markdown", "id", "arguments", "properties"}, {"text"}),
    "result": ({"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget",
                "locations", "guid", "correlationGuid", "occurrenceCount",
                "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs",
                "graphTraversals", "relatedLocations", "suppressions", "baselineState",
                "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance",
                "fixes", "taxa", "webRequest", "webResponse", "properties"}, {"message"}),
}  # fmt: skip
_LEVELS = {"none", "note", "warning", "error"}


def _shape(kind: str, obj: dict[str, Any]) -> None:
    allowed, required = _SARIF[kind]
    assert set(obj) <= allowed, (kind, set(obj) - allowed)
    assert required <= set(obj), (kind, required - set(obj))


def _artifact(loc: dict[str, Any], uris: list[str]) -> None:
    _shape("artifactLocation", loc)
    assert _URI_CHARS.fullmatch(loc["uri"]), loc["uri"]
    if not loc["uri"].startswith("file://"):
        assert loc["uriBaseId"] == "%SRCROOT%"
        assert ":" not in loc["uri"].split("/")[0]  # no scheme-looking first segment
    uris.append(loc["uri"])


def _location(loc: dict[str, Any], uris: list[str]) -> None:
    _shape("location", loc)
    phys = loc["physicalLocation"]
    _shape("physicalLocation", phys)
    _artifact(phys["artifactLocation"], uris)
    if "region" in phys:
        _shape("region", phys["region"])
        assert all(v >= 1 for k, v in phys["region"].items() if k.endswith(("Line", "Column")))


def validate_sarif(log: dict[str, Any]) -> list[str]:
    """Check `log` against the SARIF 2.1.0 schema's rules for the objects greenopt
    writes; return every artifact URI."""
    uris: list[str] = []
    _shape("log", log)
    assert log["version"] == "2.1.0"
    for run_ in log["runs"]:
        _shape("run", run_)
        assert run_["columnKind"] in {"utf16CodeUnits", "unicodeCodePoints"}
        for base in run_.get("originalUriBaseIds", {}).values():
            _shape("artifactLocation", base)
            assert base["uri"].startswith("file:///") and base["uri"].endswith("/")
            assert _URI_CHARS.fullmatch(base["uri"])
        for inv in run_.get("invocations", []):
            _shape("invocation", inv)
            assert isinstance(inv["executionSuccessful"], bool)
            for note in inv.get("toolExecutionNotifications", []):
                _shape("notification", note)
                _shape("message", note["message"])
                assert note.get("level", "warning") in _LEVELS
                locs = note.get("locations", [])
                assert len({json.dumps(x, sort_keys=True) for x in locs}) == len(locs)
                for loc in locs:
                    _location(loc, uris)
        for result in run_["results"]:
            _shape("result", result)
            _shape("message", result["message"])
            assert result["level"] in _LEVELS and result["ruleIndex"] >= -1
            for loc in result["locations"]:
                _location(loc, uris)
            for fix in result.get("fixes", []):
                assert set(fix) <= {"description", "artifactChanges", "properties"}
                assert fix["artifactChanges"]
                for change in fix["artifactChanges"]:
                    _artifact(change["artifactLocation"], uris)
                    assert change["replacements"]
                    for rep in change["replacements"]:
                        _shape("region", rep["deletedRegion"])
    return uris


def test_sarif_uris_are_percent_encoded(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = ["with space.py", "hash#1.py", "per%cent.py", "ünïcødé.py", "a:b.py"]
    for name in names:
        (project / name).write_text(K.SCALE, encoding="utf-8")
    code, out, err = run(["check", "--format", "sarif", "--select", "GO101", *names], capsys)
    assert code == 1 and err == ""
    log = json.loads(out)
    uris = validate_sarif(log)
    assert {unquote(u) for u in uris} == set(names)
    assert "with%20space.py" in uris and "hash%231.py" in uris and "per%25cent.py" in uris
    assert "%C3%BCn%C3%AFc%C3%B8d%C3%A9.py" in uris and "a%3Ab.py" in uris
    run_ = log["runs"][0]
    assert run_["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    base = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert unquote(base) == Path.cwd().as_uri().replace("%20", " ") + "/"
    # an absolute path is an absolute, encoded file URI
    code, out, _ = run(["check", "--format", "sarif", str(project / "with space.py")], capsys)
    uris = validate_sarif(json.loads(out))
    assert uris and all(u == (project / "with space.py").as_uri() for u in uris)


def test_sarif_reports_unreadable_files_as_error_notifications(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "ok.py").write_text(K.SCALE, encoding="utf-8")
    (project / "syn tax.py").write_text("x = 1\ndef f(:\n", encoding="utf-8")
    (project / "bin.py").write_bytes(b"\x00\x01")
    code, out, err = run(
        ["check", "--format", "sarif", "ok.py", "syn tax.py", "bin.py", "gone.py"], capsys
    )
    assert code == 2 and len(err.strip().splitlines()) == 3
    log = json.loads(out)
    validate_sarif(log)
    (inv,) = log["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    notes = inv["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["error"] * 3
    where = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n for n in notes}
    assert set(where) == {"syn%20tax.py", "bin.py", "gone.py"}
    syntax = where["syn%20tax.py"]
    assert syntax["message"]["text"].startswith("syn tax.py:2:")
    assert syntax["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert "binary" in where["bin.py"]["message"]["text"]
    assert "no such file" in where["gone.py"]["message"]["text"]
    assert log["runs"][0]["results"]  # the good file's findings are still there


# -- 5. the findings count -----------------------------------------------------------


def test_found_count_is_the_lines_printed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "k.py").write_text(K.SAXPY, encoding="utf-8")
    code, out, _ = run(["check", "k.py"], capsys)
    lines = out.strip().splitlines()
    assert code == 1 and "(variants: GO402, GO403)" in out
    summary = lines[-1]
    shown = len(lines) - 1
    assert summary.startswith(f"Found {shown} finding(s) (plus 2 variant(s) listed with them)")
    code, out, _ = run(["check", "--format", "json", "k.py"], capsys)
    payload = json.loads(out)
    assert payload["summary"]["findings"] == shown + 2 == len(payload["findings"])
    code, out, _ = run(["check", "--diff", "k.py"], capsys)  # nothing folded
    assert f"Found {shown + 2} finding(s) in 1 file(s)" in out and "plus" not in out


# -- 6. `# greenopt: ignore[...]` ----------------------------------------------------

IGNORED = K.HEADER + (
    "def scale(a, x):  # greenopt: ignore[nosuchpass, GO999, jit, GO3]\n"
    "    out = np.zeros(x.shape[0])\n"
    "    for i in range(x.shape[0]):  # greenopt: ignore[GO101\n"
    "        out[i] = a * x[i] + 1.0\n"
    "    return out\n"
)


def test_unknown_and_malformed_ignore_comments_warn(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "s.py").write_text(IGNORED, encoding="utf-8")
    code, out, err = run(["check", "s.py"], capsys)
    assert code == 1  # warnings leave the exit status to the findings
    assert err.splitlines() == [
        "greenopt: warning: s.py:4: unknown pass or code nosuchpass in greenopt: ignore[...]",
        "greenopt: warning: s.py:4: unknown code GO999 in greenopt: ignore[...]",
        "greenopt: warning: s.py:6: unclosed greenopt: ignore[ (no ']'): it suppresses nothing",
    ]
    # the unclosed bracket silences nothing; the valid names still work
    assert "s.py:6:5: GO101" in out and "GO4" not in out and "GO3" not in out
    code, out, _ = run(["check", "--format", "json", "s.py"], capsys)
    assert len(json.loads(out)["warnings"]) == 3
    code, out, _ = run(["check", "--format", "sarif", "s.py"], capsys)
    (inv,) = json.loads(out)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is True
    assert [n["level"] for n in inv["toolExecutionNotifications"]] == ["warning"] * 3


def test_valid_ignore_comments_do_not_warn(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = K.SCALE.replace("def scale(a, x):", "def scale(a, x):  # greenopt: ignore[JIT, go302]")
    src = src.replace("x.shape[0]):", "x.shape[0]):  # greenopt: ignore[GO1, vectorize]")
    (project / "s.py").write_text(src, encoding="utf-8")
    assert run(["check", "s.py"], capsys) == (0, "", "")


# -- 7. empty --select / --ignore / --passes -----------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        (["check", "--select", ","], "--select: no codes given"),
        (["check", "--select", ""], "--select: no codes given"),
        (["check", "--select", "GO1", "--ignore", " , "], "--ignore: no codes given"),
        (["rewrite", "--static", "--select", ","], "--select: no codes given"),
        (["rewrite", "--static", "--ignore="], "--ignore: no codes given"),
        (["rewrite", "--static", "--passes", ","], "--passes: no passes given"),
        (["analyze", "--out", "out", "--passes", ""], "--passes: no passes given"),
    ],
)
def test_empty_selection_is_a_bad_flag(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (project / "k.py").write_text(K.SCALE, encoding="utf-8")
    before = (project / "k.py").read_bytes()
    code, out, err = run([*args, "k.py"], capsys)
    assert code == 2 and out == ""
    assert one_error_line(err) == f"greenopt: error: {message}"
    assert (project / "k.py").read_bytes() == before and not (project / "out").exists()


# -- 8. --exclude on files named on the command line ---------------------------------


def test_check_exclude_applies_to_named_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "gen.py").write_text(K.SCALE, encoding="utf-8")
    (project / "pkg" / "keep.py").write_text(K.SCALE, encoding="utf-8")
    named = ["pkg/gen.py", "pkg/keep.py"]
    for pattern in ("pkg/gen.py", "gen.py", "pkg/gen*"):
        code, out, _ = run(["check", "--select", "GO101", "--exclude", pattern, *named], capsys)
        assert code == 1 and "keep.py" in out and "gen.py" not in out
    (project / "pyproject.toml").write_text(
        '[tool.greenopt]\nexclude = ["pkg/gen.py"]\n', encoding="utf-8"
    )
    assert run(["check", "pkg/gen.py"], capsys) == (0, "", "")


def test_analyze_exclude_applies_to_named_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "gen.py").write_text(K.SCALE, encoding="utf-8")
    (project / "pkg" / "keep.py").write_text(K.SCALE, encoding="utf-8")
    args = ["analyze", "--no-progress", "--jobs", "1", "pkg/gen.py", "pkg/keep.py"]
    code, out, _ = run([*args, "--out", "o1", "--exclude", "pkg/gen.py"], capsys)
    assert code == 0 and "analysed 1 files" in out and "skipped 1 excluded" in out
    (project / "pyproject.toml").write_text(
        '[tool.greenopt]\nexclude = ["gen.py"]\n', encoding="utf-8"
    )
    code, out, _ = run([*args, "--out", "o2"], capsys)
    assert code == 0 and "analysed 1 files" in out and "skipped 1 excluded" in out


def test_empty_passes_in_train_is_a_bad_flag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train --passes ''` used to mean every pass; like rewrite and analyze, it names none."""
    store = project / "s.sqlite"
    code, out, err = run(["train", "--fit-only", "--passes", "", "--store", str(store)], capsys)
    assert code == 2 and out == ""
    assert one_error_line(err) == "greenopt: error: --passes: no passes given"
    assert not store.exists()
