"""Local execution of the per-file analysis: in-process (`--jobs 1`) or a process pool.

Files are submitted through a bounded window (a few per worker) so a corpus of
any size needs memory for only the files in flight. A worker that dies (a crash
in native code, the OOM killer) breaks the pool: the files in flight are then
re-run one by one in fresh single-worker pools, and the one that kills its
worker again is recorded as a `worker-crash`; the batch goes on. Workers are
started with the `forkserver` method, which is safe with the progress bar's
thread in the parent and preloads the analysis modules once; each worker then tunes
its garbage collector for analysis (`WORKER_GC_THRESHOLDS`).
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source
from greenopt.batch.records import FileResult, FileTask, crash_result

#: garbage-collector thresholds of pool workers: generation 0 is collected every 50,000
#: allocations instead of 700. Analysis allocates millions of short-lived, mostly acyclic
#: libcst nodes, which reference counting frees; the default thresholds make the collector
#: rescan them ~20% of the run. Cycles (a few thousand objects per file) are still
#: collected, in larger batches.
WORKER_GC_THRESHOLDS = (50_000, 20, 100)


def _prepare_worker() -> None:
    """Initialise a pool worker, a process that only analyses files: the modules preloaded
    by the forkserver are moved out of the collector's sight (`gc.freeze`) and the
    collection thresholds raised (`WORKER_GC_THRESHOLDS`)."""
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


def _run_task(task: FileTask, options: AnalysisOptions) -> FileResult:
    return analyze_source(task.path, task.data, options)


@dataclass(frozen=True)
class LocalExecutor:
    """Runs `analyze_source` on this machine with `jobs` processes (1: in this process).

    `work` is the per-file function (a module-level function, so workers can import
    it); tests substitute one that kills its worker to exercise crash isolation.
    """

    jobs: int
    work: Callable[[FileTask, AnalysisOptions], FileResult] = field(default=_run_task)

    def run(self, tasks: Iterable[FileTask], options: AnalysisOptions) -> Iterator[FileResult]:
        """Yield one result per task, in completion order."""
        if self.jobs <= 1:
            for task in tasks:
                yield self.work(task, options)
            return
        yield from self._pool(iter(tasks), options)

    def _new_pool(self, workers: int) -> cf.ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["greenopt.batch.file_analysis"])
        return cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_prepare_worker
        )

    def _pool(self, tasks: Iterator[FileTask], options: AnalysisOptions) -> Iterator[FileResult]:
        window = self.jobs * 4
        pool = self._new_pool(self.jobs)
        in_flight: dict[cf.Future[FileResult], FileTask] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(in_flight) < window:
                    task = next(tasks, None)
                    if task is None:
                        exhausted = True
                        break
                    in_flight[pool.submit(self.work, task, options)] = task
                if not in_flight:
                    return
                done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                broken: list[FileTask] = []
                for fut in done:
                    task = in_flight.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken.append(task)
                if broken:
                    suspects = broken + list(in_flight.values())
                    in_flight.clear()
                    _terminate(pool)
                    yield from self._isolate(suspects, options)
                    pool = self._new_pool(self.jobs)
        finally:
            _terminate(pool)

    def _isolate(self, suspects: list[FileTask], options: AnalysisOptions) -> Iterator[FileResult]:
        """Re-run each file of a broken pool alone, to find the one that kills its worker."""
        for task in suspects:
            pool = self._new_pool(1)
            try:
                yield pool.submit(self.work, task, options).result()
            except BrokenProcessPool:
                yield crash_result(task, "the process exited abnormally")
            finally:
                _terminate(pool)


def _terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued work and end its worker processes."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
