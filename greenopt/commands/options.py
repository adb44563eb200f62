"""Option values shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from greenopt.errors import InputError


def comma_list(values: Iterable[str]) -> list[str]:
    """`--opt a,b --opt c` -> ['a', 'b', 'c']: repeatable, comma-separated, blanks dropped."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def same_file(a: str, b: str) -> bool:
    """True if paths `a` and `b` name the same file (through links and `..` too)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def refuse_overwriting_inputs(targets: list[tuple[str, str | None]], inputs: list[str]) -> None:
    """Raise InputError when a report path (`(flag, path)`) names an input file, a
    checked directory's Python file, or the same file as another report path: writing
    the report there would destroy the source (or lose a report)."""
    given = [(flag, path) for flag, path in targets if path is not None]
    for flag, path in given:
        for item in inputs:
            item_path = Path(item)
            if same_file(path, item) or (
                item_path.is_dir()
                and Path(path).suffix == ".py"
                and Path(path).resolve().is_relative_to(item_path.resolve())
            ):
                raise InputError(f"{flag} {path}: is an input; refusing to overwrite it")
    for i, (flag_a, a) in enumerate(given):
        for flag_b, b in given[i + 1 :]:
            if same_file(a, b):
                raise InputError(f"{flag_a} and {flag_b} name the same file {a}")
