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
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
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

    Byte-identical to `difflib.unified_diff` over the whole texts (3 lines of
    context), but for a large file with a few local changes (one fix of `check`)
    the cost follows the changed lines, not the file: see `_local_opcodes`.
    """
    if old == new:
        return ""
    shown = _diff_path(path)
    a, counts = _old_lines(old)
    b = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b) if len(a) + len(b) < _LOCAL_DIFF_MIN else None
    if matcher is None:
        opcodes = _local_opcodes(a, b, counts)
        if opcodes is None:  # not provably what difflib finds: ask difflib
            matcher = difflib.SequenceMatcher(None, a, b)
        else:
            matcher = difflib.SequenceMatcher(None, (), ())
            matcher.opcodes = opcodes  # what `get_grouped_opcodes` starts from
    return "".join(_unified_lines(matcher, a, b, f"a/{shown}", f"b/{shown}"))


#: below this many lines (old + new) `unified_diff` simply runs difflib
_LOCAL_DIFF_MIN = 400
#: changed regions larger than this (lines, both sides) are left to difflib
_LOCAL_DIFF_MAX_CHANGED = 2000
#: how far (lines) past a change `_changed_regions` looks for the texts to agree again
_RESYNC_WINDOW = 200
#: lines that must agree for a resynchronisation to be accepted
_RESYNC_RUN = 4

#: the last `old` text diffed, its lines and how often each occurs
_old_cache: tuple[str, list[str], Counter[str]] | None = None


def _old_lines(old: str) -> tuple[list[str], Counter[str]]:
    """`old.splitlines(keepends=True)` and its line counts, kept for the next call:
    `check` diffs one file's text against each of its fixes."""
    global _old_cache
    if _old_cache is None or (_old_cache[0] is not old and _old_cache[0] != old):
        lines = old.splitlines(keepends=True)
        _old_cache = (old, lines, Counter(lines))
    return _old_cache[1], _old_cache[2]


def _unified_lines(
    matcher: difflib.SequenceMatcher[str], a: list[str], b: list[str], fromfile: str, tofile: str
) -> Iterator[str]:
    """`difflib.unified_diff(a, b, fromfile, tofile)`, from `matcher`'s opcodes."""
    started = False
    for group in matcher.get_grouped_opcodes(3):
        if not started:
            started = True
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        file1_range = _format_range(first[1], last[2])
        file2_range = _format_range(first[3], last[4])
        yield f"@@ -{file1_range} +{file2_range} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in a[i1:i2]:
                    yield " " + line
                continue
            if tag in {"replace", "delete"}:
                for line in a[i1:i2]:
                    yield "-" + line
            if tag in {"replace", "insert"}:
                for line in b[j1:j2]:
                    yield "+" + line


def _format_range(start: int, stop: int) -> str:
    """A hunk range as `difflib` writes it ("ed" format)."""
    beginning = start + 1
    length = stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def _gallop(limit: int, same: Callable[[int, int], bool]) -> int:
    """The largest n <= `limit` with `same(0, n)`, where `same(lo, hi)` compares lines
    lo..hi-1 of two runs; galloping then bisecting, so each comparison is one list-slice
    comparison at C speed, not a loop per line. The first lines must already match."""
    lo, step = 1, 1  # same(0, lo) holds
    while True:
        hi = min(lo + step, limit)
        if not same(lo, hi):
            break
        lo = hi
        if lo == limit:
            return lo
        step *= 2
    # the first difference is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if same(lo, mid):
            lo = mid
        else:
            hi = mid
    return lo


def _common_run(a: list[str], i: int, b: list[str], j: int, limit: int) -> int:
    """How many lines `a[i:]` and `b[j:]` share from the start (at most `limit`)."""
    if limit <= 0 or a[i] != b[j]:
        return 0
    return _gallop(limit, lambda lo, hi: a[i + lo : i + hi] == b[j + lo : j + hi])


def _common_tail(a: list[str], ahi: int, b: list[str], bhi: int, limit: int) -> int:
    """How many lines `a[:ahi]` and `b[:bhi]` share at their ends (at most `limit`)."""
    if limit <= 0 or a[ahi - 1] != b[bhi - 1]:
        return 0
    return _gallop(limit, lambda lo, hi: a[ahi - hi : ahi - lo] == b[bhi - hi : bhi - lo])


def _changed_regions(a: list[str], b: list[str]) -> list[tuple[int, int, int, int]] | None:
    """`(i1, i2, j1, j2)` for each stretch where `a` and `b` differ (`a[i1:i2]` became
    `b[j1:j2]`); between them (and before the first, after the last) the texts agree line
    for line. A heuristic (any answer is checked by `_local_opcodes`); None when the
    changes are too large to gain anything."""
    n, m = len(a), len(b)
    tail = _common_tail(a, n, b, m, min(n, m))
    ahi, bhi = n - tail, m - tail
    regions: list[tuple[int, int, int, int]] = []
    i = j = 0
    changed = 0
    while True:
        k = _common_run(a, i, b, j, min(ahi - i, bhi - j))
        i, j = i + k, j + k
        if i == ahi and j == bhi:
            return regions
        # a change starts at (i, j): find where the texts agree again for a few lines
        if ahi - i <= _RESYNC_RUN or bhi - j <= _RESYNC_RUN:
            i2, j2 = ahi, bhi
        else:
            # the nearest pair (fewest lines skipped on both sides) that starts a run
            where: dict[str, list[int]] = {}
            for y in range(j, min(j + _RESYNC_WINDOW, bhi - _RESYNC_RUN) + 1):
                where.setdefault(b[y], []).append(y)
            found = None
            cost = 2 * _RESYNC_WINDOW
            for x in range(i, min(i + _RESYNC_WINDOW, ahi - _RESYNC_RUN) + 1):
                if x - i >= cost:
                    break
                for y in where.get(a[x], ()):
                    if (x - i) + (y - j) >= cost:
                        break
                    if (x, y) != (i, j) and a[x : x + _RESYNC_RUN] == b[y : y + _RESYNC_RUN]:
                        found, cost = (x, y), (x - i) + (y - j)
                        break
            if found is None:
                return None
            i2, j2 = found
            # the agreeing stretch may start earlier: move it back, keeping i2 >= i, j2 >= j
            back = _common_tail(a, i2, b, j2, min(i2 - i, j2 - j))
            i2, j2 = i2 - back, j2 - back
        changed += (i2 - i) + (j2 - j)
        if changed > _LOCAL_DIFF_MAX_CHANGED:
            return None
        regions.append((i, i2, j, j2))
        i, j = i2, j2


def _local_opcodes(
    a: list[str], b: list[str], counts: Mapping[str, int]
) -> list[tuple[str, int, int, int, int]] | None:
    """`SequenceMatcher(None, a, b).get_opcodes()`, computed from the changed regions
    only, or None when that cannot be shown to equal difflib's answer.

    difflib picks, in each range, the longest run of matching lines that are not
    "popular" (a line of `b` occurring more than `len(b) // 100 + 1` times, `b` of 200
    lines or more), then recurses on both sides. When (1) no non-popular line of a
    changed region occurs outside it (in the unchanged text or another region, on the
    other side), (2) the lines just outside each region differ, and (3) no match found
    inside a region touches its edge where the line pair beyond it is equal, then no run
    crosses a region's edge, a run between two unchanged stretches never beats the
    aligned one that holds the same lines (found earlier or at the same line), and
    extensions stop at the edges: difflib's matches are then exactly the unchanged
    stretches plus what it finds within each region on its own (with the whole file's
    popular lines), provided (4) each unchanged stretch holds a non-popular line (else
    difflib leaves it to the neighbouring changes). Each condition is checked here; any
    failure gives None.
    """
    regions = _changed_regions(a, b)
    if regions is None:
        return None
    n, m = len(a), len(b)
    in_a: list[Counter[str]] = [Counter(a[i1:i2]) for i1, i2, _, _ in regions]
    in_b: list[Counter[str]] = [Counter(b[j1:j2]) for _, _, j1, j2 in regions]
    all_a: Counter[str] = Counter()
    all_b: Counter[str] = Counter()
    for ca, cb in zip(in_a, in_b, strict=True):
        all_a.update(ca)
        all_b.update(cb)
    ntest = m // 100 + 1 if m >= 200 else None

    def unchanged(line: str) -> int:
        return counts[line] - all_a[line]

    def popular(line: str) -> bool:
        return ntest is not None and unchanged(line) + all_b[line] > ntest

    def anchored(lo: int, hi: int) -> bool:
        # difflib matches an unchanged stretch only from a run, which needs a line that is
        # not popular (a stretch of popular lines is left to the changes around it)
        return lo == hi or any(not popular(line) for line in a[lo:hi])

    out: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for (i1, i2, j1, j2), ca, cb in zip(regions, in_a, in_b, strict=True):
        if not anchored(i, i1):  # (4)
            return None
        # (2) the aligned pairs just inside the region's edges differ
        if i1 < n and j1 < m and a[i1] == b[j1]:
            return None
        if i2 > 0 and j2 > 0 and a[i2 - 1] == b[j2 - 1]:
            return None
        # (1) the region's non-popular lines occur nowhere else on the other side
        for line in ca:
            if not popular(line) and (unchanged(line) or all_b[line] - cb[line]):
                return None
        for line in cb:
            if not popular(line) and (unchanged(line) or all_a[line] - ca[line]):
                return None
        if i1 > i:
            out.append(("equal", i, i1, j, j1))
        sub = difflib.SequenceMatcher(None, a[i1:i2], b[j1:j2], autojunk=False)
        if ntest is not None:
            for line in list(sub.b2j):
                if popular(line):
                    del sub.b2j[line]
        for bi, bj, size in sub.get_matching_blocks():
            if not size:
                continue
            # (3) a match at the region's edge would extend past it if the next pair agrees
            if (bi == 0 or bj == 0) and (
                i1 + bi > 0 and j1 + bj > 0 and a[i1 + bi - 1] == b[j1 + bj - 1]
            ):
                return None
            end_a, end_b = i1 + bi + size, j1 + bj + size
            if (end_a == i2 or end_b == j2) and end_a < n and end_b < m and a[end_a] == b[end_b]:
                return None
        for tag, x1, x2, y1, y2 in sub.get_opcodes():
            out.append((tag, i1 + x1, i1 + x2, j1 + y1, j1 + y2))
        i, j = i2, j2
    if not anchored(i, n):
        return None
    if i < n or j < m:
        out.append(("equal", i, n, j, m))
    return out


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
