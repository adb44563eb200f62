"""Plain result types of the runner: one measured variant, and two compared.

Energies are **per call** (one call = one pass over all of the workload's call
expressions), one value per sample; the statistics (medians, BCa CIs) are derived
properties so that the stored samples stay the single source of truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from greenopt.measure.meter import MeterInfo
from greenopt.measure.statistics import median, median_ci


@dataclass
class Measurement:
    """Samples of one workload under one meter.

    `energy_j[i]` and `time_s[i]` are gross joules and wall seconds per call in
    sample i (each sample ran `calls_per_sample` calls back to back). `idle_power_w`
    is the median power of idle intervals of a sample's duration taken in the same
    child (None when not taken); net energy subtracts ``idle_power_w * time``.
    `cold_*` describe the first call in a fresh process (imports, JIT compilation).
    `precompiled` names the Numba functions of the module under test that were already
    compiled before that call (at import, in setup, or loaded from a cache): the cold
    figure holds no compilation for them.
    """

    meter: MeterInfo
    energy_j: list[float]
    time_s: list[float]
    calls_per_sample: int
    idle_power_w: float | None = None
    cold_energy_j: float | None = None
    cold_time_s: float | None = None
    cpu_time_s: list[float] = field(default_factory=list)  # CPU s per call when the meter knows it
    idle_power_samples_w: list[float] = field(default_factory=list)
    label: str = ""
    precompiled: tuple[str, ...] = ()

    @property
    def samples(self) -> int:
        """Number of samples."""
        return len(self.energy_j)

    @property
    def energy_median_j(self) -> float:
        """Median gross joules per call."""
        return median(self.energy_j)

    @property
    def net_energy_j(self) -> list[float]:
        """Per-sample joules per call net of the idle baseline (gross when no baseline)."""
        if self.idle_power_w is None:
            return list(self.energy_j)
        return [e - self.idle_power_w * t for e, t in zip(self.energy_j, self.time_s, strict=True)]

    @property
    def energy_net_median_j(self) -> float:
        """Median joules per call net of the idle baseline."""
        return median(self.net_energy_j)

    @property
    def time_median_s(self) -> float:
        """Median wall seconds per call."""
        return median(self.time_s)

    @property
    def power_w(self) -> float:
        """Median average power over the samples (gross joules / seconds)."""
        powers = [e / t for e, t in zip(self.energy_j, self.time_s, strict=True) if t > 0]
        return median(powers) if powers else math.nan

    @cached_property
    def ci95(self) -> tuple[float, float]:
        """95% BCa bootstrap CI of the median gross joules per call."""
        return median_ci(self.energy_j)

    @cached_property
    def net_ci95(self) -> tuple[float, float]:
        """95% BCa bootstrap CI of the median net joules per call."""
        return median_ci(self.net_energy_j)

    @cached_property
    def time_ci95(self) -> tuple[float, float]:
        """95% BCa bootstrap CI of the median seconds per call."""
        return median_ci(self.time_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with samples and derived figures."""
        return {
            "meter": self.meter.to_dict(),
            "label": self.label,
            "energy_j": self.energy_median_j,
            "energy_net_j": self.energy_net_median_j,
            "time_s": self.time_median_s,
            "power_w": self.power_w,
            "ci95": list(self.ci95),
            "net_ci95": list(self.net_ci95),
            "time_ci95": list(self.time_ci95),
            "samples": self.samples,
            "calls_per_sample": self.calls_per_sample,
            "idle_power_w": self.idle_power_w,
            "cold_energy_j": self.cold_energy_j,
            "cold_time_s": self.cold_time_s,
            "energy_samples_j": list(self.energy_j),
            "time_samples_s": list(self.time_s),
            "cpu_time_samples_s": list(self.cpu_time_s),
            "idle_power_samples_w": list(self.idle_power_samples_w),
            "precompiled": list(self.precompiled),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Measurement:
        """Rebuild from `to_dict` output (derived figures are recomputed)."""
        return Measurement(
            meter=MeterInfo.from_dict(data["meter"]),
            energy_j=[float(v) for v in data["energy_samples_j"]],
            time_s=[float(v) for v in data["time_samples_s"]],
            calls_per_sample=int(data["calls_per_sample"]),
            idle_power_w=data.get("idle_power_w"),
            cold_energy_j=data.get("cold_energy_j"),
            cold_time_s=data.get("cold_time_s"),
            cpu_time_s=[float(v) for v in data.get("cpu_time_samples_s") or []],
            idle_power_samples_w=[float(v) for v in data.get("idle_power_samples_w") or []],
            label=str(data.get("label") or ""),
            precompiled=tuple(str(n) for n in data.get("precompiled") or ()),
        )


@dataclass
class Comparison:
    """Two variants measured with interleaved samples (A B B A ...).

    `ratio` = median(E_b) / median(E_a) of gross joules per call; `ci95` its 95% BCa
    bootstrap CI, resampling the (A_i, B_i) pairs together when `paired`.
    """

    a: Measurement
    b: Measurement
    ratio: float
    ci95: tuple[float, float]
    paired: bool = True
    time_ratio: float = math.nan
    time_ci95: tuple[float, float] = (math.nan, math.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "ratio": self.ratio,
            "ci95": list(self.ci95),
            "paired": self.paired,
            "time_ratio": self.time_ratio,
            "time_ci95": list(self.time_ci95),
        }


def cold_overhead_j(m: Measurement) -> float | None:
    """Extra energy of the first call over a warm one (imports, JIT compilation); None if unknown."""
    if m.cold_energy_j is None or not m.energy_j:
        return None
    return m.cold_energy_j - m.energy_median_j


def break_even_calls(original: Measurement, candidate: Measurement) -> float | None:
    """Calls after which the candidate's extra first-call energy is repaid by its cheaper calls.

    ``(cold overhead of candidate - cold overhead of original) / (E_original - E_candidate)``
    per warm call (gross medians). 0 when the candidate costs no extra up front; None when
    it is not cheaper per call (never repaid) or a cold figure is missing.
    """
    extra_b, extra_a = cold_overhead_j(candidate), cold_overhead_j(original)
    if extra_b is None or extra_a is None:
        return None
    saving = original.energy_median_j - candidate.energy_median_j
    if not saving > 0:
        return None
    return max(0.0, (extra_b - extra_a) / saving)
