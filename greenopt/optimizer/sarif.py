"""SARIF 2.1.0 output of `check`, with fixes as `artifactChanges` the way ruff emits them.

One run, `tool.driver.name = "greenopt"`, one rule per GOxxx code that appears
(plus the codes of every pass consulted, so viewers can show descriptions), one
result per finding with a physical location (1-based lines and columns) and, for
statically proven fixes, `fixes[].artifactChanges[].replacements` (a deleted region
and the inserted text). Artifact URIs are percent-encoded (RFC 3986); relative ones
are relative to `%SRCROOT%`, the working directory. Files that could not be read or
parsed are `invocations[0].toolExecutionNotifications` (level error), and then
`executionSuccessful` is false.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from greenopt import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/greenopt/greenopt"


def replacements(old: str, new: str) -> list[dict[str, Any]]:
    """SARIF replacements turning `old` into `new`, as whole-line regions.

    Each replacement deletes lines [startLine, endLine) (an empty region inserts)
    and inserts the new lines' text; regions refer to the original text.
    """
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out.append(
            {
                "deletedRegion": {
                    "startLine": i1 + 1,
                    "startColumn": 1,
                    "endLine": i2 + 1,
                    "endColumn": 1,
                },
                "insertedContent": {"text": "".join(b[j1:j2])},
            }
        )
    return out


#: the base the relative artifact URIs are resolved against (the working directory)
SRCROOT = "%SRCROOT%"

#: characters left as they are in a URI path besides the unreserved ones (RFC 3986
#: `pchar` less ":", which would read as a scheme in a relative reference's first segment)
_PATH_SAFE = "/!$&'()*+,;=@"


def _quote(path: str) -> str:
    """`path` (POSIX form) percent-encoded as a URI path: UTF-8 bytes of anything but
    unreserved characters and `_PATH_SAFE` become %XX (space, #, ?, %, non-ASCII...)."""
    return quote(os.fsencode(path), safe=_PATH_SAFE)


def artifact_location(path: str) -> dict[str, str]:
    """A SARIF artifactLocation for `path`: an RFC 3986 URI, percent-encoded.

    A relative path is a relative reference resolved against `SRCROOT` (the working
    directory, given in `run.originalUriBaseIds`); an absolute one a `file://` URI.
    """
    p = Path(path)
    if p.is_absolute():
        return {"uri": "file://" + _quote(p.as_posix())}
    return {"uri": _quote(p.as_posix()), "uriBaseId": SRCROOT}


def _directory_uri(directory: str) -> str:
    """`file://` URI of a directory, with the trailing slash a base URI needs."""
    text = _quote(Path(directory).as_posix())
    return "file://" + (text if text.endswith("/") else text + "/")


_ERROR_AT = re.compile(r":(?P<line>\d+)(?::(?P<col>\d+))?: ")


def _notification(path: str, message: str, level: str = "error") -> dict[str, Any]:
    """A `toolExecutionNotifications` entry for a file that could not be checked (or a
    warning about it), located at the file and at the `path:line[:col]: ` it names."""
    physical: dict[str, Any] = {"artifactLocation": artifact_location(path)}
    if message.startswith(path):
        at = _ERROR_AT.match(message, len(path))
        if at is not None and int(at["line"]) >= 1:
            region = {"startLine": int(at["line"])}
            if at["col"] is not None and int(at["col"]) >= 1:
                region["startColumn"] = int(at["col"])
            physical["region"] = region
    return {
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
    }


def build_sarif(
    records: Sequence[Mapping[str, Any]],
    rules: Mapping[str, str],
    fixed_text: Mapping[int, tuple[str, str]] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    warnings: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A SARIF log for finding `records` (from `finding_record`).

    `rules`: code -> short description. `fixed_text`: index of a record -> (original
    text, text after applying that finding's fix) for findings with a proven fix.
    `errors`: (path, message) of each file that could not be read or parsed, reported
    as `invocations[0].toolExecutionNotifications` (level error); any error makes
    `executionSuccessful` false. `warnings`: (path, message) of notifications of level
    warning (a malformed `# greenopt: ignore[...]`), which do not.
    """
    fixed_text = fixed_text or {}
    used = sorted({r["code"] for r in records} | set(rules))
    rule_index = {code: k for k, code in enumerate(used)}
    results: list[dict[str, Any]] = []
    for k, r in enumerate(records):
        result: dict[str, Any] = {
            "ruleId": r["code"],
            "ruleIndex": rule_index[r["code"]],
            "level": "note" if r.get("note") else "warning",
            "message": {"text": r["message"]},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact_location(r["path"]),
                        "region": {
                            "startLine": r["line"],
                            "startColumn": r["column"],
                            "endLine": r["end_line"],
                            "endColumn": r["end_column"],
                        },
                    }
                }
            ],
            "properties": {
                "pass": r["pass"],
                "fixable": r["fixable"],
                "staticSafe": r["static_safe"],
                "function": r.get("function"),
                "rationale": r.get("rationale"),
            },
        }
        if "predicted_saving" in r:
            result["properties"]["predictedSaving"] = r["predicted_saving"]
        if k in fixed_text:
            old, new = fixed_text[k]
            reps = replacements(old, new)
            if reps:
                result["fixes"] = [
                    {
                        "description": {"text": r["message"]},
                        "artifactChanges": [
                            {"artifactLocation": artifact_location(r["path"]), "replacements": reps}
                        ],
                    }
                ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "greenopt",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": code,
                                "name": code,
                                "shortDescription": {"text": rules.get(code, code)},
                                "defaultConfiguration": {
                                    "level": "note" if code.endswith("90") else "warning"
                                },
                            }
                            for code in used
                        ],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not errors,
                        "toolExecutionNotifications": [
                            *(_notification(path, message) for path, message in errors),
                            *(_notification(path, text, "warning") for path, text in warnings),
                        ],
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(os.getcwd())}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
