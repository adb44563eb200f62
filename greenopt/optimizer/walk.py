"""Finding the Python files under the paths given to `check` (and other static front ends).

Directories are walked without following symlinks (no loops), skipping version
control, virtual environments, caches and build output, plus user `--exclude`
globs and `[tool.greenopt] exclude` globs. Explicitly named files are returned
whatever their extension, unless an exclude glob matches them (pre-commit names
every staged file); missing paths are reported, not raised, so the other paths
are still processed.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: directory names never descended into
SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "__pycache__", ".venv", "venv", ".tox", ".nox",
        ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "node_modules",
        "build", "dist", "site-packages", ".eggs", "__pypackages__", "greenopt-out",
    }
)  # fmt: skip


@dataclass(frozen=True)
class FoundFile:
    """A file to check; `explicit` when it was named on the command line."""

    path: str
    explicit: bool


@dataclass(frozen=True)
class MissingPath:
    """A command-line path that does not exist."""

    path: str


@dataclass(frozen=True)
class UnreadablePath:
    """A path that cannot be read or a directory that cannot be listed (permissions)."""

    path: str
    reason: str


def _is_venv(directory: Path) -> bool:
    """Whether `directory` is a virtual environment; False when it cannot be read (Python
    3.11's `Path.is_file` raises PermissionError there: the walk then reports it)."""
    try:
        return (directory / "pyvenv.cfg").is_file()
    except OSError:
        return False


def is_excluded(path: Path, patterns: Sequence[str], roots: Sequence[Path]) -> bool:
    """True when `path` (or a directory above it) matches one of the glob `patterns`.

    Patterns are matched against the path relative to each of `roots` (the config's
    directory, the current directory) and against the bare name.
    """
    if not patterns:
        return False
    candidates: set[str] = {path.name}
    resolved = path.resolve()
    for root in roots:
        try:
            rel = PurePosixPath(resolved.relative_to(root.resolve()).as_posix())
        except ValueError:
            continue
        parts = rel.parts
        for k in range(1, len(parts) + 1):
            candidates.add("/".join(parts[:k]))
    candidates.add(PurePosixPath(path.as_posix()).as_posix())
    for pattern in patterns:
        pat = pattern.rstrip("/")
        for cand in candidates:
            if fnmatch.fnmatchcase(cand, pat) or fnmatch.fnmatchcase(cand, pat.lstrip("./")):
                return True
    return False


def discover(
    paths: Sequence[str],
    exclude: Sequence[str] = (),
    roots: Sequence[Path] = (),
) -> Iterator[FoundFile | MissingPath | UnreadablePath]:
    """Yield the files to check (sorted within each directory), missing paths and
    unreadable ones: a directory that cannot be listed is one `UnreadablePath`, and
    the walk goes on with the others."""
    roots = list(roots) or [Path.cwd()]
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        try:
            exists, is_dir = p.exists() or p.is_symlink(), p.is_dir()
        except OSError as exc:  # below a directory that cannot be searched (3.11 raises)
            yield UnreadablePath(raw, f"cannot read: {exc.strerror or exc}")
            continue
        if not exists:
            yield MissingPath(raw)
            continue
        if not is_dir:
            if is_excluded(p, exclude, roots):  # named files too: pre-commit names them all
                continue
            if raw not in seen:
                seen.add(raw)
                yield FoundFile(raw, explicit=True)
            continue
        yield from _walk(p, exclude, roots, seen)


def _walk(
    top: Path, exclude: Sequence[str], roots: Sequence[Path], seen: set[str]
) -> Iterator[FoundFile | UnreadablePath]:
    """The `.py` files under directory `top`, and each directory that cannot be listed."""
    failed: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(top, onerror=failed.append, followlinks=False):
        while failed:
            yield _unlistable(failed.pop(0), dirpath)
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if d in SKIP_DIRS or d.endswith(".egg-info") or _is_venv(sub):
                continue
            if is_excluded(sub, exclude, roots):
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            f = here / name
            if f.is_symlink() and not f.exists():
                continue
            if is_excluded(f, exclude, roots):
                continue
            text = str(f)
            if text not in seen:
                seen.add(text)
                yield FoundFile(text, explicit=False)
    for exc in failed:  # the last directory walked (or `top` itself) could not be listed
        yield _unlistable(exc, str(top))


def _unlistable(exc: OSError, where: str) -> UnreadablePath:
    return UnreadablePath(
        str(exc.filename or where), f"cannot list directory: {exc.strerror or exc}"
    )
