"""``greenopt model``: inspect and evaluate the energy cost model.

::

    greenopt model eval [--data TABLE.json] [--json PATH] [--splits K]
    greenopt model info [--model PATH] [--json PATH]

`eval` cross-validates on the training table (default: the shipped one) with
GroupKFold by kernel family and prints the model's figures next to the
baselines' (no change, roofline) and the shipped mix's; `--json` writes them
(`-` for stdout). `info` says which model is loaded, what it was trained on and
which predictor answers for which pass combination.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from greenopt.cli import CommandGroup
from greenopt.commands.options import check_output_path
from greenopt.errors import InputError

#: metrics shown in the eval table, with how to format them
_ROWS = (
    ("spearman", "Spearman ρ", "{:.3f}"),
    ("pairwise_accuracy", "pairwise accuracy", "{:.1%}"),
    ("best_in_top2", "best in top-2", "{:.1%}"),
    ("top1_regret_mean", "top-1 regret (mean)", "{:.1%}"),
    ("top1_regret_p90", "top-1 regret (p90)", "{:.1%}"),
    ("top1_regret_median", "top-1 regret (median)", "{:.1%}"),
    ("top1_regret_trimmed_mean", "top-1 regret (5% trimmed mean)", "{:.1%}"),
    ("top1_regret_resolved_mean", "regret beyond CI (mean)", "{:.1%}"),
    ("top1_regret_abs_mean", "regret, % of original (mean)", "{:.2%}"),
    ("harm_rate", "harm rate", "{:.1%}"),
    ("mape_ratio", "MAPE of ratio", "{:.1%}"),
)


def _fmt(value: Any, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def print_report(report: Mapping[str, Any]) -> None:
    """Print the eval figures as a table: model, shipped mix, baselines."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=110)  # files and pipes: room for all columns
    base = report.get("baselines", {})
    blind = report.get("unsized") or {}
    columns = [
        ("model", report),
        ("shipped", report.get("shipped", {})),
        ("roofline", base.get("roofline", {})),
        ("no change", base.get("no_change", {})),
    ]
    if blind:
        columns += [
            ("model†", blind),
            ("roofline†", blind.get("baselines", {}).get("roofline", {})),
        ]
    table = Table(
        title=(
            f"cost model, {report.get('cv')} by family ({report.get('cv_splits')} folds), "
            "workload sizes known unless stated: "
            f"{report.get('n_samples')} samples, {report.get('n_kernels')} kernels, "
            f"{report.get('n_families')} families"
        )
    )
    table.add_column("metric")
    for name, _ in columns:
        table.add_column(name, justify="right")
    for key, label, pattern in _ROWS:
        table.add_row(label, *(_fmt(col.get(key), pattern) for _, col in columns))
    console.print(table)
    if blind:
        console.print("† workload sizes unknown (as in check and rewrite without sizes)")
    intervals = report.get("intervals90")
    if intervals:
        spans = ", ".join(
            f"{label} {_fmt(intervals[key][0], pattern)}–{_fmt(intervals[key][1], pattern)}"
            for key, label, pattern in _ROWS
            if key in intervals
        )
        console.print(f"model, 90% intervals (kernels resampled): {spans}")
    reference = report.get("reference_other_sizes")
    if reference:
        figures = ", ".join(
            f"{label} {_fmt(reference.get(key), pattern)}"
            for key, label, pattern in _ROWS
            if key in ("pairwise_accuracy", "best_in_top2", "top1_regret_mean")
        )
        console.print(
            "noise reference (each candidate predicted by its own measurements at the "
            f"kernel's other sizes; not a model): {figures}"
        )
    meters = ", ".join(report.get("meters", []))
    if meters:
        console.print(f"energies: {meters}")
    policy = report.get("policy")
    if policy:
        chosen = ", ".join(f"{k}: {v}" for k, v in sorted(policy.get("by_passes", {}).items()))
        console.print(
            f"shipped policy: default {policy.get('default')}" + (f"; {chosen}" if chosen else "")
        )


def _write_json(data: Mapping[str, Any], path: str) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None


@click.group(cls=CommandGroup, help="Inspect and evaluate the energy cost model.")
def model() -> None:
    """The `greenopt model` command group."""


@model.command("eval", help="Cross-validate the cost model (GroupKFold by kernel family).")
@click.option(
    "--data",
    "data_path",
    type=click.Path(),
    default=None,
    help="Training table JSON (default: the shipped one).",
)
@click.option("--json", "json_path", default=None, help="Write the figures as JSON ('-' = stdout).")
@click.option(
    "--splits",
    type=int,
    default=None,
    help="Number of folds, 2 to the number of families (default: one per family).",
)
def eval_command(data_path: str | None, json_path: str | None, splits: int | None) -> int:
    """Entry point of `greenopt model eval`."""
    from greenopt.commands.train import DATA_DIR
    from greenopt.models.table import read_table
    from greenopt.models.training import choose_policy, cross_validate, evaluate

    if splits is not None and splits < 2:
        raise InputError("--splits must be >= 2")
    check_output_path("--json", json_path)  # before the cross-validation, not after
    table = read_table(data_path or DATA_DIR / "training_table.json")
    families = {r.family for r in table.usable_rows()}
    if splits is not None and len(families) >= 2 and splits > len(families):
        raise InputError(
            f"--splits {splits}: the table has only {len(families)} families "
            "(GroupKFold by family needs at most one fold per family)"
        )
    cv = cross_validate(table, splits)
    report = evaluate(cv, choose_policy(cv))
    if json_path != "-":
        print_report(report)
    if json_path:
        _write_json(report, json_path)
    return 0


@model.command("info", help="Show the loaded cost model and what it was trained on.")
@click.option(
    "--model",
    "model_path",
    type=click.Path(),
    default=None,
    help="Model JSON (default: the shipped one).",
)
@click.option("--json", "json_path", default=None, help="Write the info as JSON ('-' = stdout).")
def info_command(model_path: str | None, json_path: str | None) -> int:
    """Entry point of `greenopt model info`."""
    from greenopt.models.predict import load_model

    check_output_path("--json", json_path)
    cost_model = load_model(model_path)
    info = cost_model.info()
    if info["available"]:
        info["this_machine"] = _this_machine(info["training"].get("machine") or {})
    if json_path:
        _write_json(info, json_path)
        if json_path == "-":
            return 0
    if not info["available"]:
        click.echo("no cost model shipped: predictions use the roofline baseline (source=baseline)")
        return 0
    training = info["training"]
    click.echo(f"model: {info['path']}")
    click.echo(
        f"trained on {training.get('n_samples')} samples, {training.get('n_kernels')} kernels, "
        f"{training.get('n_families')} families; meters {', '.join(training.get('meters', []))} "
        f"({'measured' if training.get('measured') else 'estimated'}), created {training.get('created')}"
    )
    click.echo(_machine_line(training.get("machine") or {}, info["this_machine"]))
    trees = ", ".join(f"{name} {count}" for name, count in info["n_trees"].items())
    bag = training.get("point_model") or {}
    if bag.get("bagged"):
        trees += (
            f" (point: the average of {bag['bagged']} models fitted on bootstrap resamples "
            f"of the {bag.get('resampled', 'rows')})"
        )
    click.echo(f"trees: {trees}")
    print_report(info["cv"])
    return 0


def _this_machine(trained: Mapping[str, Any]) -> dict[str, Any]:
    """This machine's fingerprint and whether the model's table was measured on it."""
    from greenopt.measure.machine import machine_fingerprint

    here = machine_fingerprint().to_dict()
    return {**here, "same_as_training": here["machine_id"] == trained.get("machine_id")}


def _machine_line(trained: Mapping[str, Any], here: Mapping[str, Any]) -> str:
    """Where the training table was measured, and whether that is this machine: which
    Numba flags win depends on the CPU, so a model from elsewhere ranks them less well."""
    if not trained.get("machine_id"):
        return "measured on: unknown machine (the table records none)"
    cpus = trained.get("logical_cpus")
    where = f"{trained.get('cpu_model') or 'unknown CPU'}" + (
        f", {cpus} logical CPUs" if cpus else ""
    )
    line = f"measured on: {where} (machine id {trained['machine_id']}); "
    if here.get("same_as_training"):
        return line + "this machine"
    return line + (
        f"not this machine ({here.get('cpu_model') or 'unknown CPU'}, machine id "
        f"{here.get('machine_id')}): which Numba flags win differs between CPUs; "
        "`greenopt train --out DIR` measures the corpus here"
    )
