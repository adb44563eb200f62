"""Carbon: table lookups, defaults, overrides, errors, conversion."""

from __future__ import annotations

import pytest

from greenopt.errors import InputError
from greenopt.measure.carbon import TABLE_SOURCE, co2e_grams, intensity_for, load_table, watt_hours


def test_world_average_is_the_default() -> None:
    g, label = intensity_for(None)
    assert label == "WORLD" and g == load_table()["WORLD"].g_per_kwh
    assert 300 < g < 600


def test_region_lookup_is_case_insensitive_and_ordered_sensibly() -> None:
    fra, label = intensity_for("fra")
    assert label == "FRA"
    pol, _ = intensity_for("POL")
    assert fra < 100 < pol


def test_override_wins_and_is_labelled() -> None:
    assert intensity_for(None, 123.0) == (123.0, "custom")
    assert intensity_for("deu", 50.0) == (50.0, "DEU")
    with pytest.raises(InputError):
        intensity_for(None, -1.0)


def test_unknown_region_is_an_input_error_naming_the_fix() -> None:
    with pytest.raises(InputError, match="--carbon-intensity"):
        intensity_for("XYZ")


def test_conversions() -> None:
    assert co2e_grams(3.6e6, 500.0) == pytest.approx(500.0)  # 1 kWh
    assert co2e_grams(0.0, 500.0) == 0.0
    assert watt_hours(3600.0) == pytest.approx(1.0)
    assert "2023" in TABLE_SOURCE
