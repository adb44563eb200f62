"""``greenopt measure``: the energy of a call or a script, with the best available meter.

Two forms::

    greenopt measure [OPTIONS] --setup CODE --call EXPR [--call EXPR ...] [--module FILE]
    greenopt measure [OPTIONS] script.py [ARGS...]

Options come before the script (everything after it is passed to the script).
Prints a table (J/call, time/call, W, Wh, gCO2e, 95% CI, meter) with a bold
"estimated" label when no hardware counter was read; ``--json PATH`` writes the
same figures as JSON (``-`` for stdout), with ``other_cpus``: how many CPUs other
processes kept busy on average meanwhile (`greenopt.measure.contention`; a warning
on stderr above 0.25). Exit codes: 0 success, 2 usage or workload
error (setup/call raised, script exited non-zero, timeout, out of memory),
3 meter unavailable or unreadable.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

from greenopt.errors import InputError
from greenopt.measure.workload import Workload

_SI = [(1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M")]


def format_si(value: float | None, unit: str, digits: int = 3) -> str:
    """``0.0000173, "J"`` -> ``17.3 µJ``; None or NaN -> ``-``."""
    if value is None or not math.isfinite(value):
        return "-"
    if value == 0:
        return f"0 {unit}"
    mag = abs(value)
    scale, prefix = _SI[0]
    for s, p in _SI:
        if mag >= s:
            scale, prefix = s, p
    return f"{value / scale:.{digits}g} {prefix}{unit}"


def json_safe(value: Any) -> Any:
    """`value` with NaN and infinities replaced by None, so the JSON is strict (RFC 8259)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _build_workload(
    script: str | None,
    script_args: tuple[str, ...],
    setup: str,
    calls: tuple[str, ...],
    module: str | None,
    seed: int,
    config: Any,
    config_workload: int,
    announce: Any,
) -> Workload:
    """The workload described by the command line (InputError when it describes none or two).

    `--module FILE` without `--call` takes the `config_workload`-th (1-based) workload
    configured for FILE in `[tool.greenopt.workloads]`.
    """
    if script is not None:
        if calls or setup or module:
            raise InputError("give either a script or --call/--setup/--module, not both")
        from greenopt.measure.script import script_workload

        return script_workload(script, script_args, seed=seed)
    module_path = None
    if module is not None:
        mp = Path(module)
        if not mp.is_file():
            raise InputError(f"module file not found: {module}")
        if mp.suffix != ".py":
            raise InputError(f"--module must be a .py file: {module}")
        module_path = str(mp.resolve())
    if not calls and module_path is not None and not setup:
        from greenopt.optimizer.workloads import from_config

        configured = from_config(Path(module_path), config)
        if not configured:
            raise InputError(
                f"nothing to measure: give --call EXPR, or configure [tool.greenopt.workloads] for {module}"
            )
        if not 1 <= config_workload <= len(configured):
            raise InputError(
                f"--config-workload {config_workload}: {module} has {len(configured)} configured workload(s)"
            )
        chosen = configured[config_workload - 1]
        announce(
            f"measuring {chosen.label} of {len(configured)} for {module}"
            + (" (--config-workload N for another)" if len(configured) > 1 else "")
        )
        return chosen.with_seed(seed)
    if not calls:
        raise InputError(
            "nothing to measure: give --call EXPR (with optional --setup CODE) or a script path"
        )
    for expr in calls:
        if not expr.strip():
            raise InputError("--call must not be empty")
    from greenopt.optimizer.workloads import FLAGS_LABEL, check_syntax

    # a syntax error in --setup or --call is reported here, before any child starts
    check_syntax(Workload(setup=setup, calls=tuple(calls), label=FLAGS_LABEL))
    return Workload(setup=setup, calls=tuple(calls), module_path=module_path, seed=seed)


def _check_sampling_flags(
    min_sample_s: float | None, warmup: int, memory_mb: int, processes: int
) -> None:
    """Raise InputError naming the option as typed (`--warmup`, not `warmup`) for a bad
    sampling value; `RunOptions.check` only knows its own field names."""
    from greenopt.commands.options import check_at_least, check_memory_mb, check_min_sample_s

    check_min_sample_s("--min-sample-s", min_sample_s)
    check_at_least("--warmup", warmup, 0)
    check_at_least("--processes", processes, 1)
    check_memory_mb("--memory-mb", memory_mb)


def _report(
    m: Any,
    g_per_kwh: float,
    region: str,
    workload: Workload,
    machine: dict[str, Any],
    store_id: int | None,
) -> dict[str, Any]:
    """The JSON report (see docs/measure.md for every field)."""
    from greenopt.measure.carbon import co2e_grams, watt_hours

    data = m.to_dict()
    data.update(
        {
            "energy_wh": watt_hours(m.energy_median_j),
            "co2e_g": co2e_grams(m.energy_median_j, g_per_kwh),
            "co2e_net_g": co2e_grams(m.energy_net_median_j, g_per_kwh),
            "carbon_intensity_g_per_kwh": g_per_kwh,
            "region": region,
            "workload": {
                "setup": workload.setup,
                "calls": list(workload.calls),
                "module_path": workload.module_path,
                "seed": workload.seed,
                "label": workload.label,
                "hash": workload.digest(),
            },
            "machine": machine,
            "store_id": store_id,
            "power_model": _power_model_source() if "estimate" in m.meter.name.split("+") else None,
        }
    )
    return data


def _power_model_source() -> str:
    """How the estimate meter's constants were chosen on this machine (same as in the child)."""
    from greenopt.measure.estimate import power_model_for
    from greenopt.measure.machine import read_cpuinfo

    return power_model_for(read_cpuinfo()).source


def _print_table(m: Any, g_per_kwh: float, region: str, title: str) -> None:
    """The human-readable table on stdout: one column per figure kind (gross, net, cold)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from greenopt.measure.carbon import co2e_grams, watt_hours

    console = Console(highlight=False)
    kind = (
        Text("measured", style="green") if m.meter.measured else Text("estimated", style="bold red")
    )
    columns: list[tuple[str, float | None, float | None, tuple[float, float] | None]] = [
        ("gross", m.energy_median_j, m.time_median_s, m.ci95)
    ]
    if m.idle_power_w is not None:
        columns.append(("net of idle", m.energy_net_median_j, m.time_median_s, m.net_ci95))
    if m.cold_energy_j is not None:
        columns.append(("first call (cold)", m.cold_energy_j, m.cold_time_s, None))
    table = Table(title=title, title_justify="left")
    table.add_column("per call")
    for name, *_ in columns:
        table.add_column(name, justify="right")

    def cells(fn: Any) -> list[Any]:
        """One table row's cells: `fn(joules, seconds, ci)` for each column."""
        return [fn(j, t, ci) for _name, j, t, ci in columns]

    table.add_row("energy (J)", *cells(lambda j, t, ci: format_si(j, "J")))
    table.add_row(
        "95% CI (J)",
        *cells(
            lambda j, t, ci: f"{format_si(ci[0], 'J')} – {format_si(ci[1], 'J')}" if ci else "-"
        ),
    )
    table.add_row("time", *cells(lambda j, t, ci: format_si(t, "s")))
    table.add_row(
        "power (W)", *cells(lambda j, t, ci: format_si(j / t if j is not None and t else None, "W"))
    )
    table.add_row(
        "energy (Wh)",
        *cells(lambda j, t, ci: format_si(watt_hours(j) if j is not None else None, "Wh")),
    )
    table.add_row(
        "carbon (gCO2e)",
        *cells(
            lambda j, t, ci: format_si(co2e_grams(j, g_per_kwh) if j is not None else None, "g")
        ),
    )
    table.add_row("meter", *cells(lambda j, t, ci: m.meter.name))
    table.add_row("figures are", *cells(lambda j, t, ci: kind))
    console.print(table)
    idle = (
        f"idle {format_si(m.idle_power_w, 'W')}"
        if m.idle_power_w is not None
        else "no idle baseline"
    )
    console.print(
        f"{m.samples} samples x {m.calls_per_sample} calls; {idle}; domains {', '.join(m.meter.domains)}; "
        f"carbon intensity {g_per_kwh:g} gCO2e/kWh ({region})"
    )
    if not m.meter.measured:
        console.print(
            Text("estimated: ", style="bold red")
            + Text(
                "no hardware energy counter was read; joules come from CPU time and wall time "
                f"with a power model (docs/measure.md): {_power_model_source()}."
            )
        )


def _record(
    result: Any, workload: Workload, script: str | None, store_path: str | None, fingerprint: Any
) -> int | None:
    """Record in the store; an explicit --store failing is an error, the default one a warning."""
    from greenopt.store import Store, hash_file

    code_hash = hash_file(script) if script is not None else None
    try:
        with Store(store_path) as store:
            return store.record_measurement(
                result, workload=workload, code_hash=code_hash, kind="measure", machine=fingerprint
            )
    except InputError as exc:
        if store_path is not None:
            raise
        click.echo(f"greenopt: warning: {exc}; measurement not recorded", err=True)
        return None


@click.command(
    "measure",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog=(
        "Options go before SCRIPT; the rest of the line is passed to the script. "
        "Examples: greenopt measure --module kernels.py --setup 'import numpy as np; "
        "x = np.random.rand(10**6)' --call 'dot(x, x)';  greenopt measure --samples 5 run.py --n 100. "
        "Exit codes: 0 measured; 2 usage, input or workload error (raised, crashed, timed out, "
        "out of memory); 3 meter unavailable or unreadable."
    ),
)
@click.argument("script", required=False)
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--setup", metavar="CODE", default="", help="Setup code run once per child before the calls."
)
@click.option(
    "--call",
    "calls",
    metavar="EXPR",
    multiple=True,
    help="Call expression to measure (repeatable; one call = all of them).",
)
@click.option(
    "--module",
    "module",
    metavar="FILE",
    default=None,
    help="Python file importable under its own name in setup and calls.",
)
@click.option(
    "--meter",
    metavar="NAME",
    default=None,
    help="auto|rapl|pyrapl|perf|nvml|estimate (default: config or auto).",
)
@click.option(
    "--samples",
    metavar="N",
    type=int,
    default=None,
    help="Number of samples, at least 2 (default: config or 10).",
)
@click.option(
    "--min-sample-s",
    metavar="S",
    type=float,
    default=None,
    help="Minimum seconds per sample (default 1.0 hardware, 0.2 estimate).",
)
@click.option(
    "--warmup",
    metavar="N",
    type=int,
    default=1,
    show_default=True,
    help="Warm-up calls after the cold call.",
)
@click.option(
    "--timeout",
    metavar="S",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds the child may spend running the workload.",
)
@click.option(
    "--memory-mb",
    metavar="MB",
    type=int,
    default=4096,
    show_default=True,
    help="Child address-space limit in MB (0: unlimited; else at least 256).",
)
@click.option(
    "--processes",
    metavar="N",
    type=int,
    default=1,
    show_default=True,
    help="Fresh child processes the samples are spread over.",
)
@click.option(
    "--config-workload",
    metavar="N",
    type=int,
    default=1,
    show_default=True,
    help="With --module and no --call: which [tool.greenopt.workloads] entry of the file to measure.",
)
@click.option("--no-idle", is_flag=True, help="Skip the idle baseline (no net figure).")
@click.option(
    "--seed",
    metavar="N",
    type=int,
    default=0,
    show_default=True,
    help="Seed for random, numpy.random and default_rng.",
)
@click.option(
    "--json",
    "json_path",
    metavar="PATH",
    default=None,
    help="Write the result as JSON to PATH ('-' for stdout).",
)
@click.option(
    "--region",
    metavar="ISO3",
    default=None,
    help="ISO 3166-1 alpha-3 country for the carbon intensity (default: world average).",
)
@click.option(
    "--carbon-intensity",
    metavar="G_PER_KWH",
    type=float,
    default=None,
    help="Grid intensity in gCO2e/kWh (overrides --region's table value).",
)
@click.option(
    "--store",
    "store_path",
    metavar="PATH",
    default=None,
    help="SQLite measurement store (default: user data dir).",
)
@click.option("--no-store", is_flag=True, help="Do not record the measurement.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or meter announcements.")
def measure(
    script: str | None,
    script_args: tuple[str, ...],
    setup: str,
    calls: tuple[str, ...],
    module: str | None,
    meter: str | None,
    samples: int | None,
    min_sample_s: float | None,
    warmup: int,
    timeout: float,
    memory_mb: int,
    processes: int,
    config_workload: int,
    no_idle: bool,
    seed: int,
    json_path: str | None,
    region: str | None,
    carbon_intensity: float | None,
    store_path: str | None,
    no_store: bool,
    quiet: bool,
) -> int:
    """Measure the energy of a call (--setup/--call) or of a script (SCRIPT [ARGS]...)."""
    from greenopt.config import load_config
    from greenopt.measure.carbon import intensity_for
    from greenopt.measure.contention import DEFAULT_MAX_OTHER_CPUS, ContentionProbe
    from greenopt.measure.machine import machine_fingerprint
    from greenopt.measure.meter import validate_meter_name
    from greenopt.measure.runner import RunOptions
    from greenopt.measure.runner import measure as run_measure

    config = load_config(script or module or Path.cwd())

    def announce(message: str) -> None:
        # A permission problem is shown even with -q: a fix exists, and falling back to
        # another meter because of it must never go unnoticed.
        """Meter choices and fallbacks on stderr."""
        if not quiet or "permission denied" in message:
            click.echo(f"greenopt: {message}", err=True)

    from greenopt.commands.options import check_output_path, check_samples, check_timeout

    # every flag is checked before anything is measured (minutes) or written
    check_output_path("--json", json_path)
    if samples is not None:
        check_samples("--samples", samples)
    check_timeout("--timeout", timeout)
    _check_sampling_flags(min_sample_s, warmup, memory_mb, processes)
    if not no_store and store_path is not None:
        from greenopt.store import check_store_option

        # the store file itself is created only on success
        check_store_option(store_path)
    meter_name = validate_meter_name(meter or config.meter)
    if config.region is not None and region is None:
        region = config.region
    if carbon_intensity is None:
        carbon_intensity = config.carbon_intensity
    g_per_kwh, region_label = intensity_for(region, carbon_intensity)
    options = RunOptions(
        samples=samples if samples is not None else config.samples,
        min_sample_s=min_sample_s,
        warmup=warmup,
        timeout_s=timeout,
        memory_mb=memory_mb or None,
        idle_baseline=not no_idle,
        processes=processes,
    )
    options.check()
    workload = _build_workload(
        script, script_args, setup, calls, module, seed, config, config_workload, announce
    )

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress_bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=quiet,
    )
    with progress_bar:
        task = progress_bar.add_task(
            "measuring (setup, cold call, calibration)", total=options.samples
        )

        def on_progress(done: int, total: int) -> None:
            """Advance the progress bar after each sample."""
            progress_bar.update(task, completed=done, total=total, description="sampling")

        probe = ContentionProbe()
        probe.start()
        result = run_measure(workload, meter_name, options, on_progress, announce=announce)
        seen = probe.stop()
    other_cpus = None if seen is None else round(seen.other_cpus, 3)
    if other_cpus is not None and other_cpus > DEFAULT_MAX_OTHER_CPUS:
        click.echo(
            f"greenopt: other processes kept {other_cpus:.2f} CPUs busy on average while "
            "measuring; the figures may be biased (re-run on a quieter machine)",
            err=True,
        )
    fingerprint = machine_fingerprint()
    store_id = None if no_store else _record(result, workload, script, store_path, fingerprint)

    report = json_safe(
        _report(result, g_per_kwh, region_label, workload, fingerprint.to_dict(), store_id)
        | {"other_cpus": other_cpus}
    )
    if json_path == "-":
        sys.stdout.write(json.dumps(report, indent=2, allow_nan=False) + "\n")
        return 0
    title = f"greenopt measure: {workload.label or ' ; '.join(workload.calls)}"
    _print_table(result, g_per_kwh, region_label, title)
    if json_path is not None:
        try:
            Path(json_path).write_text(
                json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            raise InputError(f"--json: cannot write {json_path}: {exc}") from None
    return 0
