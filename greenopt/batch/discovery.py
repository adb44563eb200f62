"""Finding the Python files of a corpus: directory walk, `.gitignore`, `--exclude`, symlink loops.

Files named on the command line are taken unless excluded; directories are walked for
`*.py` files in sorted order (so every run lists files the same way), following
symlinks but recording a symlink that leads back into one of its own ancestor
directories (or to itself) as a per-file `symlink-loop` error instead of looping.
`.gitignore` files (of the walked directories and of their parents up to the git
repository root, plus `.git/info/exclude`) are honoured with git's semantics —
patterns, `!` negation, `dir/` patterns, `/anchored` patterns, deeper files
overriding shallower ones, nothing re-included below an ignored directory — via
the `pathspec` library. `--exclude` patterns use the same gitignore syntax and
are matched relative to each PATH argument; they (and the config's `exclude`)
apply to files named as PATH too (pre-commit names every file), matched relative
to the file's directory and to the working directory.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.errors import InputError


@dataclass(frozen=True)
class DiscoveredFile:
    """A file to analyse: `path` as it will be reported, `directory` for grouping in reports."""

    path: str
    directory: str


@dataclass(frozen=True)
class DiscoveryError:
    """A path that cannot be analysed, found while walking (e.g. a symlink loop)."""

    path: str
    status: str
    message: str


@dataclass(frozen=True)
class Discovery:
    """The outcome of walking the PATH arguments."""

    files: tuple[DiscoveredFile, ...]
    errors: tuple[DiscoveryError, ...]
    n_excluded: int  # paths dropped by --exclude / config exclude
    n_gitignored: int  # paths dropped by .gitignore


@dataclass(frozen=True)
class IgnoreRules:
    """Compiled gitignore-style rules that apply below `base` (a directory)."""

    base: Path
    spec: Any  # pathspec.GitIgnoreSpec

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a negation, None: no pattern matches."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.base).as_posix()
        except ValueError:
            return None
        if rel in ("", "."):
            return None
        result = self.spec.check_file(rel + "/" if is_dir else rel)
        return result.include


def _compile(lines: Iterable[str], base: Path) -> IgnoreRules:
    try:
        import pathspec
    except ImportError:
        raise InputError(
            "reading .gitignore needs the 'pathspec' package (pip install pathspec), "
            "or pass --no-gitignore"
        ) from None
    spec = pathspec.GitIgnoreSpec.from_lines(list(lines))
    return IgnoreRules(base=Path(os.path.abspath(base)), spec=spec)


def _read_ignore_file(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


def _git_root(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return None


def _parent_ignore_rules(root: Path) -> list[IgnoreRules]:
    """Rules of the repository that holds `root`, from its top down to `root`'s parent."""
    absolute = root.absolute()
    repo = _git_root(absolute)
    if repo is None:
        return []
    rules: list[IgnoreRules] = []
    info = _read_ignore_file(repo / ".git" / "info" / "exclude")
    if info:
        rules.append(_compile(info, repo))
    chain = [absolute, *absolute.parents]
    for d in reversed(chain[chain.index(repo) :]):
        if d == absolute:
            break
        lines = _read_ignore_file(d / ".gitignore")
        if lines:
            rules.append(_compile(lines, d))
    return rules


def _ignored(rules: Sequence[IgnoreRules], path: Path, is_dir: bool) -> bool:
    """Git's verdict: the deepest rule set with a matching pattern decides."""
    for r in reversed(rules):
        v = r.verdict(path, is_dir)
        if v is not None:
            return v
    return False


@dataclass
class _Walk:
    """State of one discovery (used once, then dropped)."""

    use_gitignore: bool
    excludes: list[IgnoreRules]
    files: list[DiscoveredFile] = field(default_factory=list)
    errors: list[DiscoveryError] = field(default_factory=list)
    seen_files: set[str] = field(default_factory=set)
    visited_dirs: set[tuple[int, int]] = field(default_factory=set)
    n_excluded: int = 0
    n_gitignored: int = 0

    def add_file(self, path: Path) -> None:
        key = str(path)
        if key not in self.seen_files:
            self.seen_files.add(key)
            self.files.append(DiscoveredFile(path=key, directory=str(path.parent)))

    def excluded(self, path: Path, is_dir: bool) -> bool:
        return any(r.verdict(path, is_dir) for r in self.excludes)

    def walk(self, root: Path) -> None:
        try:
            st = os.stat(root)
        except OSError as exc:
            self._stat_error(root, exc)
            return
        rules = _parent_ignore_rules(root) if self.use_gitignore else []
        self.visited_dirs.add((st.st_dev, st.st_ino))
        self._walk_dir(root, rules, ((st.st_dev, st.st_ino),))

    def _walk_dir(
        self, directory: Path, rules: list[IgnoreRules], ancestors: tuple[tuple[int, int], ...]
    ) -> None:
        if self.use_gitignore:
            lines = _read_ignore_file(directory / ".gitignore")
            if lines:
                rules = [*rules, _compile(lines, directory)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.errors.append(
                DiscoveryError(str(directory), "unreadable", f"cannot list directory: {_why(exc)}")
            )
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name == ".git":
                continue
            try:
                st = os.stat(entry.path)  # follows symlinks
            except OSError as exc:
                if entry.is_symlink() and (exc.errno == errno.ELOOP or entry.name.endswith(".py")):
                    self._stat_error(path, exc)
                continue
            is_dir = stat.S_ISDIR(st.st_mode)
            if not is_dir and not (stat.S_ISREG(st.st_mode) and entry.name.endswith(".py")):
                continue
            if self.excluded(path, is_dir):
                self.n_excluded += 1
                continue
            if rules and _ignored(rules, path, is_dir):
                self.n_gitignored += 1
                continue
            if not is_dir:
                self.add_file(path)
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in ancestors:
                target = os.path.realpath(entry.path)
                self.errors.append(
                    DiscoveryError(
                        str(path),
                        "symlink-loop",
                        f"symlink loop: leads back to its ancestor directory {target}",
                    )
                )
                continue
            if ident in self.visited_dirs:  # reached again through another symlink
                continue
            self.visited_dirs.add(ident)
            self._walk_dir(path, rules, (*ancestors, ident))

    def _stat_error(self, path: Path, exc: OSError) -> None:
        if exc.errno == errno.ELOOP:
            self.errors.append(
                DiscoveryError(
                    str(path), "symlink-loop", "symlink loop: the link resolves to itself"
                )
            )
        elif isinstance(exc, FileNotFoundError) and os.path.islink(path):
            self.errors.append(
                DiscoveryError(str(path), "unreadable", f"broken symlink to {os.readlink(path)}")
            )
        else:
            self.errors.append(DiscoveryError(str(path), "unreadable", _why(exc)))


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def discover(
    paths: Sequence[str | os.PathLike[str]],
    excludes: Sequence[str] = (),
    use_gitignore: bool = True,
    config_excludes: Sequence[str] = (),
    config_root: Path | None = None,
) -> Discovery:
    """Walk `paths` (files and directories) for the Python files to analyse.

    A path that does not exist is an InputError (nothing has been written yet);
    problems below a directory (loops, unreadable entries) become DiscoveryErrors.
    """
    for p in paths:
        if not os.path.lexists(p):
            raise InputError(f"{p}: no such file or directory")
    walk = _Walk(use_gitignore=use_gitignore, excludes=[])
    for p in paths:
        root = Path(p)
        walk.excludes = []
        if excludes:
            walk.excludes.append(_compile(excludes, root if root.is_dir() else root.parent))
        if config_excludes and config_root is not None:
            walk.excludes.append(_compile(config_excludes, config_root))
        try:
            is_dir = root.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            walk.walk(root)
            continue
        try:
            os.stat(root)
        except OSError as exc:
            walk._stat_error(root, exc)
            continue
        if excludes:  # a named file: also relative to the working directory
            walk.excludes.append(_compile(excludes, Path.cwd()))
        if walk.excluded(root, False):  # named files too: pre-commit names them all
            walk.n_excluded += 1
            continue
        walk.add_file(root)
    return Discovery(
        files=tuple(walk.files),
        errors=tuple(walk.errors),
        n_excluded=walk.n_excluded,
        n_gitignored=walk.n_gitignored,
    )
