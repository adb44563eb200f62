"""Reports of a validated rewrite: the JSON document and the human table.

JSON (`--json PATH`): `meter` {name, measured}; `functions`, each with the fields of
issue 4 (name, passes, verdict, reason, energy_before_j, energy_after_j, ratio,
ci95, max_abs_error, max_rel_error, co2e_saved_g) plus `predicted_ratio` and
`candidates` (every candidate generated: source hash, passes, prediction, whether
it was measured, its measured ratio, and for `jit` its cold/warm energy and
break-even number of calls) and its `other_cpus`, the average number of CPUs other
processes kept busy while it was measured (`greenopt.measure.contention`; null
where `/proc/stat` is unreadable; the text warns above 0.25). Energies are joules per execution of the workload's
calls that exercise the function, gross (idle power included), medians.

The table goes to stderr so stdout stays a clean diff; when the meter is an
estimate the title says so in bold.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from greenopt.measure.contention import DEFAULT_MAX_OTHER_CPUS
from greenopt.optimizer.pipeline import (
    ACCEPTED,
    HELPER,
    NOT_EXERCISED,
    REJECTED,
    CandidateResult,
    FunctionResult,
    OptimizeResult,
)

SCHEMA_VERSION = 1


def _num(x: float | None) -> float | None:
    """A JSON-safe number: non-finite values (e.g. an infinite relative error) become null."""
    if x is None or not math.isfinite(float(x)):
        return None
    return float(x)


def candidate_json(cr: CandidateResult) -> dict[str, Any]:
    """One candidate in the JSON report."""
    return {
        "source_hash": cr.source_hash,
        "recipe": cr.recipe,
        "passes": list(cr.passes),
        "codes": list(cr.codes),
        "loops_removed": cr.loops_removed,
        "predicted_ratio": _num(cr.predicted_ratio),
        "predicted_interval": list(cr.predicted_interval) if cr.predicted_interval else None,
        "prediction_source": cr.prediction_source,
        "validated": cr.validated,
        "measured": cr.measured,
        "verdict": cr.verdict,
        "reason": cr.reason,
        "ratio": _num(cr.ratio),
        "ci95": list(cr.ci95) if cr.ci95 else None,
        "energy_before_j": _num(cr.energy_before_j),
        "energy_after_j": _num(cr.energy_after_j),
        "max_abs_error": _num(cr.max_abs_error),
        "max_rel_error": _num(cr.max_rel_error),
        "cold_energy_j": _num(cr.cold_energy_j),
        "warm_energy_j": _num(cr.warm_energy_j),
        "break_even_calls": cr.break_even_calls,
        "other_cpus": _num(cr.other_cpus),
        "near_tie": cr.near_tie,
    }


def function_json(fr: FunctionResult) -> dict[str, Any]:
    """One function in the JSON report (issue 4 fields + predicted_ratio + candidates)."""
    return {
        "name": fr.name,
        "passes": list(fr.passes),
        "verdict": fr.verdict,
        "reason": fr.reason,
        "energy_before_j": _num(fr.energy_before_j),
        "energy_after_j": _num(fr.energy_after_j),
        "ratio": _num(fr.ratio),
        "ci95": list(fr.ci95) if fr.ci95 else None,
        "max_abs_error": _num(fr.max_abs_error),
        "max_rel_error": _num(fr.max_rel_error),
        "co2e_saved_g": _num(fr.co2e_saved_g),
        "predicted_ratio": _num(fr.predicted_ratio),
        "candidates": [candidate_json(c) for c in fr.candidates],
    }


def result_json(result: OptimizeResult) -> dict[str, Any]:
    """The whole JSON report of `greenopt rewrite` (see module docstring)."""
    return {
        "schema": SCHEMA_VERSION,
        "mode": "validated",
        "path": result.path,
        "changed": result.changed,
        "meter": {"name": result.meter_name, "measured": result.meter_measured},
        "tolerance": {"rtol": result.rtol, "atol": result.atol},
        "carbon": {
            "g_per_kwh": result.carbon_intensity_g_per_kwh,
            "region": result.carbon_region,
        },
        "cost_model_used": result.model_used,
        "time_share": {fr.name: fr.share for fr in result.functions if fr.share},
        "functions": [function_json(fr) for fr in result.functions],
        "combined": asdict(result.combined) if result.combined else None,
        "notes": list(result.notes),
    }


def static_json(rewrite: Any, model: Any | None = None) -> dict[str, Any]:
    """JSON report of `rewrite --static` (a `greenopt.optimizer.static.StaticRewrite`).

    With a cost `model`, each opportunity carries `predicted_saving` (static, not measured).
    """
    from greenopt.optimizer.predictions import predict

    def entry(o: Any) -> dict[str, Any]:
        return {**_opportunity_json(o), **predict(model, rewrite.original, o)}

    return {
        "schema": SCHEMA_VERSION,
        "mode": "static",
        "path": rewrite.path,
        "changed": rewrite.new_code != rewrite.original,
        "measured": False,
        "label": "not measured",
        "applied": [entry(o) for o in rewrite.applied],
        "skipped": [{**entry(o), "reason": reason} for o, reason in rewrite.skipped],
    }


def _opportunity_json(o: Any) -> dict[str, Any]:
    s = o.site
    return {
        "pass": o.pass_name,
        "code": o.code,
        "message": o.message,
        "function": s.function,
        "line": s.line,
        "col": s.col,
    }


def _energy(j: float | None) -> str:
    if j is None:
        return "-"
    if j == 0:
        return "0 J"
    if abs(j) < 1e-3:
        return f"{j * 1e6:.3g} µJ"
    if abs(j) < 1:
        return f"{j * 1e3:.3g} mJ"
    return f"{j:.3g} J"


def _ratio(fr: FunctionResult) -> str:
    if fr.ratio is None:
        return "-"
    if fr.ci95:
        return f"{fr.ratio:.3f} [{fr.ci95[0]:.3f}, {fr.ci95[1]:.3f}]"
    return f"{fr.ratio:.3f}"


_VERDICT_STYLE = {ACCEPTED: "green", REJECTED: "red", NOT_EXERCISED: "dim", HELPER: "cyan"}


def render_table(result: OptimizeResult, console: Console) -> None:
    """Print the human report: one row per function, then reasons, meter and carbon notes."""
    kind = "measured" if result.meter_measured else "estimated"
    title = Text(f"greenopt rewrite {result.path} — meter: {result.meter_name} (")
    title.append(kind, style="bold" if not result.meter_measured else "")
    title.append(")")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, justify in (
        ("function", "left"),
        ("verdict", "left"),
        ("passes", "left"),
        ("time", "right"),
        ("energy before→after", "right"),
        ("ratio [95% CI]", "right"),
        ("max rel err", "right"),
        ("CO2e saved", "right"),
    ):
        table.add_column(col, justify=justify)
    for fr in result.functions:
        energies = (
            f"{_energy(fr.energy_before_j)}→{_energy(fr.energy_after_j)}"
            if fr.energy_before_j is not None
            else "-"
        )
        table.add_row(
            Text(fr.name),
            Text(fr.verdict, style=_VERDICT_STYLE.get(fr.verdict, "")),
            ", ".join(fr.passes) or "-",
            f"{fr.share:.0%}" if fr.share else "-",
            energies,
            _ratio(fr),
            "-" if fr.max_rel_error is None else f"{fr.max_rel_error:.2g}",
            "-" if fr.co2e_saved_g is None else f"{fr.co2e_saved_g:.2g} g",
        )
    console.print(table)
    for fr in result.functions:
        if fr.reason and fr.verdict != NOT_EXERCISED:
            console.print(Text(f"  {fr.name}: {fr.reason}"))
        if fr.verdict == ACCEPTED and fr.break_even_calls is not None:
            console.print(
                Text(
                    f"  {fr.name}: first call {_energy(fr.cold_energy_j)} (with JIT "
                    f"compilation), then {_energy(fr.warm_energy_j)} per call; pays back "
                    f"after {fr.break_even_calls} call(s)"
                )
            )
    for fr in result.functions:
        if fr.other_cpus is not None and fr.other_cpus > DEFAULT_MAX_OTHER_CPUS:
            console.print(
                Text(
                    f"  {fr.name}: measured while other processes kept {fr.other_cpus:.2f} "
                    "CPUs busy on average; its figures may be biased (parallel code most), "
                    "re-run on a quieter machine",
                    style="yellow",
                )
            )
    if result.combined is not None:
        c = result.combined
        state = "accepted" if c.accepted else f"failed ({c.reason})"
        ratio = f", ratio {c.ratio:.3f}" if c.ratio is not None else ""
        console.print(Text(f"  combined module ({', '.join(c.functions)}): {state}{ratio}"))
    if not result.meter_measured:
        console.print(
            Text.assemble(
                ("estimated", "bold"),
                f": no hardware energy counter; joules come from the '{result.meter_name}' "
                "power model (CPU and wall time): ratios are meaningful, absolute joules "
                "approximate.",
            )
        )
    console.print(
        Text(
            "Energies: median joules per run of the calls exercising each function; "
            f"CO2e at {result.carbon_intensity_g_per_kwh:g} g/kWh ({result.carbon_region}); "
            f"tolerance rtol={result.rtol:g} atol={result.atol:g}."
        )
    )
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
