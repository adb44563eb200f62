"""`# greenopt: ignore` comments: which findings the user has silenced, line by line.

`# greenopt: ignore` on a line silences every finding reported on that line (for a
loop: the `for` line); `# greenopt: ignore[jit]` or `# greenopt: ignore[GO101, vectorize]`
silences only the named passes or rule codes (a code prefix such as `GO1` names a family). Comments are found with `tokenize`,
so the text inside a string literal never counts.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from greenopt.passes.base import Opportunity
from greenopt.passes.registry import pass_for_code

_DIRECTIVE = re.compile(r"#\s*greenopt\s*:\s*ignore(?:\[(?P<names>[^\]]*)\])?", re.IGNORECASE)

#: marker for "every pass and code"
ALL = "*"


@dataclass(frozen=True)
class Suppressions:
    """line number (1-based) -> the pass names / codes silenced there (`ALL` for all)."""

    by_line: dict[int, frozenset[str]] = field(default_factory=dict)

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
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        match = _DIRECTIVE.search(tok.string)
        if match is None:
            continue
        raw = match.group("names")
        if raw is None:
            names = frozenset({ALL})
        else:
            names = frozenset(_normalise(n) for n in raw.split(",") if n.strip())
        line = tok.start[0]
        by_line[line] = by_line.get(line, frozenset()) | names
    return Suppressions(by_line)


def _normalise(name: str) -> str:
    name = name.strip()
    return name.upper() if pass_for_code(name) is not None else name.lower()
