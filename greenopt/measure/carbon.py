"""Carbon: grams of CO2-equivalent from joules and a grid carbon intensity.

``gCO2e = kWh * intensity`` with ``kWh = J / 3.6e6``. The intensity comes from, in
order: an explicit override (``--carbon-intensity`` / config ``carbon-intensity``),
the shipped per-country table for ``--region ISO3`` (`data/carbon_intensity.csv`:
Ember 2024 yearly electricity data via Our World in Data, year 2023), or the world
average of the same table. Never a network look-up.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as importlib_resources

from greenopt.errors import InputError

JOULES_PER_KWH = 3.6e6
WORLD = "WORLD"
TABLE_SOURCE = (
    "Ember (2024) Yearly Electricity Data via Our World in Data, "
    "carbon intensity of electricity generation, 2023"
)


@dataclass(frozen=True)
class RegionIntensity:
    """One row of the table."""

    iso3: str
    name: str
    g_per_kwh: float


@lru_cache(maxsize=1)
def load_table() -> dict[str, RegionIntensity]:
    """The shipped table, keyed by upper-case ISO 3166-1 alpha-3 code (plus ``WORLD``)."""
    text = (
        importlib_resources.files("greenopt.measure")
        .joinpath("data/carbon_intensity.csv")
        .read_text(encoding="utf-8")
    )
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {
        r["iso3"].upper(): RegionIntensity(r["iso3"].upper(), r["region"], float(r["g_per_kwh"]))
        for r in csv.DictReader(rows)
    }


def intensity_for(region: str | None, override_g_per_kwh: float | None = None) -> tuple[float, str]:
    """``(g/kWh, region label)`` for `region` (ISO3), an override, or the world average.

    An override wins and is labelled with the region if one was given, else
    ``custom``. An unknown region code is an InputError naming the fix.
    """
    if override_g_per_kwh is not None:
        value = float(override_g_per_kwh)
        if not math.isfinite(value) or value < 0:
            raise InputError(
                f"carbon intensity must be a non-negative number of g/kWh (got {override_g_per_kwh!r})"
            )
        return value, (region.strip().upper() if region else "custom")
    if region is None or not region.strip():
        return load_table()[WORLD].g_per_kwh, WORLD
    code = region.strip().upper()
    row = load_table().get(code)
    if row is None:
        raise InputError(
            f"unknown carbon region {region!r}: use an ISO 3166-1 alpha-3 code from the shipped table "
            "(e.g. FRA, DEU, USA; see `docs/measure.md`) or --carbon-intensity G_PER_KWH"
        )
    return row.g_per_kwh, code


def co2e_grams(joules: float, g_per_kwh: float) -> float:
    """Grams of CO2e for `joules` of electricity at `g_per_kwh`."""
    return joules / JOULES_PER_KWH * g_per_kwh


def watt_hours(joules: float) -> float:
    """Joules to watt-hours."""
    return joules / 3600.0
