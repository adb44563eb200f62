"""Report paths never destroy an input, and --write goes through symlinks."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.cli import main

KERNEL = """import numpy as np


def f(n):
    a = np.zeros(n)
    b = np.ones(n)
    for i in range(n):
        a[i] = b[i] * 2.0
    return a
"""


@pytest.fixture
def kernel(tmp_path: Path) -> Path:
    path = tmp_path / "k.py"
    path.write_text(KERNEL)
    return path


def test_check_report_over_an_input_is_refused(
    kernel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(kernel), "-o", str(kernel)]) == 2
    assert kernel.read_text() == KERNEL
    assert "is an input; refusing to overwrite it" in capsys.readouterr().err
    # a Python file inside a checked directory is an input too
    assert main(["check", str(kernel.parent), "-o", str(kernel)]) == 2
    assert kernel.read_text() == KERNEL


def test_rewrite_json_over_the_module_or_a_workload_is_refused(
    kernel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rewrite", "--static", str(kernel), "--json", str(kernel)]) == 2
    assert kernel.read_text() == KERNEL
    workload = kernel.parent / "k_workload.py"
    workload.write_text("import k\n\n\ndef workload_f():\n    return k.f(10)\n")
    before = workload.read_text()
    for flag in ("--json", "-o"):
        code = main(["rewrite", str(kernel), "--workload", str(workload), flag, str(workload)])
        assert code == 2 and workload.read_text() == before
    out = kernel.parent / "out.py"
    assert main(["rewrite", "--static", str(kernel), "-o", str(out), "--json", str(out)]) == 2
    assert "name the same file" in capsys.readouterr().err
    assert not out.exists()


def test_write_through_a_symlink_rewrites_the_target_and_keeps_the_link(kernel: Path) -> None:
    link = kernel.parent / "link.py"
    link.symlink_to(kernel.name)
    assert main(["rewrite", "--static", "--write", "--quiet", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == kernel.resolve()
    assert "a[:n] = b[:n] * 2.0" in kernel.read_text()
