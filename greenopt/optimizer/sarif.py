"""SARIF 2.1.0 output of `check`, with fixes as `artifactChanges` the way ruff emits them.

One run, `tool.driver.name = "greenopt"`, one rule per GOxxx code that appears
(plus the codes of every pass consulted, so viewers can show descriptions), one
result per finding with a physical location (1-based lines and columns) and, for
statically proven fixes, `fixes[].artifactChanges[].replacements` (a deleted region
and the inserted text).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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


def _uri(path: str) -> str:
    p = Path(path)
    return p.as_posix() if not p.is_absolute() else p.as_uri()


def build_sarif(
    records: Sequence[Mapping[str, Any]],
    rules: Mapping[str, str],
    fixed_text: Mapping[int, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A SARIF log for finding `records` (from `finding_record`).

    `rules`: code -> short description. `fixed_text`: index of a record -> (original
    text, text after applying that finding's fix) for findings with a proven fix.
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
                        "artifactLocation": {"uri": _uri(r["path"])},
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
                            {"artifactLocation": {"uri": _uri(r["path"])}, "replacements": reps}
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
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
