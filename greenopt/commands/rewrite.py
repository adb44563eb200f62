"""`greenopt rewrite FILE`: validated (or, with --static, statically proven) rewrites.

A thin layer over `greenopt.optimize` (validated mode) and
`greenopt.optimizer.static.rewrite_static` (`--static`): it parses flags, merges
them with `[tool.greenopt]`, shows progress and the report table on stderr, prints
the unified diff on stdout, and writes files only at the very end, atomically.

Exit codes: 0 success (whether or not anything changed); 1 with `--fail-on-refused`
when some exercised function had candidates and none was accepted; 2 bad input or a
workload that fails on the original; 3 meter unavailable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from greenopt.commands.options import (
    MIN_MEMORY_MB,
    check_at_least,
    check_memory_mb,
    check_min_sample_s,
    check_output_path,
    check_samples,
    check_timeout,
    is_stdout,
    refuse_overwriting_inputs,
    selector_list,
)
from greenopt.errors import GreenoptError, InputError


def _write_json(path: str, data: dict[str, Any]) -> None:
    """Write a JSON report (atomically: temp file + rename); `-` prints it on stdout."""
    if is_stdout(path):
        click.echo(json.dumps(data, indent=2, allow_nan=True))
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.greenopt-tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise InputError(f"{path}: cannot write JSON report: {exc.strerror or exc}") from None


def _emit(
    file: str,
    original: str,
    new_code: str,
    write: bool,
    output: str | None,
    quiet: bool,
    json_path: str | None = None,
) -> None:
    """Print the diff (default), or write `-o OUT` / the file itself atomically.

    `-o -` prints the new code on stdout, as `-` means stdout for every report path.
    With `--json -` stdout holds the JSON report alone, so no diff is printed."""
    from greenopt.optimizer.source import atomic_write, unified_diff

    if is_stdout(output):
        click.echo(new_code, nl=False)
        return
    if output is not None:
        try:
            atomic_write(output, new_code)
        except OSError as exc:
            raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
        if not quiet:
            click.echo(f"greenopt: wrote {output}", err=True)
        return
    if write:
        if new_code != original:
            from greenopt.optimizer.source import read_source

            if read_source(file) != original:
                raise InputError(
                    f"{file}: changed on disk while greenopt ran; not overwritten "
                    "(run again, or use -o OUT)"
                )
            try:
                atomic_write(file, new_code)
            except OSError as exc:
                raise InputError(f"{file}: cannot write: {exc.strerror or exc}") from None
            if not quiet:
                click.echo(f"greenopt: rewrote {file}", err=True)
        elif not quiet:
            click.echo(f"greenopt: {file} unchanged", err=True)
        return
    if is_stdout(json_path):
        return
    diff = unified_diff(original, new_code, file)
    if diff:
        click.echo(diff, nl=False)


def _check_target(flag: str, path: str) -> None:
    """Fail before any work when an output path cannot be written (missing directory)."""
    check_output_path(flag, path)


def _check_rewritable(file: str) -> None:
    """`--write`: fail before any work on FILE when it could not be replaced.

    The write is a temp file + rename, which only needs the directory to be writable, so a
    read-only (mode 444) file would be silently replaced: its mode is the owner's refusal.
    """
    if os.path.lexists(file) and not os.access(file, os.W_OK):
        raise InputError(f"{file}: file is not writable; not rewritten")
    check_output_path("--write", file)


def _check_measure_flags(
    *,
    meter: str | None,
    samples: int | None,
    region: str | None,
    carbon_intensity: float | None,
    rtol: float | None,
    atol: float | None,
    top_k: int,
    near_tie: float,
    timeout_s: float,
    memory_mb: int,
    min_sample_s: float | None,
) -> None:
    """Raise InputError for a bad measurement or tolerance option, before any work and
    in both modes: `--static` uses none of them, but a value that the validated rewrite
    refuses must not be silently accepted there (a typo would go unnoticed)."""
    import math

    from greenopt.measure.carbon import intensity_for
    from greenopt.measure.meter import validate_meter_name

    if meter is not None:
        validate_meter_name(meter)
    if samples is not None:
        check_samples("--samples", samples)
    check_at_least("--top-k", top_k, 1)
    if not (math.isfinite(near_tie) and near_tie >= 1.0):
        raise InputError("--near-tie must be a finite factor of at least 1 (1: off)")
    for flag, value in (("--rtol", rtol), ("--atol", atol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InputError(f"{flag} must be a finite, non-negative number (got {value:g})")
    if carbon_intensity is not None and not (
        math.isfinite(carbon_intensity) and carbon_intensity >= 0
    ):
        raise InputError(
            f"--carbon-intensity must be a non-negative number of g/kWh (got {carbon_intensity:g})"
        )
    if region is not None:
        intensity_for(region)  # an unknown region code is an InputError naming the fix
    check_timeout("--timeout", timeout_s)
    check_memory_mb("--memory-mb", memory_mb)
    check_min_sample_s("--min-sample-s", min_sample_s)


class _RichProgress:
    """Progress on stderr: a spinner with the current stage and a bar of samples."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=None)

    def __enter__(self) -> _RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def status(self, message: str) -> None:
        """Show a new stage; the bar is indeterminate until samples are reported."""
        self.progress.update(self.task, description=message, total=None, completed=0)

    def samples(self, label: str, done: int, total: int) -> None:
        """Advance the bar of measurement samples."""
        self.progress.update(
            self.task, description=f"measuring {label}", total=total, completed=done
        )


def _selectors(select: tuple[str, ...], ignore: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """`--select`/`--ignore` values (repeatable, comma-separated), validated like `check`'s."""
    from greenopt.optimizer.findings import validate_selectors

    return (
        validate_selectors(selector_list("--select", select)),
        validate_selectors(selector_list("--ignore", ignore)),
    )


def _with_selectors(config: Any, selectors: tuple[list[str], list[str]]) -> Any:
    """`config` with the command line's select/ignore added to its own."""
    import dataclasses

    select, ignore = selectors
    if not select and not ignore:
        return config
    return dataclasses.replace(
        config,
        select=tuple(config.select) + tuple(select),
        ignore=tuple(config.ignore) + tuple(ignore),
    )


#: functions named per pass in the grouped "need a workload" line before "… +N more"
GROUP_NAMES_SHOWN = 4


def skipped_lines(skipped: list[tuple[Any, str]], file: str, verbose: bool = False) -> list[str]:
    """The `rewrite --static` lines for the skipped opportunities.

    Findings of passes that need a workload (jit, dtype-reduction) are one grouped line
    (count, pass and functions, the command that validates them) unless `verbose`; the
    others (not proven statically, report only) keep one line each, with their reason.
    """
    from greenopt.optimizer.static import skip_reason

    lines: list[str] = []
    grouped: dict[str, list[str]] = {}  # pass -> functions, first seen first
    count = 0
    for opp, reason in skipped:
        s = opp.site
        if not verbose and reason == skip_reason(opp, True):
            count += 1
            names = grouped.setdefault(opp.pass_name, [])
            name = s.function or f"line {s.line}"
            if name not in names:
                names.append(name)
            continue
        lines.append(f"  skipped {opp.code} {s.function or ''} line {s.line}: {reason}")
    if count:
        parts = []
        for pass_name, names in grouped.items():
            shown = ", ".join(names[:GROUP_NAMES_SHOWN])
            more = len(names) - GROUP_NAMES_SHOWN
            parts.append(f"{pass_name}: {shown}" + (f" … +{more} more" if more > 0 else ""))
        lines.insert(
            0,
            f"  skipped {count} finding(s) that need a workload ({'; '.join(parts)}): "
            f"run `greenopt rewrite {file} --workload W` (-v lists them)",
        )
    return lines


def _run_static_files(
    files: tuple[str, ...],
    passes: str | None,
    write: bool,
    output: str | None,
    json_path: str | None,
    quiet: bool,
    selectors: tuple[list[str], list[str]] = ([], []),
    model_file: str | None = None,
    verbose: bool = False,
) -> int:
    """`--static` over several files: a bad file is one line on stderr, the others go on.

    Returns 2 when any file failed, else 0. With several files the JSON report is
    `{"mode": "static", "files": [<one report per file>], "errors": [...]}`. A
    `--model` that cannot load stops the run before any file is touched.
    """
    from greenopt.optimizer.predictions import load_chosen_model

    model = load_chosen_model(model_file) if model_file else None
    if len(files) == 1:
        return _run_static(
            files[0], passes, write, output, json_path, quiet, None, selectors, model, verbose
        )
    if output is not None:
        raise InputError("-o/--output takes one FILE; use --write to rewrite several files")
    reports: list[dict[str, Any]] = []
    errors: list[str] = []
    for file in files:
        try:
            # with `reports` the file's JSON is collected; `--json -` still keeps diffs off
            # stdout, where the combined report comes last
            _run_static(
                file, passes, write, None, json_path, quiet, reports, selectors, model, verbose
            )
        except GreenoptError as exc:
            click.echo(f"greenopt: error: {exc}", err=True)
            errors.append(str(exc))
    if json_path:
        _write_json(json_path, {"mode": "static", "files": reports, "errors": errors})
    return 2 if errors else 0


def _run_static(
    file: str,
    passes: str | None,
    write: bool,
    output: str | None,
    json_path: str | None,
    quiet: bool,
    reports: list[dict[str, Any]] | None = None,
    selectors: tuple[list[str], list[str]] = ([], []),
    chosen_model: Any | None = None,
    verbose: bool = False,
) -> int:
    """`--static`: apply only statically proven rewrites; nothing is run or measured.

    `reports` (several files) collects the JSON report of this file instead of writing it
    (`json_path` then only says whether stdout is kept for the combined report).
    `chosen_model` is the `--model` one; without it the file's config or the shipped one.
    `verbose` lists every skipped finding on its own line (else the ones that need a
    workload are one grouped line); the JSON report always lists every one.
    """
    from rich.console import Console
    from rich.text import Text

    from greenopt.config import load_config
    from greenopt.optimizer.predictions import (
        chosen_model_path,
        load_chosen_model,
        predict,
        saving_text,
    )
    from greenopt.optimizer.report import static_json
    from greenopt.optimizer.source import SourceModule
    from greenopt.optimizer.static import rewrite_static
    from greenopt.passes.registry import parse_pass_list

    if write:
        _check_rewritable(file)
    module = SourceModule.read(file)
    config = _with_selectors(load_config(Path(file)), selectors)
    names = parse_pass_list(passes) if passes is not None else None
    result = rewrite_static(module, names, config)
    wants_json = json_path is not None or reports is not None
    model = chosen_model
    if model is None and (wants_json or (not quiet and result.applied)):
        model = load_chosen_model(chosen_model_path(None, config))
    if json_path and reports is None:
        _write_json(json_path, static_json(result, model))
    if reports is not None:
        reports.append(static_json(result, model))
    if not quiet:
        console = Console(stderr=True)
        if not console.is_terminal:
            console.width = max(console.width, 132)
            console.soft_wrap = True  # logs and CI: one finding per line, never folded
        console.print(
            Text.assemble(
                (f"greenopt rewrite --static {file}: ", ""),
                (getattr(result, "label", "not measured"), "bold"),
                f" — {len(result.applied)} rewrite(s) proven legal statically, "
                f"{len(result.skipped)} skipped (need a workload or not provably safe)",
            )
        )
        for opp in result.applied:
            s = opp.site
            predicted = saving_text(predict(model, result.original, opp))
            console.print(
                Text(
                    f"  applied {opp.code} {s.function or ''} line {s.line}: {opp.message}"
                    + (f" ({predicted})" if predicted else "")
                )
            )
        for line in skipped_lines(result.skipped, file, verbose):
            console.print(Text(line, style="dim"))
    _emit(file, result.original, result.new_code, write, output, quiet, json_path)
    return 0


@click.command(
    "rewrite",
    context_settings={"help_option_names": ["-h", "--help"]},
    help=(
        "Find, validate and apply energy-saving rewrites of FILE (several FILEs with --static).\n\n"
        "Each exercised function's candidates are checked for identical outputs and "
        "measured against the original; only significant, validated savings are kept. "
        "Prints a unified diff (or writes with --write / -o). With --static, applies only "
        "statically proven rewrites, without running anything (not measured)."
    ),
    epilog=(
        "Examples: greenopt rewrite kernels.py --workload kernels_workload.py;  "
        "greenopt rewrite kernels.py --setup 'import numpy as np; x = np.random.rand(10**6)' "
        "--call 'saxpy(2.0, x, x)' --write;  greenopt rewrite kernels.py --static. "
        "Exit codes: 0 success (changed or not); 1 with --fail-on-refused when every "
        "candidate of a function was refused; 2 bad input or a workload failing on the "
        "original; 3 meter unavailable."
    ),
)
@click.argument("files", metavar="FILE...", nargs=-1, required=True, type=str)
@click.option("--setup", "setup", metavar="CODE", help="Setup code run before the calls.")
@click.option(
    "--call", "calls", metavar="EXPR", multiple=True, help="Call expression (repeatable)."
)
@click.option(
    "--workload",
    "workload_files",
    metavar="FILE.py",
    multiple=True,
    help="Workload file whose workload_*() functions set up and call (repeatable).",
)
@click.option(
    "--static", "static", is_flag=True, help="No workload: statically proven rewrites only."
)
@click.option("--passes", metavar="LIST", help="Comma-separated passes to try (default: all).")
@click.option(
    "--select",
    multiple=True,
    metavar="LIST",
    help="Only these passes or codes (comma-separated; added to the config's).",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="LIST",
    help="Never these passes or codes, e.g. GO402 (comma-separated; added to the config's).",
)
@click.option(
    "--meter", metavar="NAME", help="Energy meter (auto, rapl, pyrapl, perf, nvml, estimate)."
)
@click.option("--samples", type=int, help="Samples per variant (default 10 or config).")
@click.option(
    "--region", metavar="CODE", help="Carbon-intensity region (ISO 3166-1 alpha-3, e.g. FRA)."
)
@click.option("--carbon-intensity", type=float, metavar="G_PER_KWH", help="Override gCO2e/kWh.")
@click.option("--rtol", type=float, help="Relative tolerance of the equivalence check (1e-9).")
@click.option("--atol", type=float, help="Absolute tolerance of the equivalence check (0).")
@click.option(
    "--top-k", type=int, default=2, show_default=True, help="Candidates measured per function."
)
@click.option("--measure-all", is_flag=True, help="Measure every candidate, not only the top-k.")
@click.option(
    "--near-tie",
    type=float,
    default=1.2,  # greenopt.optimizer.pipeline.NEAR_TIE (not imported: keeps start-up light)
    show_default=True,
    metavar="FACTOR",
    help="Also measure the next candidate when predicted within FACTOR x of the best (1: off).",
)
@click.option(
    "--model",
    "model_file",
    metavar="PATH",
    help="Cost model to rank and predict with (default: config's cost-model, else shipped).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds per child process.",
)
@click.option(
    "--memory-mb",
    type=int,
    default=4096,
    show_default=True,
    help=f"Address-space limit per child process in MB (0 = none; at least {MIN_MEMORY_MB}: "
    "a child needs about that much to start Python and import numpy).",
)
@click.option("--min-sample-s", type=float, help="Minimum seconds per sample (default: meter's).")
@click.option("--write", "write", is_flag=True, help="Replace FILE atomically with the result.")
@click.option(
    "-o", "--output", metavar="OUT", help="Write the result to OUT instead ('-': stdout)."
)
@click.option(
    "--json",
    "json_path",
    metavar="PATH",
    help="Write the JSON report to PATH ('-': stdout, instead of the diff).",
)
@click.option(
    "--fail-on-refused", is_flag=True, help="Exit 1 when a function's candidates were all refused."
)
@click.option(
    "--store",
    "store_path",
    metavar="PATH",
    help="SQLite measurement store (default: user data dir).",
)
@click.option("--no-store", is_flag=True, help="Do not record the measurements.")
@click.option("-q", "--quiet", is_flag=True, help="No table or progress on stderr.")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="--static: list every skipped finding (default: the ones needing a workload grouped).",
)
def rewrite(
    files: tuple[str, ...],
    setup: str | None,
    calls: tuple[str, ...],
    workload_files: tuple[str, ...],
    static: bool,
    passes: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    meter: str | None,
    samples: int | None,
    region: str | None,
    carbon_intensity: float | None,
    rtol: float | None,
    atol: float | None,
    top_k: int,
    measure_all: bool,
    near_tie: float,
    model_file: str | None,
    timeout_s: float,
    memory_mb: int,
    min_sample_s: float | None,
    write: bool,
    output: str | None,
    json_path: str | None,
    fail_on_refused: bool,
    store_path: str | None,
    no_store: bool,
    quiet: bool,
    verbose: bool = False,
) -> int:
    """Click entry point of `greenopt rewrite` (see the module docstring)."""
    if write and output is not None:
        raise InputError("--write and -o/--output are mutually exclusive")
    if is_stdout(output) and is_stdout(json_path):
        raise InputError("-o - and --json - would both print on stdout; send one to a file")
    selectors = _selectors(select, ignore)
    for flag, target in (("-o", output), ("--json", json_path)):
        if target is not None:
            _check_target(flag, target)
    # a report over the module or a workload would destroy it (-o FILE on FILE itself
    # is a deliberate in-place write, done atomically like --write)
    refuse_overwriting_inputs([("--json", json_path)], [*files, *workload_files])
    refuse_overwriting_inputs([("-o", output)], list(workload_files))
    refuse_overwriting_inputs([("-o", output), ("--json", json_path)], [])
    _check_measure_flags(
        meter=meter,
        samples=samples,
        region=region,
        carbon_intensity=carbon_intensity,
        rtol=rtol,
        atol=atol,
        top_k=top_k,
        near_tie=near_tie,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        min_sample_s=min_sample_s,
    )
    if static:
        if calls or setup or workload_files:
            raise InputError(
                "--static runs nothing: do not combine it with --call/--setup/--workload"
            )
        return _run_static_files(
            files, passes, write, output, json_path, quiet, selectors, model_file, verbose
        )
    if len(files) != 1:
        raise InputError("a validated rewrite takes one FILE (several files only with --static)")
    (file,) = files
    from rich.console import Console

    from greenopt.config import load_config
    from greenopt.optimizer.pipeline import REJECTED, optimize
    from greenopt.optimizer.report import render_table, result_json
    from greenopt.optimizer.source import read_source
    from greenopt.optimizer.workloads import collect_workloads

    # a missing, unreadable or empty file is reported before anything else
    if not read_source(file).strip():
        raise InputError(f"{file}: empty file, nothing to rewrite")
    if write:
        _check_rewritable(file)
    module_path = Path(file)
    config = _with_selectors(load_config(module_path), selectors)
    workloads = collect_workloads(
        module_path,
        setup=setup,
        calls=calls,
        workload_files=[Path(f) for f in workload_files],
        config=config,
    )
    if store_path is not None:
        if no_store:
            raise InputError("--store and --no-store are mutually exclusive")
        from greenopt.store import check_store_option

        check_store_option(store_path)
    console = Console(stderr=True)
    if not console.is_terminal:
        console.width = max(console.width, 132)  # logs and CI: do not fold the table
        console.soft_wrap = True  # nor the lines under it (a reason stays on its line)
    kwargs: dict[str, Any] = dict(
        passes=passes,
        rtol=rtol,
        atol=atol,
        meter=meter,
        samples=samples,
        region=region,
        carbon_intensity=carbon_intensity,
        top_k=top_k,
        measure_all=measure_all,
        near_tie=near_tie,
        timeout_s=timeout_s,
        memory_mb=memory_mb or None,
        min_sample_s=min_sample_s,
        config=config,
        store=False if no_store else (store_path or True),
    )
    if model_file:  # the config's cost-model is loaded by optimize() itself
        from greenopt.optimizer.predictions import load_chosen_model

        kwargs["cost_model"] = load_chosen_model(model_file)
    if quiet or not sys.stderr.isatty():
        result = optimize(module_path, workloads, **kwargs)
    else:
        with _RichProgress(console) as progress:
            result = optimize(module_path, workloads, progress=progress, **kwargs)
    if json_path:
        _write_json(json_path, result_json(result))
    if not quiet:
        render_table(result, console)
    _emit(file, result.original_code, result.new_code, write, output, quiet, json_path)
    if fail_on_refused and any(fr.verdict == REJECTED for fr in result.functions):
        return 1
    return 0
