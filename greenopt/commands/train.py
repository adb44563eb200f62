"""``greenopt train``: measure the corpus and fit the energy cost model.

::

    greenopt train [--corpus DIR] [--store PATH] [--samples N] [--families ai,fluid]
                   [--limit N] [--sizes medium] [--passes vectorize,jit] [--meter NAME] [--out DIR]
                   [--max-other-cpus X] [--retries N] [--remeasure-contended]
                   [--fit-only | --measure-only | --from-table TABLE.json]

Generates every candidate of every corpus kernel with the registered passes,
checks each once for equivalence, measures each (candidate, size) against the
original with interleaved samples, all candidates of a kernel at one size in one
session against one original (measuring again, up to `--retries` times, a
comparison during which other processes kept more than `--max-other-cpus` CPUs
busy on average; see `greenopt.measure.contention`), records every row in the measurement store
(so an interrupted run resumes), then exports the training table
(`training_table.json` + `.csv`) and the model (`cost_model.json`) to `--out`
(default: the package's shipped data directory) and prints the cross-validated
figures. Every flag is checked before the store is opened, and the three outputs are
written only after a successful fit (all of them or none), so bad input changes
nothing. `--from-table` measures nothing: it recomputes the features of an exported
table's rows from the function sources they carry (so an improved feature extractor
never needs the corpus measured again) and refits. A malformed corpus kernel file is
one error line and the others are trained on. Exit codes: 0 done, 2 bad input (unknown
family, empty corpus, no measured rows; also after training without a malformed
kernel file), 3 meter unavailable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenopt.commands.options import (
    check_output_dir,
    check_samples,
    check_timeout,
    selector_list,
)
from greenopt.errors import InputError
from greenopt.measure.contention import DEFAULT_MAX_OTHER_CPUS

if TYPE_CHECKING:
    from greenopt.measure.meter import MeterInfo
    from greenopt.models.collect import CandidateTask, CollectOptions, Plan
    from greenopt.models.corpus import CorpusKernel
    from greenopt.models.table import TrainingTable
    from greenopt.store import Store

#: the package's shipped data directory (default of --out)
DATA_DIR = Path(__file__).resolve().parents[1] / "models" / "data"


def _parse_shard(spec: str | None) -> tuple[int, int]:
    """`"1/3"` -> (1, 3): this process measures the candidates with index % 3 == 1."""
    if spec is None:
        return 0, 1
    try:
        index, count = (int(p) for p in spec.split("/"))
    except ValueError:
        raise InputError(f"--shard must look like I/N (got {spec!r})") from None
    if not (count >= 1 and 0 <= index < count):
        raise InputError(f"--shard {spec}: need 0 <= I < N")
    return index, count


def shard_warning(shards: int, cpus: int) -> str | None:
    """Why `shards` concurrent training processes on `cpus` CPUs would skew the table (or None).

    Each shard's comparisons run beside the others': a `parallel=True` variant wants
    every core, and the contention probe sees the other shards as foreign load, so
    comparisons are re-measured and still recorded as disturbed.
    """
    if shards <= 1 or shards * 2 <= cpus:
        return None
    return (
        f"{shards} shards on {cpus} CPUs: each shard's measurements compete with the "
        "others' (parallel=True variants most) and will be re-measured or recorded as "
        f"contended; use at most {max(1, cpus // 2)} shard(s) on this machine"
    )


def _current_candidates(
    kernels: list[CorpusKernel], passes_spec: list[str] | None
) -> set[tuple[str, str]]:
    """(kernel key, candidate hash) of every candidate the passes generate today."""
    from greenopt.models.collect import load_passes, plan

    passes, _ = load_passes(passes_spec)
    return {(t.kernel.key, t.candidate_hash) for t in plan(kernels, passes).tasks}


@dataclass
class _Prepared:
    """What a measuring run needs before the store is opened: the plan and the meter."""

    plan: Plan
    notes: list[str]
    meter: MeterInfo


def _prepare(
    kernels: list[CorpusKernel], meter: str, passes_spec: list[str] | None, quiet: bool
) -> _Prepared:
    """Load the passes, plan the candidates and check the meter: everything that can
    fail on bad input, done before the measurement store is created or modified."""
    from rich.console import Console

    from greenopt.measure.runner import resolve_meter
    from greenopt.models.collect import load_passes, plan
    from greenopt.models.corpus import round_robin

    console = Console(stderr=True, quiet=quiet)
    passes, notes = load_passes(passes_spec)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    if not passes:
        raise InputError("no pass is available to generate candidates")
    the_plan = plan(round_robin(kernels), passes)
    info = resolve_meter(meter, announce=lambda msg: console.print(msg))
    return _Prepared(the_plan, notes, info)


def _measure(
    kernels: list[CorpusKernel],
    prepared: _Prepared,
    store: Store,
    options: CollectOptions,
    quiet: bool,
    shard: tuple[int, int],
) -> tuple[list[str], set[tuple[str, str]]]:
    """Measure (this shard's candidates of) the prepared plan; returns notes for the
    table and the (kernel key, candidate hash) of every candidate planned."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from greenopt.measure.machine import machine_fingerprint
    from greenopt.models.collect import Collector

    console = Console(stderr=True, quiet=quiet)
    the_plan, notes, info = prepared.plan, prepared.notes, prepared.meter
    machine_id = machine_fingerprint().machine_id
    collector = Collector(store, options, info.name, info.measured, machine_id)
    retried = contended = 0
    warning = shard_warning(shard[1], os.cpu_count() or 1)
    if warning:
        console.print(f"[yellow]warning:[/] {warning}")
    try:
        index, count = shard
        mine = [t for i, t in enumerate(the_plan.tasks) if i % count == index]
        pending = [t for t in mine if collector.pending(t)]
        total = sum(len(collector.pending(t)) for t in pending)
        console.print(
            f"{len(kernels)} kernels, {len(the_plan.tasks)} candidates, "
            f"{the_plan.measurements()} comparisons ({total} still to measure) "
            f"with meter {info.name} ({'measured' if info.measured else 'estimated'})"
        )
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            bar = progress.add_task("measuring", total=total)
            by_kernel: dict[str, list[CandidateTask]] = {}
            for task in pending:  # plan order: families in turn
                by_kernel.setdefault(task.kernel.key, []).append(task)
            for tasks in by_kernel.values():
                todo = sum(len(collector.pending(t)) for t in tasks)
                rows = collector.run_kernel(
                    tasks[0].kernel,
                    tasks,
                    on_measure=lambda label: progress.update(bar, description=label[:60]),
                )
                retried += sum(1 for r in rows if r.attempts > 1)
                contended += sum(
                    1
                    for r in rows
                    if r.other_cpus is not None and r.other_cpus > options.max_other_cpus
                )
                progress.advance(bar, max(todo, len(rows)))
    finally:
        collector.close()
    if retried or contended:
        console.print(
            f"{retried} comparisons were measured again because other processes were busy; "
            f"{contended} stayed above {options.max_other_cpus:g} other CPUs and are recorded "
            "with that load (training-row column other_cpus)"
        )
    return notes + the_plan.notes, {(t.kernel.key, t.candidate_hash) for t in the_plan.tasks}


@click.command(help="Measure the corpus and fit the energy cost model.")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(),
    default=None,
    help="Corpus directory (default: the bundled corpus/).",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(),
    default=None,
    help="Measurement store (SQLite) to record and resume from.",
)
@click.option(
    "--samples",
    type=int,
    default=5,
    show_default=True,
    help="Interleaved samples per variant and comparison (at least 2).",
)
@click.option(
    "--min-sample-s",
    type=float,
    default=0.05,
    show_default=True,
    help="Minimum seconds per sample (calls are repeated to fill it).",
)
@click.option("--meter", default="auto", show_default=True, help="Energy meter.")
@click.option("--families", multiple=True, help="Only these families (comma-separated).")
@click.option("--limit", type=int, default=None, help="At most N kernels per family.")
@click.option(
    "--sizes",
    multiple=True,
    metavar="LIST",
    help="Only these workload sizes (comma-separated: small, medium, large).",
)
@click.option("--passes", "passes_spec", default=None, help="Passes to generate candidates with.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds per child process (positive, below a week).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(),
    default=None,
    help="Where to write training_table.{json,csv} and cost_model.json.",
)
@click.option("--fit-only", is_flag=True, help="Do not measure; fit from the store's rows.")
@click.option("--measure-only", is_flag=True, help="Measure and record; do not export or fit.")
@click.option(
    "--from-table",
    "from_table",
    type=click.Path(),
    default=None,
    help="Do not measure; re-featurize an exported training table's rows and refit.",
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Measure only candidates I, I+N, ... (run N processes on one store).",
)
@click.option(
    "--max-other-cpus",
    type=float,
    default=DEFAULT_MAX_OTHER_CPUS,
    show_default=True,
    help="A comparison during which other processes used more CPUs than this on average "
    "is measured again.",
)
@click.option(
    "--retries",
    type=int,
    default=2,
    show_default=True,
    help="Re-measurements of a comparison disturbed by other work (0: record it as is).",
)
@click.option(
    "--remeasure-contended",
    is_flag=True,
    help="Measure again the stored rows that other processes disturbed (above "
    "--max-other-cpus) or whose load was not recorded.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def train(
    corpus_dir: str | None,
    store_path: str | None,
    samples: int,
    min_sample_s: float,
    meter: str,
    families: tuple[str, ...],
    limit: int | None,
    sizes: tuple[str, ...],
    passes_spec: str | None,
    timeout_s: float,
    out_dir: str | None,
    fit_only: bool,
    measure_only: bool,
    shard: str | None,
    quiet: bool,
    from_table: str | None,
    max_other_cpus: float,
    retries: int,
    remeasure_contended: bool,
) -> int:
    """Entry point of `greenopt train` (see the module docstring)."""
    from greenopt.measure.meter import validate_meter_name
    from greenopt.models.collect import CollectOptions
    from greenopt.models.corpus import default_corpus_dir, load_corpus
    from greenopt.models.table import store_rows
    from greenopt.passes.registry import parse_pass_list
    from greenopt.store import Store

    if sum((fit_only, measure_only, from_table is not None)) > 1:
        raise InputError("--fit-only, --measure-only and --from-table exclude each other")
    check_output_dir("--out", out_dir)  # before hours of measuring (or a refit), not after
    if from_table is not None:
        document, out = _refit_table(from_table, out_dir)
        _print_fit(document, out)
        return 0
    # every flag is checked before the store is opened: a bad one must not create it
    check_samples("--samples", samples)
    check_timeout("--timeout", timeout_s)
    if limit is not None and limit < 1:
        raise InputError("--limit must be >= 1")
    if not min_sample_s > 0:
        raise InputError("--min-sample-s must be > 0")
    if not max_other_cpus >= 0:
        raise InputError("--max-other-cpus must be >= 0")
    if retries < 0:
        raise InputError("--retries must be >= 0")
    validate_meter_name(meter)
    shard_range = _parse_shard(shard)
    wanted = selector_list("--families", families, "families") or None
    size_labels = selector_list("--sizes", sizes, "sizes")
    pass_names = parse_pass_list(passes_spec) if passes_spec is not None else None
    if store_path is not None:
        from greenopt.store import check_store_option

        check_store_option(store_path)
    bad_kernels: list[str] = []  # malformed kernel files: reported, the others trained on
    try:
        kernels = load_corpus(corpus_dir or default_corpus_dir(), wanted, limit, bad_kernels)
    finally:
        for message in bad_kernels:
            click.echo(f"greenopt: error: {message}", err=True)
    if wanted:
        unknown = sorted(set(wanted) - {k.family for k in kernels})
        if unknown:
            raise InputError(f"unknown or empty families: {', '.join(unknown)}")
    if size_labels:
        kernels = _only_sizes(kernels, size_labels)
    if not measure_only:
        _check_families(kernels)  # before measuring, not after
    options = CollectOptions(
        meter=meter,
        samples=samples,
        min_sample_s=min_sample_s,
        timeout_s=timeout_s,
        max_other_cpus=max_other_cpus,
        retries=retries,
        remeasure_contended=remeasure_contended,
    )
    prepared = None if fit_only else _prepare(kernels, meter, pass_names, quiet)
    store = Store(store_path)
    try:
        notes: list[str] = []
        if prepared is not None:
            notes, current = _measure(kernels, prepared, store, options, quiet, shard_range)
        if measure_only:
            return _exit_status(bad_kernels)
        if fit_only:
            current = _current_candidates(kernels, pass_names)
        from greenopt.measure.machine import machine_fingerprint
        from greenopt.models.training import build_model, make_table

        fingerprint = machine_fingerprint()
        keys = {k.key for k in kernels}
        rows = [
            r
            for r in store_rows(store)
            if r.kernel in keys
            and r.machine_id == fingerprint.machine_id
            and (not size_labels or r.size in size_labels)
        ]
        # rows of candidates the passes no longer generate (a pass changed since they
        # were measured) describe rewrites greenopt does not make: not trained on
        stale = sum(1 for r in rows if (r.kernel, r.candidate) not in current)
        if stale:
            rows = [r for r in rows if (r.kernel, r.candidate) in current]
            notes.append(
                f"{stale} stored rows of candidates the passes no longer generate were left out"
            )
        if not any(r.usable for r in rows):
            raise InputError(_no_rows_message(rows, fit_only))
        table = make_table(rows, fingerprint.to_dict(), notes)
    finally:
        store.close()
    document = build_model(table)  # fitted before anything is written to --out
    out = _export(table, document, out_dir)
    _print_fit(document, out)
    return _exit_status(bad_kernels)


def _exit_status(bad_kernels: list[str]) -> int:
    """0, or 2 with a closing line when malformed kernel files were skipped (each was
    reported when the corpus was read, maybe hours of measuring ago)."""
    if not bad_kernels:
        return 0
    click.echo(
        f"greenopt: {len(bad_kernels)} corpus kernel file(s) skipped "
        "(each named when the corpus was read)",
        err=True,
    )
    return 2


def _check_families(kernels: list[CorpusKernel]) -> None:
    """Raise InputError when the selected kernels span fewer than 2 families: the model
    is cross-validated with GroupKFold by family, so the fit would fail, but only after
    all the measuring."""
    families = sorted({k.family for k in kernels})
    if len(families) == 1:
        raise InputError(
            f"only one family selected ({families[0]}): fitting the model needs at least 2 "
            "(GroupKFold by family); add families or use --measure-only"
        )


def _export(table: TrainingTable, document: dict[str, Any], out_dir: str | None) -> Path:
    """Write the table and the model fitted on it to `out_dir` (default: the shipped
    data directory), all three files or none; returns the directory."""
    from greenopt.models.training import export

    out = Path(out_dir) if out_dir else DATA_DIR
    try:
        export(table, document, out)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    return out


def _no_rows_message(rows: list[Any], fit_only: bool) -> str:
    """Why there is nothing to fit: nothing measured yet (`--fit-only` on a store without
    rows), or every comparison failed (the reasons most often recorded, e.g. a --timeout
    too short for the corpus)."""
    if not rows:
        if fit_only:
            return (
                "no measured training rows for this corpus on this machine in the store; "
                "run without --fit-only to measure them"
            )
        return "no training rows: nothing was measured for this corpus on this machine"
    from collections import Counter

    def why(row: Any) -> str:
        reason = " ".join(str(row.reason).split())
        reason = reason if len(reason) <= 120 else reason[:117] + "..."
        return f"{row.status}: {reason}" if reason else str(row.status)

    common = "; ".join(f"{n} x {reason}" for reason, n in Counter(map(why, rows)).most_common(2))
    return (
        f"no usable training rows: none of the {len(rows)} comparisons for this corpus was "
        f"measured successfully ({common}); check --timeout and --meter"
    )


def _only_sizes(kernels: list[CorpusKernel], labels: list[str]) -> list[CorpusKernel]:
    """The kernels with only the workloads of these size labels (a quicker training run:
    `--sizes medium` measures a third of the comparisons)."""
    from dataclasses import replace

    known = {w.size for k in kernels for w in k.workloads}
    unknown = sorted(set(labels) - known)
    if unknown:
        raise InputError(
            f"unknown sizes: {', '.join(unknown)} (the corpus has {', '.join(sorted(known))})"
        )
    return [
        replace(k, workloads=tuple(w for w in k.workloads if w.size in labels)) for k in kernels
    ]


def _refit_table(path: str, out_dir: str | None) -> tuple[dict[str, Any], Path]:
    """Re-featurize the measured rows of the exported table at `path`, export and refit.

    Only the rows that carry function sources (the "sized" view; `make_table` derives
    the "unsized" view from them again) are used; the table's machine and notes are kept.
    """
    from greenopt.models.table import read_table
    from greenopt.models.training import build_model, make_table

    source = read_table(path)
    rows = [r for r in source.rows if r.view == "sized"]
    if not any(r.usable and r.original_code and r.candidate_code for r in rows):
        raise InputError(f"{path}: no measured rows with function sources to re-featurize")
    table = make_table(rows, source.machine, source.notes)
    document = build_model(table)  # a failed fit leaves --out as it was
    return document, _export(table, document, out_dir)


def _print_fit(document: dict[str, Any], out: Path) -> None:
    """The cross-validated figures of a freshly built model and where it was written."""
    from greenopt.commands.model import print_report

    print_report(document["cv"])
    click.echo(
        f"wrote {out / 'training_table.json'}, {out / 'training_table.csv'}, {out / 'cost_model.json'}"
    )
