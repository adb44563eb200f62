"""A real loopback Dask cluster (scheduler + worker processes) gives the local run's results."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenopt.batch.results import DB_NAME, ResultStore
from greenopt.cli import main

pytest.importorskip("distributed")


def _dask_command(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("dask")
    if exe.exists():
        return [str(exe), *args]
    return [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `dask scheduler` and `dask worker` on 127.0.0.1; yield the scheduler address."""
    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    logs = [open(tmp / "scheduler.log", "w"), open(tmp / "worker.log", "w")]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            _dask_command(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ),
            stdout=logs[0],
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail("dask scheduler did not start: " + (tmp / "scheduler.log").read_text())
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(
            subprocess.Popen(
                _dask_command(
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "2",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--local-directory",
                    str(tmp / "worker"),
                ),
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        )
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


def test_dask_results_equal_local_results(dask_cluster: str, corpus: Path, tmp_path: Path) -> None:
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert main(["analyze", str(corpus), "--out", str(local), "--jobs", "2", "--no-progress"]) == 0
    assert main(["analyze", str(corpus), "--out", str(remote), "--scheduler", dask_cluster]) == 0
    with ResultStore(local / DB_NAME) as a, ResultStore(remote / DB_NAME) as b:
        local_results, dask_results = a.file_results(), b.file_results()
        assert a.last_run()["n_analyzed"] == b.last_run()["n_analyzed"] == len(local_results)
    assert len(local_results) == 14
    assert dask_results == local_results
    assert sum(len(f.opportunities) for r in dask_results for f in r.functions) > 0


def test_unreachable_scheduler_is_a_clear_error(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        ["analyze", str(corpus), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "cannot connect to the Dask scheduler" in err and "Traceback" not in err
