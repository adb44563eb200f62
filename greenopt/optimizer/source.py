"""Source layer: reading, parsing (libcst) and atomically writing user modules.

`SourceModule` is the plain value passed between the parser, the passes and the
emitters. Metadata (positions, scopes, qualified names) is built on demand because
it is the slow part of libcst.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
import tokenize
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
    #: what `module_edits` derived from `tree` (kind -> (the tree it was derived from, value))
    _derived: dict[str, tuple[cst.Module, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

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
    """Read a Python source file as text; raise InputError with one clear line.

    Decoded as Python itself does (`tokenize.detect_encoding`): UTF-8 by default, or the
    PEP 263 `# -*- coding: NAME -*-` declaration of the first two lines. A UTF-8
    byte-order mark stays in the text (as U+FEFF) so that writing it back keeps it.
    """
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
    return decode_source_bytes(data, str(p))


def decode_source_bytes(data: bytes, where: str) -> str:
    """`data` decoded in its declared (or the default UTF-8) encoding, BOM kept."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # invalid UTF-8 in the first two lines, or a bad cookie
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise InputError(f"{where}: not UTF-8 (byte {bad.start})") from None
        raise InputError(f"{where}: bad encoding declaration: {exc.msg}") from None
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # keep the mark in the text: libcst and `ast` callers skip it
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-8":
            raise InputError(f"{where}: not UTF-8 (byte {exc.start})") from None
        raise InputError(
            f"{where}: not valid {encoding} text, its declared encoding (byte {exc.start})"
        ) from None


def source_encoding(text: str) -> str:
    """The codec `text` must be written in: its PEP 263 declaration's, else UTF-8.

    A leading U+FEFF is the UTF-8 byte-order mark (written as such by UTF-8).
    """
    first = text.find("\n")
    second = text.find("\n", first + 1) if first >= 0 else -1
    head = text if second < 0 else text[: second + 1]  # a declaration is in lines 1-2
    if "coding" not in head:
        return "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(head.encode("utf-8")).readline)
    except SyntaxError:
        return "utf-8"
    return "utf-8" if encoding == "utf-8-sig" else encoding


def encode_source(text: str, where: str) -> bytes:
    """`text` as the bytes of a source file, in its declared encoding (see `source_encoding`)."""
    encoding = source_encoding(text)
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{where}: the text cannot be written in its declared encoding {encoding} "
            f"(character {exc.object[exc.start]!r})"
        ) from None


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

    The text is encoded as it declares (PEP 263 `coding:` line, else UTF-8), so a
    Latin-1 module is written back in Latin-1. Writes a temp file in the same
    directory, fsyncs it, keeps the original's permission bits, then renames over the
    original (over the file a symlink names, not the link); on any failure the
    original file is untouched.
    """
    # a symlink is written through, to the file it names, and stays a symlink
    target = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise InputError(
            f"{target}: refusing to write text that does not parse: {exc.message}"
        ) from None
    data = encode_source(text, str(target))  # in the encoding the text declares
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".greenopt", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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
