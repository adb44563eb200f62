"""Option values shared by several commands."""

from __future__ import annotations

from collections.abc import Iterable


def comma_list(values: Iterable[str]) -> list[str]:
    """`--opt a,b --opt c` -> ['a', 'b', 'c']: repeatable, comma-separated, blanks dropped."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]
