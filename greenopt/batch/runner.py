"""The batch driver behind `greenopt analyze`: discovery -> cache check -> executor -> store -> outputs.

The parent process reads each file once (size limit first, then bytes and
sha256), reuses a cached analysis when the content and the analysis fingerprint
match, and sends the rest to the executor (local pool or Dask). Every result is
committed as it arrives, so an interrupted run (Ctrl-C, a killed process) keeps
all finished files and the next run resumes from them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from greenopt.batch.discovery import DiscoveredFile, Discovery
from greenopt.batch.exports import export
from greenopt.batch.file_analysis import AnalysisOptions, sha256_hex
from greenopt.batch.fingerprint import analysis_fingerprint
from greenopt.batch.records import FileResult, FileTask
from greenopt.batch.results import DB_NAME, ResultStore
from greenopt.errors import InputError

REPORT_NAME = "report.html"


class Executor(Protocol):
    """Runs the per-file analysis over tasks, yielding results in completion order."""

    def run(self, tasks: Iterator[FileTask], options: AnalysisOptions) -> Iterator[FileResult]:
        """Yield one FileResult per task."""
        ...


class ProgressListener(Protocol):
    """Receives progress events (the CLI draws a progress bar with them)."""

    def start(self, total: int) -> None:
        """The run will produce `total` file results."""
        ...

    def advance(self, result: FileResult, reused: bool) -> None:
        """One more file is done (`reused`: taken from the cache)."""
        ...


@dataclass(frozen=True)
class BatchOptions:
    """Options of one batch run (the CLI flags of `greenopt analyze`)."""

    out_dir: Path
    analysis: AnalysisOptions
    jobs: int = 1
    scheduler: str | None = None
    max_file_bytes: int = 1_000_000
    resume: bool = True
    fmt: str = "sqlite"
    report: bool = True


@dataclass(frozen=True)
class BatchSummary:
    """What a run did, for the CLI's closing lines and for tests."""

    run_id: int
    n_files: int
    n_analyzed: int
    n_reused: int
    n_errors: int
    n_empty: int
    n_functions: int
    n_opportunities: int
    elapsed_s: float
    db_path: Path
    exports: tuple[Path, ...]
    report_path: Path | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def make_executor(options: BatchOptions) -> Executor:
    """The executor chosen by the options: Dask when a scheduler is given, else local."""
    if options.scheduler:
        from greenopt.batch.dask_executor import DaskExecutor

        return DaskExecutor(options.scheduler)
    from greenopt.batch.local import LocalExecutor

    return LocalExecutor(options.jobs)


def _parent_side_error(path: str, status: str, message: str, size: int = 0) -> FileResult:
    return FileResult(path=path, sha256=None, size=size, status=status, message=message)


def check_out_dir(out: Path) -> None:
    """Refuse an output directory that cannot exist (a file, or below one); creates nothing.

    Run before any work so a bad `--out` fails at once, not after the analysis.
    """
    try:
        if out.exists():
            if not out.is_dir():
                raise InputError(f"{out}: --out must be a directory")
            return
        parent = out.absolute().parent
        while not parent.exists():
            parent = parent.parent
    except OSError as exc:
        raise InputError(f"{out}: cannot use as output directory: {exc.strerror or exc}") from None
    if not parent.is_dir():
        raise InputError(f"{out}: cannot create output directory: {parent} is not a directory")


def make_out_dir(out: Path) -> None:
    """Create the output directory (and its parents); failures are InputErrors."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create output directory: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"{out}: output directory is not writable")


def run_batch(
    discovery: Discovery,
    options: BatchOptions,
    listener: ProgressListener | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    executor: Executor | None = None,
    notes: tuple[str, ...] = (),
) -> BatchSummary:
    """Analyse the discovered files into `options.out_dir` and write tables and report."""
    started = time.perf_counter()
    out_dir = options.out_dir
    make_out_dir(out_dir)
    fingerprint = analysis_fingerprint(options.analysis)
    directory_of = {f.path: f.directory for f in discovery.files}
    counts = {"analyzed": 0, "reused": 0}
    executor = executor or make_executor(options)

    with ResultStore(out_dir / DB_NAME) as store:
        run_id = store.start_run(
            fingerprint,
            {
                "passes": list(options.analysis.passes),
                "jobs": options.jobs,
                "scheduler": options.scheduler,
                "max_file_bytes": options.max_file_bytes,
                "file_timeout_s": options.analysis.file_timeout_s,
                "resume": options.resume,
                "screen": options.analysis.screen,
            },
            len(discovery.files) + len(discovery.errors),
        )
        if listener is not None:
            listener.start(len(discovery.files) + len(discovery.errors))

        def done(result: FileResult, directory: str, reused: bool) -> None:
            if not reused:
                store.record(result, directory, fingerprint, run_id)
                counts["analyzed"] += 1
            if listener is not None:
                listener.advance(result, reused)
            if on_result is not None:
                on_result(result)

        for err in discovery.errors:
            result = _parent_side_error(err.path, err.status, err.message)
            done(result, str(Path(err.path).parent), reused=False)

        def tasks() -> Iterator[FileTask]:
            for f in largest_first(discovery.files):
                task_or_result = _read_task(f.path, options.max_file_bytes)
                if isinstance(task_or_result, FileResult):
                    done(task_or_result, f.directory, reused=False)
                    continue
                task = task_or_result
                if options.resume and store.has_analysis(task.sha256, fingerprint):
                    status, message = store.reuse(
                        task.path, f.directory, task.sha256, fingerprint, run_id
                    )
                    counts["reused"] += 1
                    cached = FileResult(
                        path=task.path,
                        sha256=task.sha256,
                        size=len(task.data),
                        status=status,
                        message=message,
                    )
                    done(cached, f.directory, reused=True)
                    continue
                yield task

        for result in executor.run(tasks(), options.analysis):
            done(result, directory_of.get(result.path, str(Path(result.path).parent)), False)

        elapsed = time.perf_counter() - started
        store.finish_run(run_id, counts["analyzed"], counts["reused"], elapsed)
        exports = tuple(export(store, out_dir, options.fmt))
        report_path: Path | None = None
        if options.report:
            from greenopt.batch.html_report import write_report

            report_path = out_dir / REPORT_NAME
            write_report(store, report_path, notes=notes)
        files = store.file_rows(run_id)
        n_errors = sum(1 for r in files if r["status"] not in ("ok", "empty"))
        n_empty = sum(1 for r in files if r["status"] == "empty")
        return BatchSummary(
            run_id=run_id,
            n_files=len(files),
            n_analyzed=counts["analyzed"],
            n_reused=counts["reused"],
            n_errors=n_errors,
            n_empty=n_empty,
            n_functions=sum(r["n_functions"] for r in files),
            n_opportunities=sum(r["n_opportunities"] for r in files),
            elapsed_s=elapsed,
            db_path=out_dir / DB_NAME,
            exports=exports,
            report_path=report_path,
            notes=notes,
        )


def largest_first(files: Sequence[DiscoveredFile]) -> list[DiscoveredFile]:
    """`files` by decreasing size (ties and unreadable files in discovery order).

    Analysis time grows with file size; starting the largest files first keeps every
    worker busy to the end instead of leaving one finishing a big file alone.
    """

    def size(f: DiscoveredFile) -> int:
        try:
            return os.stat(f.path).st_size
        except OSError:
            return 0

    return sorted(files, key=size, reverse=True)


def _read_task(path: str, max_file_bytes: int) -> FileTask | FileResult:
    """Read one file for analysis, or the per-file error that prevents it."""
    try:
        size = os.stat(path).st_size
        if size > max_file_bytes:
            return _parent_side_error(
                path,
                "too-large",
                f"file too large ({size} bytes > limit {max_file_bytes}; see --max-file-bytes)",
                size,
            )
        with open(path, "rb") as fh:
            data = fh.read(max_file_bytes + 1)
    except OSError as exc:
        return _parent_side_error(path, "unreadable", exc.strerror or str(exc))
    if len(data) > max_file_bytes:  # grew since stat
        return _parent_side_error(
            path, "too-large", f"file too large (> limit {max_file_bytes})", len(data)
        )
    return FileTask(path=path, data=data, sha256=sha256_hex(data))
