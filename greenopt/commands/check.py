"""`greenopt check PATH...`: report energy-saving opportunities, for pre-commit and CI.

Never executes the code it reads. Prints `path:line:col: GOxxx message` per
finding (`--format json|sarif` for tools), `--diff` shows each fix, `--explain`
adds the rationale and what is left alone (GO190 loops, GO390 functions with
too little float64 work to narrow, GO490 not jitted) and why. Exit code: 0 nothing
found, 1 findings, 2 any error (each bad file gets one line on stderr; the other
files are still checked and printed).

Speed matters (it runs on every commit): nothing heavy is imported (no numpy,
numba, scikit-learn), each file is screened with stdlib `ast`, and libcst with
metadata is only built for files that contain loops or import numpy.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenopt.commands.options import selector_list
from greenopt.errors import GreenoptError, InputError

if TYPE_CHECKING:
    from greenopt.config import Config
    from greenopt.passes.base import Pass


@dataclass
class FileReport:
    """Findings (records) of one file, or its error."""

    path: str
    records: list[dict[str, Any]] = field(default_factory=list)
    fixed_text: dict[int, tuple[str, str]] = field(default_factory=dict)  # record idx -> fix
    error: str | None = None
    warnings: list[str] = field(default_factory=list)  # bad `# greenopt: ignore[...]`
    #: (line, column) of loops outside any function: no pass analyses them
    module_loops: list[tuple[int, int]] = field(default_factory=list)


#: what `check --explain` (and the JSON `notes`) says of a loop outside any function
MODULE_LOOP_NOTE = (
    "module-level loop not analysed: greenopt analyses loops inside functions only "
    "(move the loop into a function to get findings)"
)

#: the line `check --diff` prints under a finding that has no diff to show, by fix_status
NO_FIX_LINE = {
    "workload": "    no static fix: needs a workload (greenopt rewrite --workload)",
    "static": "    no static fix: the fix changes nothing here",
    "none": "    no automatic fix: report only",
}

#: seconds a file may take before `check` shows what it is doing (on a terminal)
PROGRESS_DELAY_S = 1.0


def _stderr_is_terminal() -> bool:
    """True when stderr is a terminal (asked before rich is imported)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def _progress_console() -> Any:
    """The console progress is drawn on: stderr (rich knows whether it is a terminal)."""
    from rich.console import Console

    return Console(stderr=True)


class CheckProgress:
    """A transient status line on stderr for a file that takes a while to check:
    `checking big.py (48,000 lines): vectorize 2/4`, shown once the file has taken
    `PROGRESS_DELAY_S` and erased when it is done. Built only when stderr is a terminal
    (`for_terminal`), so pre-commit and CI output never change; never writes to stdout.
    """

    def __init__(self, console: Any) -> None:
        import threading

        self.console = console
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._progress: Any | None = None
        self._task: Any | None = None
        self._what = ""
        self._step = ""

    @classmethod
    def for_terminal(cls) -> CheckProgress | None:
        """A progress display when stderr is a terminal, else None (without importing
        rich: `check`'s cold start matters in pre-commit)."""
        if not _stderr_is_terminal():
            return None
        console = _progress_console()
        return cls(console) if console.is_terminal else None

    def _text(self) -> str:
        return f"{self._what}: {self._step}" if self._step else self._what

    def file_started(self, path: str, lines: int) -> None:
        """A new file: its line is drawn if it is still being checked after the delay."""
        import threading

        self.file_done()
        with self._lock:
            self._what = f"checking {path} ({lines:,} lines)"
            self._step = ""
            self._timer = threading.Timer(PROGRESS_DELAY_S, self._show)
            self._timer.daemon = True
            self._timer.start()

    def _show(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._timer is None or self._progress is not None:
                return  # the file was done first
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._progress.add_task(self._text(), total=None)
            self._progress.start()

    def step(self, name: str, done: int, total: int) -> None:
        """The hook of `find_opportunities` (and of the fixes): `name done/total`."""
        with self._lock:
            self._step = f"{name} {done}/{total}" if total > 1 else name
            if self._progress is not None:
                self._progress.update(self._task, description=self._text())

    def file_done(self) -> None:
        """Erase the line (if it was shown) and cancel the pending one."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._progress is not None:
                self._progress.stop()
                self._progress = None


def check_file(
    path: str,
    explicit: bool,
    *,
    config: Config,
    select: list[str],
    ignore: list[str],
    include_notes: bool,
    with_fixes: bool,
    instances: dict[str, Pass],
    model: Any | None = None,
    progress: CheckProgress | None = None,
) -> FileReport:
    """Check one file; every expected failure becomes `FileReport.error`.

    `progress` (a terminal only) is told the passes, the predictions and the fixes."""
    from greenopt.optimizer.screen import screen_source
    from greenopt.optimizer.source import read_source

    report = FileReport(path=path)
    try:
        code = read_source(path)
        if not code.strip():
            if explicit:
                raise InputError(f"{path}: empty file, nothing to check")
            return report
        screen = screen_source(code, path)
        if not screen.candidate:
            return report
        from greenopt.optimizer.findings import (
            FIX_NONE,
            FIX_STATIC,
            find_opportunities,
            finding_record,
            fix_status,
            is_note,
            module_level_loops,
        )
        from greenopt.optimizer.predictions import predict_many
        from greenopt.optimizer.source import SourceModule

        step = progress.step if progress is not None else None
        if progress is not None:
            progress.file_started(path, code.count("\n") + (not code.endswith("\n")))
            progress.step("parsing", 1, 1)
        module = SourceModule.parse(code, path)
        if screen.has_loops:
            report.module_loops = module_level_loops(module.ast_module())
        opportunities = find_opportunities(
            module,
            None,
            config,
            include_notes=include_notes,
            select=select,
            ignore=ignore,
            instances=instances,
            warnings=report.warnings,
            progress=step,
        )
        if step is not None:
            step("predictions", 1, 1)
        # one batch per file: the model parses and indexes the module once (reusing ours);
        # notes (GO190, GO490 "not jitted") propose nothing, so they get no predicted saving
        predictions: list[dict[str, Any] | None] = [None] * len(opportunities)
        wanted = [i for i, o in enumerate(opportunities) if not is_note(o)]
        if model is not None and wanted:
            answers = predict_many(
                model, code, [opportunities[i] for i in wanted], module.ast_module()
            )
            for i, answer in zip(wanted, answers, strict=True):
                predictions[i] = answer
        fixes = (
            sum(1 for o in opportunities if o.fixable and not o.data.get("note"))
            if with_fixes
            else 0
        )
        applied = 0
        for opp, prediction in zip(opportunities, predictions, strict=True):
            fix_text = None
            status = fix_status(opp, instances[opp.pass_name].needs_workload)
            if with_fixes and opp.fixable and not opp.data.get("note"):
                instance = instances[opp.pass_name]
                applied += 1
                if step is not None:
                    step("fixes", applied, fixes)
                if not instance.needs_workload:
                    try:
                        new = instance.apply(module, [opp]).code
                    except GreenoptError:
                        new = code  # a fix that cannot be applied is simply not shown
                    if code.startswith("\ufeff") and not new.startswith("\ufeff"):
                        new = "\ufeff" + new  # libcst drops the byte-order mark
                    if new != code:
                        from greenopt.optimizer.source import unified_diff

                        fix_text = unified_diff(code, new, path)
                        if status == FIX_STATIC:
                            report.fixed_text[len(report.records)] = (code, new)
                if status == FIX_STATIC and fix_text is None:
                    status = FIX_NONE  # the fix cannot be applied or changes nothing
            report.records.append(
                finding_record(opp, path=path, fix=fix_text, prediction=prediction, status=status)
            )
    except GreenoptError as exc:
        report.error = str(exc)
    except RecursionError:
        report.error = f"{path}: too deeply nested to analyse"
    except Exception as exc:  # a bug in a pass must not stop the other files
        report.error = f"{path}: internal error while checking: {type(exc).__name__}: {exc}"
    finally:
        if progress is not None:
            progress.file_done()
    return report


@click.command(
    "check",
    context_settings={"help_option_names": ["-h", "--help"]},
    help=(
        "Report energy-saving opportunities in PATH... (files or directories); never runs code.\n\n"
        "Exit status: 0 nothing found, 1 findings, 2 errors (bad files are reported on "
        "stderr, the others are still checked)."
    ),
)
@click.argument("paths", nargs=-1, required=True)
@click.option("--diff", "show_diff", is_flag=True, help="Show the fix of each fixable finding.")
@click.option(
    "--explain",
    is_flag=True,
    help=(
        "Show rationales and what is left alone, with why: loops (GO190), functions with "
        "too little float64 work for float32 (GO390), functions not jitted (GO490)."
    ),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--select", multiple=True, metavar="LIST", help="Only these passes or codes (comma-separated)."
)
@click.option(
    "--ignore", multiple=True, metavar="LIST", help="Skip these passes or codes (comma-separated)."
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB.")
@click.option(
    "--output",
    "-o",
    "output",
    metavar="FILE",
    help="Write the report to FILE instead of stdout ('-': stdout).",
)
@click.option(
    "--no-predict",
    is_flag=True,
    help="Do not load the cost model (no predicted_saving per finding).",
)
@click.option(
    "--model",
    "model_file",
    metavar="PATH",
    help="Cost model to predict with (default: config's cost-model, else the shipped one).",
)
def check(
    paths: tuple[str, ...],
    show_diff: bool,
    explain: bool,
    fmt: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    output: str | None,
    no_predict: bool,
    model_file: str | None,
) -> int:
    """Check PATHS and return the exit status (0 clean, 1 findings, 2 errors)."""
    from greenopt.commands.options import refuse_overwriting_inputs

    refuse_overwriting_inputs([("-o", output)], list(paths))
    from greenopt.config import load_config
    from greenopt.optimizer.findings import validate_selectors
    from greenopt.optimizer.predictions import chosen_model_path, load_chosen_model
    from greenopt.optimizer.walk import FoundFile, UnreadablePath, discover

    config = load_config(Path(paths[0]))
    select_list = validate_selectors(selector_list("--select", select))
    ignore_list = validate_selectors(selector_list("--ignore", ignore))
    roots = [Path.cwd()] + ([config.root] if config.root is not None else [])
    patterns = [*config.exclude, *exclude]
    instances: dict[str, Pass] = {}
    reports: list[FileReport] = []
    errors = 0
    model: Any | None = None
    model_loaded = no_predict
    model_path = chosen_model_path(model_file, config)
    if model_path is not None and not no_predict:  # a chosen model fails early and loudly
        model, model_loaded = load_chosen_model(model_path), True
    progress = CheckProgress.for_terminal()  # None unless stderr is a terminal
    for item in discover(paths, patterns, roots):
        if not isinstance(item, FoundFile):
            why = item.reason if isinstance(item, UnreadablePath) else "no such file or directory"
            message = f"{item.path}: {why}"
            click.echo(f"greenopt: error: {message}", err=True)
            errors += 1
            # reported in the JSON/SARIF error list too, like every other bad file
            reports.append(FileReport(path=str(item.path), error=message))
            continue
        if not model_loaded:  # loaded once, lazily: a run over clean files never pays for it
            model, model_loaded = load_chosen_model(None), True
        report = check_file(
            item.path,
            item.explicit,
            config=config,
            select=select_list,
            ignore=ignore_list,
            include_notes=explain,
            with_fixes=show_diff or fmt != "text",
            instances=instances,
            model=model,
            progress=progress,
        )
        for warning in report.warnings:  # never change the exit status
            click.echo(f"greenopt: warning: {warning}", err=True)
        if report.error:
            click.echo(f"greenopt: error: {report.error}", err=True)
            errors += 1
        reports.append(report)

    records = [r for rep in reports for r in rep.records]
    findings = [r for r in records if not r["note"]]
    out = _render(fmt, reports, records, findings, instances, show_diff, explain, errors)
    if output and output != "-":  # `-o -` is stdout, as for every report path
        try:
            Path(output).write_text(out, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{output}: cannot write report: {exc.strerror or exc}") from None
    elif out:
        sys.stdout.write(out)
    if errors:
        return 2
    return 1 if findings else 0


def _render(
    fmt: str,
    reports: list[FileReport],
    records: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    instances: dict[str, Pass],
    show_diff: bool,
    explain: bool,
    errors: int,
) -> str:
    """The report in the requested format."""
    from greenopt.optimizer.findings import format_text

    fixable = sum(1 for r in findings if r["fixable"])
    if fmt == "json":
        payload = {
            "version": 1,
            "findings": records,
            "errors": [rep.error for rep in reports if rep.error],
            "warnings": [w for rep in reports for w in rep.warnings],
            "notes": [
                {
                    "path": rep.path,
                    "line": line,
                    "column": column,
                    "kind": "module-level-loop",
                    "message": MODULE_LOOP_NOTE,
                }
                for rep in reports
                for line, column in rep.module_loops
            ],
            "summary": {
                "files": len(reports),
                "findings": len(findings),
                "fixable": fixable,
                "errors": errors,
            },
        }
        return json.dumps(payload, indent=2) + "\n"
    if fmt == "sarif":
        from greenopt.optimizer.sarif import build_sarif

        rules: dict[str, str] = {}
        for inst in instances.values():
            rules.update(inst.codes)
        fixed: dict[int, tuple[str, str]] = {}
        offset = 0
        for rep in reports:
            for k, pair in rep.fixed_text.items():
                fixed[offset + k] = pair
            offset += len(rep.records)
        failed = [(rep.path, rep.error) for rep in reports if rep.error]
        warned = [(rep.path, w) for rep in reports for w in rep.warnings]
        log = build_sarif(records, rules, fixed, failed, warned)
        for result, rec in zip(log["runs"][0]["results"], records, strict=True):
            result["properties"]["fixStatus"] = rec["fix_status"]
        return json.dumps(log, indent=2) + "\n"
    lines: list[str] = []
    folded = 0  # variants shown on their suggestion's line, not on their own
    for rep in reports:
        previous: dict[str, Any] | None = None
        base = ""
        variants: list[str] = []
        for rec in rep.records:
            if (
                previous is not None
                and not show_diff
                and not explain
                and rec["pass"] == previous["pass"]
                and (rec["line"], rec["column"]) == (previous["line"], previous["column"])
            ):
                # variants of one suggestion (e.g. jit plain/parallel/fastmath): one line
                variants.append(rec["code"])
                folded += 1
                lines[-1] = f"{base} (variants: {', '.join(variants)})"
                continue
            previous = rec
            base = format_text(rec, explain=explain)
            variants = []
            lines.append(base)
            if show_diff and rec.get("fix"):
                if not rec["fixable"]:
                    lines.append("    (fix not proven statically: validate it with a workload)")
                lines.append(rec["fix"].rstrip("\n"))
            elif show_diff and not rec["note"]:
                lines.append(NO_FIX_LINE.get(rec["fix_status"], NO_FIX_LINE["none"]))
        if explain:
            lines.extend(
                f"{rep.path}:{line}:{column}: note: {MODULE_LOOP_NOTE}"
                for line, column in rep.module_loops
            )
    loops = sum(len(rep.module_loops) for rep in reports)
    loops_text = (
        f"{loops} module-level loop(s) not analysed: only functions are"
        + ("" if explain else " (--explain lists them)")
        + "."
        if loops
        else ""
    )
    if findings:
        # the count is of the finding lines printed above; folded variants are told apart
        also = f" (plus {folded} variant(s) listed with them)" if folded else ""
        lines.append(
            f"Found {len(findings) - folded} finding(s){also}"
            f" in {len({r['path'] for r in findings})} file(s)"
            f" ({fixable} with a statically proven fix: `greenopt rewrite --static FILE`)."
            + (f" {loops_text}" if loops_text else "")
        )
    elif loops_text:
        lines.append(f"No findings. {loops_text}")
    return "\n".join(lines) + ("\n" if lines else "")
