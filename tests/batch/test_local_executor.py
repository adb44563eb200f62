"""The local process pool: same results as in-process, and a worker crash costs one file."""

from __future__ import annotations

import os

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source, sha256_hex
from greenopt.batch.local import LocalExecutor
from greenopt.batch.records import FileResult, FileTask

OPTIONS = AnalysisOptions(passes=("vectorize",))


def _task(name: str, text: str) -> FileTask:
    data = text.encode()
    return FileTask(path=name, data=data, sha256=sha256_hex(data))


def crash_on_poison(task: FileTask, options: AnalysisOptions) -> FileResult:
    """Per-file work that kills its worker process for one file (as a native crash would)."""
    if task.path == "poison.py":
        os._exit(3)
    return analyze_source(task.path, task.data, options)


TASKS = [
    _task(f"f{i}.py", f"def f(a, n):\n    for i in range(n):\n        a[i] = {i}\n")
    for i in range(6)
]


def test_pool_results_equal_in_process_results() -> None:
    serial = sorted(LocalExecutor(1).run(iter(TASKS), OPTIONS), key=lambda r: r.path)
    pooled = sorted(LocalExecutor(2).run(iter(TASKS), OPTIONS), key=lambda r: r.path)
    assert pooled == serial and len(pooled) == 6


def test_a_worker_crash_is_isolated_to_its_file() -> None:
    tasks = [*TASKS[:3], _task("poison.py", "x = 1\n"), *TASKS[3:]]
    results = {r.path: r for r in LocalExecutor(2, work=crash_on_poison).run(iter(tasks), OPTIONS)}
    assert set(results) == {t.path for t in tasks}
    assert results["poison.py"].status == "worker-crash"
    assert all(r.status == "ok" for p, r in results.items() if p != "poison.py")


def report_gc_thresholds(task: FileTask, options: AnalysisOptions) -> FileResult:
    """Per-file work that reports the worker's garbage-collector thresholds as its message."""
    import dataclasses
    import gc

    result = analyze_source(task.path, task.data, options)
    return dataclasses.replace(result, message=repr(gc.get_threshold()))


def test_pool_workers_tune_their_garbage_collector() -> None:
    from greenopt.batch.local import WORKER_GC_THRESHOLDS

    results = list(LocalExecutor(2, work=report_gc_thresholds).run(iter(TASKS[:2]), OPTIONS))
    assert {r.message for r in results} == {repr(WORKER_GC_THRESHOLDS)}
