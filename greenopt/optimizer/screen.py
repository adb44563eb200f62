"""A cheap first look at a source file with stdlib `ast` before the slow libcst parse.

`ast` parses ~8x faster than libcst with metadata, so every file is screened: a
syntax error (or Python 2 code) is reported from here, and only files that contain
a loop or import numpy, the only places passes find anything, are parsed with
libcst afterwards.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass

from greenopt.errors import InputError

_PY2_HINTS = (
    "Missing parentheses in call to 'print'",
    "Missing parentheses in call to 'exec'",
    "print statement",
)


@dataclass(frozen=True)
class Screen:
    """What the cheap parse saw: loops, numpy imports, line count."""

    has_loops: bool
    imports_numpy: bool
    lines: int

    @property
    def candidate(self) -> bool:
        """True when a pass could find something (worth a libcst parse)."""
        return self.has_loops or self.imports_numpy


def screen_source(code: str, path: str) -> Screen:
    """Parse `code` with `ast`; a syntax error becomes an InputError with a clear line."""
    if code.startswith("\ufeff"):  # a UTF-8 byte-order mark, as Python itself accepts
        code = code[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code, filename=path)
    except SyntaxError as exc:
        msg = exc.msg or "invalid syntax"
        hint = ""
        if any(h in msg for h in _PY2_HINTS) or _looks_like_python2(code):
            hint = " (Python 2 code? greenopt reads Python 3 only)"
        elif _looks_like_newer_python(code, exc.lineno):
            hint = (
                " (this syntax needs Python 3.12+; greenopt is running on "
                f"{sys.version_info.major}.{sys.version_info.minor})"
            )
        raise InputError(
            f"{path}:{exc.lineno or 1}:{exc.offset or 0}: syntax error: {msg}{hint}"
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"{path}: cannot parse: {exc}") from None
    has_loops = False
    imports_numpy = False
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            has_loops = True
        elif isinstance(node, ast.Import):
            if any(a.name == "numpy" or a.name.startswith("numpy.") for a in node.names):
                imports_numpy = True
        elif isinstance(node, ast.ImportFrom):
            if node.module and (node.module == "numpy" or node.module.startswith("numpy.")):
                imports_numpy = True
        if has_loops and imports_numpy:
            break
    return Screen(has_loops=has_loops, imports_numpy=imports_numpy, lines=code.count("\n") + 1)


#: on the failing line, the Python 3.12 forms `ast` of an older Python refuses: a
#: `type X = ...` statement, type parameters `def f[T]` / `class C[T]`, an f-string
_NEWER_SYNTAX = re.compile(
    r"^\s*(?:type\s+[A-Za-z_]\w*\s*[\[=]"
    r"|(?:async\s+)?def\s+[A-Za-z_]\w*\s*\["
    r"|class\s+[A-Za-z_]\w*\s*\[)"
    r"|(?<![\w])(?:[fF][rR]?|[rR][fF])[\"']"
)


def _looks_like_newer_python(code: str, lineno: int | None) -> bool:
    """True when `code` is refused by this Python's `ast` only for newer syntax: the
    failing line has a 3.12 form and libcst (which knows the 3.12 grammar) parses it."""
    if sys.version_info >= (3, 12) or not lineno:
        return False
    lines = code.splitlines()
    if lineno > len(lines) or not _NEWER_SYNTAX.search(lines[lineno - 1]):
        return False
    try:
        import libcst

        libcst.parse_module(code)
    except Exception:
        return False
    return True


def _looks_like_python2(code: str) -> bool:
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("print ") and not stripped.startswith("print ("):
            return True
        if (
            stripped.startswith("exec ")
            or ' ur"' in stripped
            or "except " in stripped
            and ", " in stripped
            and stripped.endswith(":")
            and " as " not in stripped
        ):
            return True
    return False
