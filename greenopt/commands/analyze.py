"""`greenopt analyze PATH... --out DIR`: static batch analysis of a code corpus.

Never executes the analysed code. Validates every flag before writing anything,
then discovers files, runs the per-file analysis on a local process pool (or a
Dask cluster with `--scheduler`), commits results per file into
`DIR/greenopt-analysis.sqlite`, exports the chosen table format and writes
`DIR/report.html`. A progress bar goes to stderr when it is a terminal.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from greenopt.batch.exports import FORMATS
from greenopt.batch.records import FileResult
from greenopt.errors import InputError

_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")
#: bad files named on stderr one per line; the rest are counted (all are in the tables)
MAX_ERRORS_SHOWN = 20


class RichProgress:
    """A rich progress bar on stderr (rich hides it when stderr is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("analysing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[errors]} errors, {task.fields[reused]} reused"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not (enabled and self.console.is_terminal),
        )
        self.task = self.progress.add_task("analyse", total=0, errors=0, reused=0)
        self.errors = 0
        self.reused = 0

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, total: int) -> None:
        """Set the number of files."""
        self.progress.update(self.task, total=total)

    def advance(self, result: FileResult, reused: bool) -> None:
        """Count one more finished file; name a bad one on stderr (the first few)."""
        self.errors += int(result.is_error)
        self.reused += int(reused)
        if result.is_error and self.errors <= MAX_ERRORS_SHOWN:
            from rich.text import Text

            reason = " ".join(result.message.split()) or result.status
            self.console.print(
                Text(f"greenopt: error: {result.path}: {reason}"), soft_wrap=True, highlight=False
            )
        self.progress.update(self.task, advance=1, errors=self.errors, reused=self.reused)

    def more_errors(self, where: Path) -> str | None:
        """The line that counts the bad files not named on stderr, or None."""
        hidden = self.errors - MAX_ERRORS_SHOWN
        if hidden <= 0:
            return None
        return (
            f"greenopt: ... and {hidden} more file(s) with errors "
            f"(all are in the files table of {where})"
        )


def _available_passes(spec: str | None) -> tuple[tuple[str, ...], list[str]]:
    """Requested passes that are installed; notes for the ones skipped."""
    from greenopt.passes.registry import parse_pass_list, pass_class

    names = parse_pass_list(spec)
    available: list[str] = []
    notes: list[str] = []
    for name in names:
        try:
            pass_class(name)
        except ImportError as exc:
            if spec is not None:
                raise InputError(f"pass {name!r} is not available: {exc}") from None
            notes.append(f"pass {name!r} is not available in this installation and was skipped")
            continue
        available.append(name)
    return tuple(available), notes


def _connected_executor(scheduler: str | None) -> Any:
    """The Dask executor for `--scheduler`, connected and probed now (InputError when the
    scheduler or its workers cannot be used), or None for the local process pool.

    Connecting before `--out` is created means a run that cannot start leaves no new
    results file behind (the connection attempt alone takes up to 10 s)."""
    if not scheduler:
        return None
    from greenopt.batch.dask_executor import DaskExecutor

    return DaskExecutor(scheduler).connected()


def _close(executor: Any) -> None:
    """Close a connected executor that will not be run."""
    close = getattr(executor, "close", None)
    if callable(close):
        close()


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Output directory.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="sqlite",
    show_default=True,
    help="Tables to write besides the SQLite results file.",
)
@click.option("--jobs", type=int, default=None, help="Local worker processes [default: CPUs].")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://HOST:8786.")
@click.option("--exclude", multiple=True, help="Gitignore-style pattern to skip (repeatable).")
@click.option("--no-gitignore", is_flag=True, help="Do not honour .gitignore files.")
@click.option(
    "--max-file-bytes",
    type=int,
    default=1_000_000,
    show_default=True,
    help="Larger files are recorded as too-large.",
)
@click.option(
    "--file-timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds of analysis per file before it is recorded as a timeout.",
)
@click.option("--passes", default=None, help="Comma-separated pass names [default: all].")
@click.option("--no-resume", is_flag=True, help="Re-analyse files already in the results.")
@click.option(
    "--no-screening",
    is_flag=True,
    help="Give whole modules to the passes instead of the screened functions (slower).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--model",
    "model_file",
    metavar="PATH",
    help="Cost model to predict with (default: config's cost-model, else the shipped one).",
)
def analyze(
    paths: tuple[str, ...],
    out_dir: str,
    fmt: str,
    jobs: int | None,
    scheduler: str | None,
    exclude: tuple[str, ...],
    no_gitignore: bool,
    max_file_bytes: int,
    file_timeout: float,
    passes: str | None,
    no_resume: bool,
    no_screening: bool,
    no_progress: bool,
    model_file: str | None,
) -> int:
    """Batch static analysis of a code corpus: per-function features, opportunities and
    predicted savings, in tables and an HTML report. Never runs the analysed code."""
    from greenopt.batch.discovery import discover
    from greenopt.batch.file_analysis import AnalysisOptions
    from greenopt.batch.runner import BatchOptions, check_out_dir, make_out_dir, run_batch
    from greenopt.config import load_config
    from greenopt.optimizer.predictions import chosen_model_path, load_chosen_model

    if jobs is not None and jobs < 1:
        raise InputError("--jobs must be at least 1")
    if jobs is not None and scheduler:
        raise InputError("use either --jobs (local) or --scheduler (Dask), not both")
    if scheduler and not scheduler.startswith(_SCHEMES):
        raise InputError(f"--scheduler must be an address like tcp://HOST:PORT, not {scheduler!r}")
    if max_file_bytes < 1:
        raise InputError("--max-file-bytes must be positive")
    if not file_timeout > 0:
        raise InputError("--file-timeout must be positive")
    out = Path(out_dir)
    check_out_dir(out)
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("--format parquet needs pyarrow (pip install pyarrow)") from None
    pass_names, notes = _available_passes(passes)
    config = load_config(paths[0])
    model_path = chosen_model_path(model_file, config)
    if model_path is not None:  # fail now, not as "no prediction" in every worker
        load_chosen_model(model_path)
        model_path = str(Path(model_path).resolve())
    discovery = discover(
        paths,
        excludes=exclude,
        use_gitignore=not no_gitignore,
        config_excludes=config.exclude,
        config_root=config.root,
    )
    options = BatchOptions(
        out_dir=out,
        analysis=AnalysisOptions(
            passes=pass_names,
            config=config,
            file_timeout_s=file_timeout,
            screen=not no_screening,
            model_path=model_path,
        ),
        jobs=jobs or os.cpu_count() or 1,
        scheduler=scheduler,
        max_file_bytes=max_file_bytes,
        resume=not no_resume,
        fmt=fmt,
    )
    executor = _connected_executor(scheduler)  # an unreachable scheduler creates nothing
    try:
        make_out_dir(out)  # after every check above, so bad input creates nothing
    except BaseException:
        _close(executor)
        raise
    for note in notes:
        click.echo(f"greenopt: note: {note}", err=True)
    try:
        with RichProgress(enabled=not no_progress) as progress:
            summary = run_batch(
                discovery, options, listener=progress, executor=executor, notes=tuple(notes)
            )
        more = progress.more_errors(summary.db_path)
        if more:
            click.echo(more, err=True)
    except KeyboardInterrupt:
        click.echo(
            f"greenopt: analysed files are saved in {out}; run the same command to resume",
            err=True,
        )
        raise
    rate = summary.n_files / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    where = f"Dask cluster {scheduler}" if scheduler else f"{options.jobs} local process(es)"
    click.echo(
        f"analysed {summary.n_files} files ({summary.n_analyzed} analysed, "
        f"{summary.n_reused} reused) on {where}: {summary.n_functions} functions, "
        f"{summary.n_opportunities} opportunities, {summary.n_errors} files with errors, "
        f"{summary.n_empty} empty, in {summary.elapsed_s:.1f} s ({rate:.1f} files/s)"
    )
    if discovery.n_excluded or discovery.n_gitignored:
        click.echo(
            f"skipped {discovery.n_excluded} excluded and {discovery.n_gitignored} gitignored paths"
        )
    click.echo(f"results: {summary.db_path}")
    for path in summary.exports:
        click.echo(f"table:   {path}")
    if summary.report_path is not None:
        click.echo(f"report:  {summary.report_path}")
    return 0
