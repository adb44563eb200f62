"""`greenopt check PATH...`: report energy-saving opportunities, for pre-commit and CI.

Never executes the code it reads. Prints `path:line:col: GOxxx message` per
finding (`--format json|sarif` for tools), `--diff` shows each fix, `--explain`
adds the rationale and the loops left alone (GO190) and why. Exit code: 0 nothing
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
) -> FileReport:
    """Check one file; every expected failure becomes `FileReport.error`."""
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
        from greenopt.optimizer.findings import find_opportunities, finding_record
        from greenopt.optimizer.predictions import predict_many
        from greenopt.optimizer.source import SourceModule

        module = SourceModule.parse(code, path)
        opportunities = find_opportunities(
            module,
            None,
            config,
            include_notes=include_notes,
            select=select,
            ignore=ignore,
            instances=instances,
            warnings=report.warnings,
        )
        # one batch per file: the model parses and indexes the module once (reusing ours)
        predictions: list[dict[str, Any]] | list[None] = (
            predict_many(model, code, opportunities, module.ast_module())
            if model is not None
            else [None] * len(opportunities)
        )
        for opp, prediction in zip(opportunities, predictions, strict=True):
            fix_text = None
            if with_fixes and opp.fixable and not opp.data.get("note"):
                instance = instances[opp.pass_name]
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
                        if opp.static_safe:
                            report.fixed_text[len(report.records)] = (code, new)
            report.records.append(
                finding_record(opp, path=path, fix=fix_text, prediction=prediction)
            )
    except GreenoptError as exc:
        report.error = str(exc)
    except RecursionError:
        report.error = f"{path}: too deeply nested to analyse"
    except Exception as exc:  # a bug in a pass must not stop the other files
        report.error = f"{path}: internal error while checking: {type(exc).__name__}: {exc}"
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
    "--explain", is_flag=True, help="Show rationales and the loops left alone (GO190), with why."
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
    "--output", "-o", "output", metavar="FILE", help="Write the report to FILE instead of stdout."
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
    from greenopt.optimizer.walk import FoundFile, discover

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
    for item in discover(paths, patterns, roots):
        if not isinstance(item, FoundFile):
            message = f"{item.path}: no such file or directory"
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
    if output:
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

    if fmt == "json":
        payload = {
            "version": 1,
            "findings": records,
            "errors": [rep.error for rep in reports if rep.error],
            "warnings": [w for rep in reports for w in rep.warnings],
            "summary": {
                "files": len(reports),
                "findings": len(findings),
                "fixable": sum(1 for r in findings if r["fixable"] and r["static_safe"]),
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
                if not rec["static_safe"]:
                    lines.append("    (fix not proven statically: validate it with a workload)")
                lines.append(rec["fix"].rstrip("\n"))
    fixable = sum(1 for r in findings if r["fixable"] and r["static_safe"])
    if findings:
        # the count is of the finding lines printed above; folded variants are told apart
        also = f" (plus {folded} variant(s) listed with them)" if folded else ""
        lines.append(
            f"Found {len(findings) - folded} finding(s){also}"
            f" in {len({r['path'] for r in findings})} file(s)"
            f" ({fixable} with a statically proven fix: `greenopt rewrite --static FILE`)."
        )
    return "\n".join(lines) + ("\n" if lines else "")
