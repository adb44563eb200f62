"""Optional: analyze the whole installed numpy and scipy trees with broken files mixed in.

Takes many minutes on a small machine, so it runs only with GREENOPT_RUN_SLOW=1:

    GREENOPT_RUN_SLOW=1 .venv/bin/pytest -q tests/batch/test_whole_tree.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from greenopt.batch.results import DB_NAME, ResultStore
from greenopt.cli import main

from .conftest import BROKEN, NUMPY, SCIPY

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("GREENOPT_RUN_SLOW") != "1", reason="set GREENOPT_RUN_SLOW=1"
    ),
]


def test_whole_numpy_and_scipy_trees(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    for rel, (data, _) in BROKEN.items():
        (broken / Path(rel).name).parent.mkdir(parents=True, exist_ok=True)
        (broken / Path(rel).name).write_bytes(data)
    out = tmp_path / "out"
    args = ["analyze", str(NUMPY), str(SCIPY), str(broken), "--out", str(out), "--no-gitignore"]
    assert main([*args, "--no-progress"]) == 0
    with ResultStore(out / DB_NAME) as store:
        rows = store.file_rows()
    n_py = sum(1 for _ in NUMPY.rglob("*.py")) + sum(1 for _ in SCIPY.rglob("*.py"))
    assert len(rows) == n_py + len(BROKEN)
    statuses = {
        Path(r["path"]).name: r["status"] for r in rows if r["path"].startswith(str(broken))
    }
    assert statuses == {Path(rel).name: status for rel, (_, status) in BROKEN.items()}
    assert not [r for r in rows if r["status"] in ("internal-error", "worker-crash")]
    assert main([*args, "--no-progress"]) == 0  # second run: everything reused
    with ResultStore(out / DB_NAME) as store:
        run = store.last_run()
    assert run is not None and run["n_reused"] >= n_py - 50
