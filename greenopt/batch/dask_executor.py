"""Running the per-file analysis on a Dask distributed cluster (`--scheduler tcp://HOST:PORT`).

The same `analyze_source` as the local executor runs on the workers, with the
file's bytes shipped in the task, so workers need greenopt installed but not the
corpus, and results equal the local run's. Submission is windowed
(`distributed.as_completed` fed as results arrive) to bound memory. Before any
work, a probe task checks that the workers can import greenopt and run the same
greenopt code as this client (same code fingerprint); otherwise results could
differ silently, so the run stops with a clear error.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source
from greenopt.batch.fingerprint import code_fingerprint
from greenopt.batch.records import FileResult, FileTask, crash_result
from greenopt.errors import InputError


def worker_code_fingerprint() -> str:
    """Runs on a worker: the fingerprint of the greenopt code it has installed."""
    return code_fingerprint()


#: One analysis at a time per worker process. Dask runs tasks in threads, and
#: CPython's `ast` constructor tracks its recursion depth per interpreter, not per
#: thread (3.11: "AST constructor recursion depth mismatch" under concurrency); the
#: analysis holds the GIL anyway, so parallelism comes from worker processes.
_ANALYSIS_LOCK = threading.Lock()


def _run_task(task: FileTask, options: AnalysisOptions) -> FileResult:
    with _ANALYSIS_LOCK:
        return analyze_source(task.path, task.data, options)


@dataclass(frozen=True)
class DaskExecutor:
    """Runs `analyze_source` on the cluster behind `address`."""

    address: str
    connect_timeout_s: float = 10.0
    window_per_thread: int = 4
    #: a client already connected and probed by `connected()`; `run` uses (and closes) it
    client: Any = None

    def connected(self) -> DaskExecutor:
        """This executor with its client connected and the workers probed now.

        `analyze` calls it before creating its output directory, so an unreachable
        scheduler or unusable workers fail the run before anything is written."""
        client = self._connect()
        try:
            self._probe(client)
        except BaseException:
            client.close()
            raise
        return dataclasses.replace(self, client=client)

    def close(self) -> None:
        """Close the client of `connected()` when `run` never did (the run failed first)."""
        if self.client is not None:
            self.client.close()

    def _connect(self) -> Any:
        try:
            from distributed import Client
        except ImportError:
            raise InputError(
                "--scheduler needs dask.distributed (pip install 'greenopt[dask]')"
            ) from None
        try:
            client = Client(self.address, timeout=self.connect_timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot connect to the Dask scheduler at {self.address}: {exc}"
            ) from None
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout_s)
        except (TimeoutError, OSError):
            client.close()
            raise InputError(f"no Dask worker is connected to {self.address}") from None
        return client

    def run(self, tasks: Iterable[FileTask], options: AnalysisOptions) -> Iterator[FileResult]:
        """Yield one result per task, in completion order."""
        from distributed import as_completed

        client = self.client if self.client is not None else self._connect()
        pending: dict[Any, FileTask] = {}
        try:
            if self.client is None:
                self._probe(client)
            threads = sum(client.nthreads().values()) or 1
            window = max(threads * self.window_per_thread, 4)
            it = iter(tasks)

            def submit_next() -> Any | None:
                task = next(it, None)
                if task is None:
                    return None
                fut = client.submit(_run_task, task, options, pure=False)
                pending[fut] = task
                return fut

            first = [f for f in (submit_next() for _ in range(window)) if f is not None]
            queue = as_completed(first, loop=client.loop)
            for fut in queue:
                task = pending.pop(fut)
                try:
                    yield fut.result()
                except Exception as exc:  # KilledWorker and friends: this file killed workers
                    yield crash_result(task, f"{type(exc).__name__}: {exc}".splitlines()[0])
                nxt = submit_next()
                if nxt is not None:
                    queue.add(nxt)
        finally:
            for fut in pending:
                fut.cancel()
            client.close()

    def _probe(self, client: Any) -> None:
        try:
            probe = client.submit(worker_code_fingerprint, pure=False)
            remote = probe.result(timeout=self.connect_timeout_s * 3)
        except Exception as exc:
            raise InputError(
                f"Dask workers at {self.address} cannot run greenopt "
                f"({type(exc).__name__}: {exc}); install greenopt in the workers' environment"
            ) from None
        if remote != code_fingerprint():
            raise InputError(
                f"Dask workers at {self.address} run a different greenopt version or code; "
                "install the same greenopt on the workers"
            )
