"""Fixtures: a small corpus of real numpy/scipy files and training kernels mixed with broken files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy
import pytest
import scipy

ROOT = Path(__file__).resolve().parents[2]
NUMPY = Path(numpy.__file__).parent
SCIPY = Path(scipy.__file__).parent

#: real files copied into the corpus (small, with loops and numpy calls)
REAL_FILES = (
    (NUMPY / "_core" / "_string_helpers.py", "numpy_part/string_helpers.py"),
    (NUMPY / "lib" / "_scimath_impl.py", "numpy_part/scimath.py"),
    (SCIPY / "signal" / "_savitzky_golay.py", "scipy_part/savgol.py"),
    (SCIPY / "special" / "_logsumexp.py", "scipy_part/logsumexp.py"),
    (ROOT / "corpus" / "ai" / "relu_naive.py", "kernels/relu_naive.py"),
    (ROOT / "corpus" / "ai" / "matmul_naive.py", "kernels/matmul_naive.py"),
)

#: broken files and the status each must get
BROKEN: dict[str, tuple[bytes, str]] = {
    "broken/syntax.py": (b"def f(:\n    return 1\n", "syntax"),
    "broken/py2.py": (b'def f():\n    print "hello"\n', "python2"),
    "broken/binary.py": (b"\x00\x01\x02\x03binary\x00", "binary"),
    "broken/latin.py": (b"x = '\xe9t\xe9'\n", "non-utf8"),
    "broken/empty.py": (b"", "empty"),
    "broken/huge.py": (b"x = 1  # a 50k-line generated file\n" * 50_000, "too-large"),
}


def make_corpus(root: Path) -> Path:
    """Build the test corpus under `root` and return it."""
    for src, rel in REAL_FILES:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    for rel, (data, _) in BROKEN.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    # a directory symlink back to its ancestor: a loop
    os.symlink("..", root / "broken" / "loop")
    # ignored by .gitignore, and a file re-included by negation
    (root / ".gitignore").write_text("build/\n*.gen.py\n!keep.gen.py\n")
    (root / "build").mkdir()
    (root / "build" / "generated.py").write_text("def g():\n    pass\n")
    (root / "kernels" / "skip.gen.py").write_text("def s():\n    pass\n")
    (root / "kernels" / "keep.gen.py").write_text("def k():\n    return 1\n")
    return root


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A fresh corpus directory for one test."""
    return make_corpus(tmp_path / "corpus")


def expected_statuses(corpus: Path) -> dict[str, str]:
    """Path (as analyze reports it) -> expected status, for every file of the corpus."""
    out = {str(corpus / rel): "ok" for _, rel in REAL_FILES}
    out.update({str(corpus / rel): status for rel, (_, status) in BROKEN.items()})
    out[str(corpus / "broken" / "loop")] = "symlink-loop"
    out[str(corpus / "kernels" / "keep.gen.py")] = "ok"
    return out
