"""Recognise Python 2 source among files that fail to parse as Python 3.

Corpora (old repositories, vendored code) contain Python 2 files; reporting them
as plain syntax errors hides the real cause. `python2_evidence` is only consulted
after `ast.parse` has failed, and looks at the error message and the failing line
for constructs that exist only in Python 2.
"""

from __future__ import annotations

import re

#: (pattern on the failing line, what it shows) — checked in order
_LINE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\s*print\s*>>"), "print >> statement"),
    (re.compile(r"^\s*print\s+(?![\s(=.,)\]:;+\-*/%&|^<>!]|$)"), "print statement"),
    (re.compile(r"^\s*exec\s+[\"'\w]"), "exec statement"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"), "'except E, name:' clause"),
    (re.compile(r"^\s*except\s*\([\w.,\s]+\)\s*,\s*\w+\s*:"), "'except (E1, E2), name:' clause"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,"), "'raise E, message' statement"),
    (re.compile(r"(?<![\w.])\d+[lL]\b"), "long integer literal"),
    (re.compile(r"(?<![\w.])0[0-7]+\b"), "old-style octal literal"),
    (re.compile(r"\b[uU][rR]['\"]"), "ur'' string prefix"),
    (re.compile(r"<>"), "<> operator"),
    (re.compile(r"`[^`\n]+`"), "backtick repr"),
)

#: Python 3 error messages that only Python 2 code produces
_MESSAGES: tuple[tuple[str, str], ...] = (
    ("Missing parentheses in call to 'print'", "print statement"),
    ("Missing parentheses in call to 'exec'", "exec statement"),
    ("leading zeros in decimal integer literals", "old-style octal literal"),
    ("multiple exception types must be parenthesized", "'except E, name:' clause"),
)


def python2_evidence(source: str, error: SyntaxError) -> str | None:
    """What marks `source` as Python 2 (e.g. "print statement at line 3"), or None."""
    line_no = error.lineno or 0
    message = error.msg or ""
    for text, what in _MESSAGES:
        if text in message:
            return f"{what} at line {line_no}"
    lines = source.splitlines()
    if not 1 <= line_no <= len(lines):
        return None
    line = lines[line_no - 1]
    code = line.split("#", 1)[0] if "'" not in line and '"' not in line else line
    for pattern, what in _LINE_PATTERNS:
        if pattern.search(code):
            return f"{what} at line {line_no}"
    return None
