"""Discovery: gitignore semantics, excludes, symlink loops, explicit files, missing paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from greenopt.batch.discovery import discover
from greenopt.errors import InputError


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x = 1\n")


def _names(root: Path, **kw: object) -> list[str]:
    d = discover([root], **kw)  # type: ignore[arg-type]
    return sorted(Path(f.path).relative_to(root).as_posix() for f in d.files)


def test_gitignore_patterns_negation_directories_and_anchors(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "a.py",
            "gen_a.py",
            "gen_keep.py",
            "top.py",
            "sub/top.py",
            "out/x.py",
            "sub/out/y.py",
            "sub/deep/z.py",
            "sub/deep/local.py",
            "notes.txt",
        ],
    )
    (tmp_path / ".gitignore").write_text("gen_*.py\n!gen_keep.py\n/top.py\nout/\n")
    (tmp_path / "sub" / "deep").mkdir(exist_ok=True)
    (tmp_path / "sub" / "deep" / ".gitignore").write_text("local.py\n")
    assert _names(tmp_path) == ["a.py", "gen_keep.py", "sub/deep/z.py", "sub/top.py"]
    assert len(_names(tmp_path, use_gitignore=False)) == 9  # notes.txt is not Python


def test_deeper_gitignore_can_reinclude(tmp_path: Path) -> None:
    _tree(tmp_path, ["pkg/a_test.py", "pkg/b_test.py"])
    (tmp_path / ".gitignore").write_text("*_test.py\n")
    (tmp_path / "pkg" / ".gitignore").write_text("!b_test.py\n")
    assert _names(tmp_path) == ["pkg/b_test.py"]


def test_gitignore_of_the_enclosing_repository_applies(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("vendored/\n")
    _tree(tmp_path, ["src/vendored/v.py", "src/m.py"])
    assert _names(tmp_path / "src") == ["m.py"]


def test_excludes_are_gitignore_style_and_relative_to_each_path(tmp_path: Path) -> None:
    _tree(tmp_path, ["a.py", "tests/t.py", "pkg/tests/u.py", "pkg/x_pb2.py"])
    assert _names(tmp_path, excludes=["tests/", "*_pb2.py"]) == ["a.py"]
    assert _names(tmp_path, excludes=["/tests/"]) == ["a.py", "pkg/tests/u.py", "pkg/x_pb2.py"]


def test_symlink_loops_are_errors_not_hangs(tmp_path: Path) -> None:
    _tree(tmp_path, ["pkg/a.py"])
    os.symlink("..", tmp_path / "pkg" / "up")  # directory loop
    os.symlink("self.py", tmp_path / "self.py")  # a link to itself
    os.symlink("missing.py", tmp_path / "dangling.py")
    d = discover([tmp_path])
    assert [Path(f.path).name for f in d.files] == ["a.py"]
    errors = {Path(e.path).name: e.status for e in d.errors}
    assert errors == {"up": "symlink-loop", "self.py": "symlink-loop", "dangling.py": "unreadable"}


def test_explicit_files_are_taken_whatever_their_name(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text("x = 1\n")
    assert [f.path for f in discover([script]).files] == [str(script)]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        discover([tmp_path / "nope"])


def test_walk_order_is_sorted_and_stable(tmp_path: Path) -> None:
    _tree(tmp_path, ["b.py", "a/z.py", "a/b.py", "c.py"])
    assert _names(tmp_path) == ["a/b.py", "a/z.py", "b.py", "c.py"]
    assert [f.path for f in discover([tmp_path]).files] == [
        str(tmp_path / p) for p in ("a/b.py", "a/z.py", "b.py", "c.py")
    ]
