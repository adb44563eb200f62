"""benchmarks/nvml_validation.py: power integration, counter period, and the whole check on a fake GPU."""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "nvml_validation.py"
_SPEC = importlib.util.spec_from_file_location("nvml_validation", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
nv = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = nv  # dataclasses look their module up
_SPEC.loader.exec_module(nv)


class ClockedNvml(types.ModuleType):
    """pynvml with one GPU drawing `watts`; its energy counter integrates that power.

    `scale` multiplies what the counter reports, to model a driver (or a meter) whose
    counter is not in the unit the power reading implies.
    """

    def __init__(self, watts: float = 100.0, scale: float = 1.0) -> None:
        super().__init__("pynvml")
        self.watts = watts
        self.scale = scale
        self._mj = 5_000_000.0
        self._t = time.perf_counter()

    def _advance(self) -> None:
        now = time.perf_counter()
        self._mj += self.watts * 1e3 * (now - self._t)
        self._t = now

    def set_watts(self, watts: float) -> None:
        self._advance()
        self.watts = watts

    def nvmlInit(self) -> None:  # noqa: N802 - the library's names
        pass

    def nvmlShutdown(self) -> None:  # noqa: N802
        pass

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetName(self, handle: int) -> bytes:  # noqa: N802
        return b"Fake GPU"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:  # noqa: N802
        self._advance()
        return int(self._mj * self.scale)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        return int(self.watts * 1e3)


def test_integrate_constant_and_ramp() -> None:
    flat = nv.PowerTrace(times=[0.0, 1.0, 2.0], watts=[50.0, 50.0, 50.0])
    assert nv.integrate(flat, 0.5, 1.5) == pytest.approx(50.0)
    ramp = nv.PowerTrace(times=[0.0, 2.0], watts=[0.0, 100.0])
    assert nv.integrate(ramp, 0.0, 2.0) == pytest.approx(100.0)
    assert nv.integrate(ramp, 1.0, 2.0) == pytest.approx(75.0)
    # outside the samples the nearest power is held
    assert nv.integrate(flat, -1.0, 0.0) == pytest.approx(50.0)
    assert nv.integrate(flat, 1.0, 1.0) == 0.0
    assert nv.integrate(nv.PowerTrace(times=[], watts=[]), 0.0, 1.0) == 0.0


def test_relative_difference_and_update_period() -> None:
    assert nv.relative_difference(110.0, 100.0) == pytest.approx(0.1)
    assert nv.relative_difference(1.0, 0.0) == float("inf")
    values = [0, 0, 5, 5, 5, 9, 9, 14]
    times = [0.0, 0.05, 0.1, 0.15, 0.18, 0.2, 0.25, 0.3]
    assert nv.update_period(values, times) == pytest.approx(0.1)
    assert nv.update_period([1, 1, 1], [0.0, 0.1, 0.2]) is None


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short settling so the whole check takes well under a second per phase."""
    monkeypatch.setattr(nv, "SETTLE_S", 0.05)
    monkeypatch.setattr(nv, "COUNTER_POLL_S", 0.2)
    monkeypatch.setattr(nv, "SHORT_S", 0.02)
    monkeypatch.setattr(nv, "SHORT_REPEATS", 3)


def _install(monkeypatch: pytest.MonkeyPatch, fake: ClockedNvml) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake)

    def load() -> tuple[str, object]:
        def busy(seconds: float) -> None:
            fake.set_watts(400.0)
            time.sleep(seconds)
            fake.set_watts(100.0)

        return "fake load", busy

    monkeypatch.setattr(nv, "gpu_load", load)


def test_a_consistent_counter_agrees_in_every_phase(
    monkeypatch: pytest.MonkeyPatch, quick: None
) -> None:
    fake = ClockedNvml(watts=100.0)
    _install(monkeypatch, fake)
    result = nv.validate(0.3)
    assert result["available"] and result["devices"][0]["name"] == "Fake GPU"
    assert [p["phase"] for p in result["phases"]] == ["gpu idle", "cpu busy, gpu idle", "gpu busy"]
    assert result["all_agree"], result["phases"]
    busy = result["phases"][2]
    assert busy["counter_mean_w"] > 3 * result["phases"][0]["counter_mean_w"]
    assert result["counter"]["monotonic"] and result["counter"]["update_period_s"] is not None
    short = result["short_samples"]
    assert short["aligned"]["mean_w"] == pytest.approx(100.0, rel=0.1)
    assert len(short["plain"]["watts"]) == 3


def test_a_counter_in_the_wrong_unit_is_caught(
    monkeypatch: pytest.MonkeyPatch, quick: None
) -> None:
    _install(monkeypatch, ClockedNvml(watts=100.0, scale=1.5))
    result = nv.validate(0.3)
    assert not result["all_agree"]
    assert all(p["relative_difference"] > nv.AGREEMENT for p in result["phases"])


def test_without_a_gpu_there_is_nothing_to_validate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    assert nv.main([]) == 0
    assert "nvml unavailable here" in capsys.readouterr().out
    assert nv.main(["--seconds", "0"]) == 2
