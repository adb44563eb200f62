"""Option values shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from greenopt.config import path_is_dir
from greenopt.errors import InputError
from greenopt.measure.limits import MAX_TIMEOUT_S, MIN_MEMORY_MB


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
                path_is_dir(item_path)
                and Path(path).suffix == ".py"
                and Path(path).resolve().is_relative_to(item_path.resolve())
            ):
                raise InputError(f"{flag} {path}: is an input; refusing to overwrite it")
    for i, (flag_a, a) in enumerate(given):
        for flag_b, b in given[i + 1 :]:
            if same_file(a, b):
                raise InputError(f"{flag_a} and {flag_b} name the same file {a}")


def check_output_path(flag: str, path: str | None) -> None:
    """Raise InputError before any work when the report path `path` of option `flag`
    cannot be written: a directory, a missing or unwritable parent directory.

    None (no report) and ``-`` (stdout) are always fine. Creates nothing.
    """
    if path is None or path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{flag} {path}: is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{flag} {path}: directory does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: directory is not writable: {parent}")
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(f"{flag} {path}: file is not writable")


def check_timeout(flag: str, seconds: float) -> None:
    """Raise InputError unless `seconds` is a usable per-child timeout: positive, finite
    and below a week (`MAX_TIMEOUT_S`, the runner's limit; longer values overflow timers)."""
    if not (0 < seconds < MAX_TIMEOUT_S):
        raise InputError(
            f"{flag} must be a positive, finite number of seconds below "
            f"{MAX_TIMEOUT_S:g} (a week); got {seconds:g}"
        )


#: Fewest samples a command accepts: a median with a 95% confidence interval needs two.
MIN_SAMPLES = 2


def check_samples(flag: str, samples: int) -> None:
    """Raise InputError when `samples` is too few for the confidence interval reported."""
    if samples < MIN_SAMPLES:
        raise InputError(
            f"{flag} must be at least {MIN_SAMPLES}: a 95% confidence interval needs two "
            f"samples or more (got {samples})"
        )


def selector_list(flag: str, values: Iterable[str], what: str = "codes") -> list[str]:
    """`comma_list(values)` of a repeatable `flag` such as `--select`, refusing an
    occurrence that names nothing (`--select ,`, `--select ''`): an empty list would
    silently mean "everything" to one command and "nothing" to another."""
    values = list(values)
    for value in values:
        if not comma_list([value]):
            raise InputError(f"{flag}: no {what} given")
    return comma_list(values)


def check_output_dir(flag: str, path: str | None) -> None:
    """Raise InputError before any work when directory `path` of option `flag` could not
    be created or written: a file, below a file, or under a directory that is not writable.

    None (the default directory) is always fine. Creates nothing.
    """
    if path is None:
        return
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(f"{flag} {path}: is not a directory")
    ancestor = target.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{flag} {path}: cannot create it below {ancestor}, which is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: directory is not writable: {ancestor}")


def check_memory_mb(flag: str, megabytes: int) -> None:
    """Raise InputError unless `megabytes` is 0 (no limit) or at least `MIN_MEMORY_MB`."""
    if megabytes != 0 and megabytes < MIN_MEMORY_MB:
        raise InputError(
            f"{flag} {megabytes}: give 0 (no limit) or at least {MIN_MEMORY_MB} MB; "
            "a child process needs about that much address space for Python and numpy"
        )


def check_min_sample_s(flag: str, seconds: float | None) -> None:
    """Raise InputError unless `seconds` (None: the meter's default) is a usable sample
    length: positive, finite and below the runner's week-long limit."""
    if seconds is not None and not (0 < seconds < MAX_TIMEOUT_S):
        raise InputError(
            f"{flag} must be a positive, finite number of seconds below "
            f"{MAX_TIMEOUT_S:g} (a week); got {seconds:g}"
        )


def check_at_least(flag: str, value: int, minimum: int) -> None:
    """Raise InputError when the integer option `flag` is below `minimum`."""
    if value < minimum:
        raise InputError(f"{flag} must be at least {minimum} (got {value})")


def is_stdout(path: str | None) -> bool:
    """True for the report path ``-``, which means standard output."""
    return path == "-"
