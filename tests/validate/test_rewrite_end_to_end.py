"""`greenopt rewrite` end to end with the real vectorize pass and the real runner.

Elementwise, reduction and stencil loops must be accepted with a large measured
gain (meter `estimate` here, so ratios not absolute joules are what matter);
unexercised functions are untouched; `--json`, `-o`, `--write`, `--workload` and
`[tool.greenopt.workloads]` behave as documented.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from greenopt.cli import main

from .conftest import FAST_FLAGS

pytest.importorskip("greenopt.passes.vectorize")

KERNELS = '''"""Naive kernels for the end-to-end tests."""

import numpy as np


def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out


def dot(x, y):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s


def smooth(u):
    v = u.copy()
    for i in range(1, len(u) - 1):
        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]
    return v


def unused(x):
    total = 0.0
    for i in range(len(x)):
        total += x[i]
    return total
'''

STATIC_SAFE = """

def scale(n):
    a = np.ones(n)
    out = np.zeros(n)
    for i in range(n):
        out[i] = a[i] * 2.0
    return out
"""

WORKLOAD = """import numpy as np

import kern

N = 150_000


def workload_saxpy():
    return kern.saxpy(2.0, np.random.rand(N), np.random.rand(N))


def workload_dot():
    return kern.dot(np.random.rand(N), np.random.rand(N))


def workload_smooth():
    return kern.smooth(np.random.rand(N))
"""

FUNCTION_FIELDS = {
    "name",
    "passes",
    "verdict",
    "reason",
    "energy_before_j",
    "energy_after_j",
    "ratio",
    "ci95",
    "max_abs_error",
    "max_rel_error",
    "co2e_saved_g",
    "predicted_ratio",
    "candidates",
}
CANDIDATE_FIELDS = {"source_hash", "passes", "predicted_ratio", "measured", "ratio"}


def _function_code(code: str, name: str) -> str:
    tree = ast.parse(code)
    (node,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return ast.get_source_segment(code, node) or ""


def test_workload_file_json_and_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "kern.py"
    module.write_text(KERNELS)
    (tmp_path / "kern_workload.py").write_text(WORKLOAD)
    report, out = tmp_path / "report.json", tmp_path / "out.py"
    code = main(
        [
            "rewrite",
            str(module),
            "--workload",
            str(tmp_path / "kern_workload.py"),
            "--passes",
            "vectorize",
            "--json",
            str(report),
            "-o",
            str(out),
            *FAST_FLAGS,
        ]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert stdout == ""  # -o: no diff on stdout
    assert module.read_text() == KERNELS
    data = json.loads(report.read_text())
    assert data["meter"] == {"name": "estimate", "measured": False}
    functions = {f["name"]: f for f in data["functions"]}
    assert set(functions) == {"saxpy", "dot", "smooth", "unused"}
    for name in ("saxpy", "dot", "smooth"):
        f = functions[name]
        assert set(f) == FUNCTION_FIELDS
        assert f["verdict"] == "accepted", f["reason"]
        assert f["passes"] == ["vectorize"]
        assert f["ratio"] < 0.5 and f["ci95"][1] < 0.98  # a large measured gain
        assert f["energy_after_j"] < f["energy_before_j"] and f["co2e_saved_g"] > 0
        assert f["max_rel_error"] <= 1e-9
        assert f["candidates"] and all(CANDIDATE_FIELDS <= set(c) for c in f["candidates"])
        assert any(c["measured"] and c["verdict"] == "accepted" for c in f["candidates"])
    assert functions["unused"]["verdict"] == "not exercised"
    assert functions["unused"]["candidates"] == []
    new = out.read_text()
    for name in ("saxpy", "dot"):  # parameters of unknown rank: slices behind a rank guard
        code = _function_code(new, name)
        assert "if x.ndim == y.ndim == 1:" in code and code.count("for i in range") == 1
    assert "for i in range" not in _function_code(new, "smooth")  # one class: no guard
    assert _function_code(new, "unused") == _function_code(KERNELS, "unused")
    assert "estimated" in stderr and "not exercised" in stderr


def test_config_workload_and_atomic_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "kern.py"
    module.write_text(KERNELS)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.greenopt.workloads]\n"
        '"kern.py" = [{setup = "import numpy as np; u = np.random.rand(150_000)", '
        'call = "smooth(u)"}]\n'
    )
    store = tmp_path.parent / f"{tmp_path.name}-store.sqlite"
    flags = [f for f in FAST_FLAGS if f != "--no-store"]
    code = main(
        ["rewrite", str(module), "--passes", "vectorize", "--write", "--store", str(store), *flags]
    )
    _, stderr = capsys.readouterr()
    assert code == 0, stderr
    from greenopt.store import Store

    with Store(store) as db:
        rows = db.measurements(kind="validate")
    roles = sorted(r["extra"]["role"] for r in rows)
    assert roles and roles.count("original") == roles.count("candidate")
    new = module.read_text()
    assert "for i in range" not in _function_code(new, "smooth")
    for name in ("saxpy", "dot", "unused"):  # not exercised by the configured workload
        assert _function_code(new, name) == _function_code(KERNELS, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kern.py", "pyproject.toml"]


def test_interrupt_leaves_the_file_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import greenopt.optimizer.pipeline as pipeline

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "optimize", interrupted)
    module = tmp_path / "kern.py"
    module.write_text(KERNELS)
    code = main(["rewrite", str(module), "--call", "unused([1.0])", "--write", *FAST_FLAGS])
    assert code == 130
    assert capsys.readouterr().err == "greenopt: interrupted\n"  # one line, no blank one
    assert module.read_text() == KERNELS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kern.py"]


def test_static_mode_delegates_and_is_labelled_not_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("greenopt.optimizer.static")
    module = tmp_path / "kern.py"
    module.write_text(KERNELS + STATIC_SAFE)
    report = tmp_path / "static.json"
    code = main(
        ["rewrite", str(module), "--static", "--passes", "vectorize", "--json", str(report)]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert stdout.startswith("--- a/") and "+++ b/" in stdout  # a diff, nothing written
    assert module.read_text() == KERNELS + STATIC_SAFE
    assert "not measured" in stderr
    data = json.loads(report.read_text())
    assert data["mode"] == "static" and data["measured"] is False
    assert data["label"] == "not measured"
    assert all(a["pass"] == "vectorize" for a in data["applied"])
    # parameters might be Python lists: only the function whose arrays are provably
    # NumPy arrays allocated in it is rewritten without a workload
    assert {a["function"] for a in data["applied"]} == {"scale"}
    # --static runs nothing, so it refuses workload flags
    assert main(["rewrite", str(module), "--static", "--call", "saxpy(1, 2, 3)"]) == 2
