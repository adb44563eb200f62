"""`# greenopt: ignore` comments: which findings the user has silenced, line by line.

`# greenopt: ignore` on a line silences every finding reported on that line (for a
loop: the `for` line); `# greenopt: ignore[jit]` or `# greenopt: ignore[GO101, vectorize]`
silences only the named passes or rule codes (a code prefix such as `GO1` names a family).
Comments are found with `tokenize`, so the text inside a string literal never counts.

A name that is neither a pass nor a (prefix of a) known code, an empty `ignore[]` and
an unclosed `ignore[GO101` are reported in `Suppressions.problems` (`check` prints
them as warnings); an unclosed or empty bracket silences nothing.
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from dataclasses import dataclass, field

from greenopt.passes.base import Opportunity
from greenopt.passes.registry import PASSES, pass_class, pass_for_code

_DIRECTIVE = re.compile(
    r"#\s*greenopt\s*:\s*ignore(?P<open>\[(?:(?P<names>[^\]]*)\])?)?", re.IGNORECASE
)

#: marker for "every pass and code"
ALL = "*"


@dataclass(frozen=True)
class Suppressions:
    """line number (1-based) -> the pass names / codes silenced there (`ALL` for all)."""

    by_line: dict[int, frozenset[str]] = field(default_factory=dict)
    #: (line, what is wrong) for each malformed directive or unknown name in one
    problems: tuple[tuple[int, str], ...] = ()

    def silences(self, opportunity: Opportunity) -> bool:
        """True when a directive on the opportunity's line covers its pass or code."""
        names = self.by_line.get(opportunity.site.line)
        if not names:
            return False
        code = opportunity.code.upper()
        return (
            ALL in names
            or opportunity.pass_name.lower() in names
            or any(n.startswith("GO") and code.startswith(n) for n in names)
        )


def parse_suppressions(code: str) -> Suppressions:
    """Find every `# greenopt: ignore[...]` comment in `code`."""
    if "greenopt" not in code:
        return Suppressions()
    by_line: dict[int, frozenset[str]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return Suppressions()
    problems: list[tuple[int, str]] = []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        match = _DIRECTIVE.search(tok.string)
        if match is None:
            continue
        line = tok.start[0]
        raw = match.group("names")
        if match.group("open") is None:
            names = frozenset({ALL})
        elif raw is None:
            problems.append((line, "unclosed greenopt: ignore[ (no ']'): it suppresses nothing"))
            continue
        else:
            items = [n.strip() for n in raw.split(",") if n.strip()]
            if not items:
                problems.append((line, "empty greenopt: ignore[]: it suppresses nothing"))
            for item in items:
                if not _known(item):
                    kind = "code" if item.upper().startswith("GO") else "pass or code"
                    problems.append((line, f"unknown {kind} {item} in greenopt: ignore[...]"))
            names = frozenset(_normalise(n) for n in items)
        by_line[line] = by_line.get(line, frozenset()) | names
    return Suppressions(by_line, tuple(problems))


def _normalise(name: str) -> str:
    name = name.strip()
    return name.upper() if pass_for_code(name) is not None else name.lower()


def _known(name: str) -> bool:
    """True for a registered pass name or a rule code (or code prefix) some pass reports."""
    if name.lower() in PASSES:
        return True
    code = name.upper()
    if not (code.startswith("GO") and code[2:].isdigit()):
        return False
    codes = _known_codes()
    if codes is None:  # a pass that cannot be imported: accept its family's codes
        return pass_for_code(code) is not None
    return any(known.startswith(code) for known in codes)


@functools.cache
def _known_codes() -> frozenset[str] | None:
    """Every rule code of the registered passes (None when one cannot be imported)."""
    codes: set[str] = set()
    try:
        for name in PASSES:
            codes.update(pass_class(name).codes)
    except Exception:
        return None
    return frozenset(codes)
