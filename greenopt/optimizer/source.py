"""Source layer: reading, parsing (libcst) and atomically writing user modules.

`SourceModule` is the plain value passed between the parser, the passes and the
emitters. Metadata (positions, scopes, qualified names) is built on demand because
it is the slow part of libcst.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libcst as cst

from greenopt.errors import InputError
from greenopt.optimizer.screen import screen_source

if TYPE_CHECKING:
    import ast

    from greenopt.optimizer.numpy_names import NameResolver
    from greenopt.optimizer.positions import Position

#: files larger than this are refused (per-file error) rather than parsed
MAX_FILE_BYTES = 5_000_000


@dataclass
class SourceModule:
    """A parsed module: its path (if any), its text and its libcst tree."""

    code: str
    tree: cst.Module
    path: str | None = None
    _wrapper: cst.metadata.MetadataWrapper | None = field(default=None, repr=False, compare=False)
    _resolver: Any = field(default=None, repr=False, compare=False)
    _ast: Any = field(default=None, repr=False, compare=False)  # (ast.Module | None,) once parsed
    _statements: dict[int, Position] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, code: str, path: str | None = None) -> SourceModule:
        """Parse `code`; a syntax error becomes an InputError naming file, line and column."""
        try:
            tree = cst.parse_module(code)
        except cst.ParserSyntaxError as exc:
            where = path or "<string>"
            # Python's own message and position, as `check` reports them (with the
            # Python 2 hint); libcst's only where Python itself parses the code
            screen_source(code, where)
            raise InputError(
                f"{where}:{exc.raw_line}:{exc.raw_column}: syntax error: {exc.message}"
            ) from None
        return cls(code=code, tree=tree, path=path)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SourceModule:
        """Read and parse a file, turning every kind of bad input into an InputError."""
        code = read_source(path)
        if not code.strip():
            raise InputError(f"{path}: empty file, nothing to rewrite")
        return cls.parse(code, str(path))

    def with_tree(self, tree: cst.Module) -> SourceModule:
        """Return a new SourceModule for a rewritten tree (same path)."""
        return SourceModule(code=tree.code, tree=tree, path=self.path)

    def loop_resolver(self) -> NameResolver:
        """Qualified-name resolution for the functions that contain loops (built once).

        See `NameResolver.for_loops`. Positions it reports are full-module positions.
        """
        if self._resolver is None:
            from greenopt.optimizer.numpy_names import NameResolver

            self._resolver = NameResolver.for_loops(self.tree)
        return self._resolver

    def ast_module(self) -> ast.Module | None:
        """The stdlib `ast` tree of the same text (parsed once; None if `ast` refuses it).

        `ast` knows every statement's position without libcst's costly `PositionProvider`.
        """
        if self._ast is None:
            from greenopt.optimizer.positions import parse_ast

            self._ast = (parse_ast(self.code),)
        return self._ast[0]  # type: ignore[no-any-return]

    def statement_positions(self) -> dict[int, Position]:
        """`id(statement node) -> (line, col, end_line, end_col)` for every statement,
        computed once from `ast` (empty when the trees disagree: use `PositionProvider`)."""
        if self._statements is None:
            from greenopt.optimizer.positions import statement_ranges

            self._statements = statement_ranges(self.tree, self.code, self.ast_module())
        return self._statements

    def has_resolved(self, provider: type) -> bool:
        """True when `metadata()` already computed `provider` (so reusing it is free)."""
        if self._wrapper is None:
            return False
        return provider in getattr(self._wrapper, "_metadata", {})

    def metadata(self) -> cst.metadata.MetadataWrapper:
        """The metadata wrapper of this module (built once, on first use)."""
        if self._wrapper is None:
            self._wrapper = cst.metadata.MetadataWrapper(self.tree, unsafe_skip_copy=True)
        return self._wrapper


def read_source(path: str | os.PathLike[str]) -> str:
    """Read a Python source file as UTF-8 text; raise InputError with one clear line."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p}: is a directory")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{p}: file too large ({size} bytes > {MAX_FILE_BYTES})")
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise InputError(f"{p}: binary file, not Python source")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 (byte {exc.start})") from None


def unified_diff(old: str, new: str, path: str) -> str:
    """A unified diff of `old` -> `new` with a/ b/ headers, empty when equal.

    Absolute paths under the working directory are shown relative to it (as git
    does), so the headers never read `a//abs/path`.
    """
    shown = _diff_path(path)
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{shown}",
            tofile=f"b/{shown}",
        )
    )


def _diff_path(path: str) -> str:
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        rel = path
    return rel if not rel.startswith("..") else path.lstrip("/")


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Replace `path` with `text` atomically, only if `text` parses as Python.

    Writes a temp file in the same directory, fsyncs it, keeps the original's
    permission bits, then renames over the original (over the file a symlink names,
    not the link); on any failure the original file is untouched.
    """
    # a symlink is written through, to the file it names, and stays a symlink
    target = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise InputError(
            f"{target}: refusing to write text that does not parse: {exc.message}"
        ) from None
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".greenopt", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
