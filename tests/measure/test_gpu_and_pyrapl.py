"""NVML and pyRAPL meters against fake libraries injected in sys.modules; meter composition."""

from __future__ import annotations

import types

import pytest

from greenopt.errors import InputError, MeterError
from greenopt.measure.meter import CompositeMeter, get_meter, validate_meter_name


class FakeNvml(types.ModuleType):
    """pynvml with two GPUs whose energy counters (mJ) the test advances."""

    def __init__(self, devices: int = 2) -> None:
        super().__init__("pynvml")
        self.energy_mj = [1_000 * (i + 1) for i in range(devices)]
        self.shutdowns = 0

    def nvmlInit(self) -> None:  # noqa: N802 - the library's names
        pass

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return len(self.energy_mj)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:  # noqa: N802
        return self.energy_mj[handle]


@pytest.fixture
def no_cpu_counters(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither RAPL nor perf available, whatever the machine."""
    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("GREENOPT_PERF", str(tmp_path / "none"))


def test_nvml_meter_reads_each_device(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml()
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    from greenopt.measure.nvml import NvmlMeter

    meter = NvmlMeter()
    assert meter.info.domains == ("gpu-0", "gpu-1") and meter.info.measured
    meter.start()
    fake.energy_mj[0] += 2_500
    fake.energy_mj[1] += 500
    r = meter.stop()
    assert r.joules == pytest.approx({"gpu-0": 2.5, "gpu-1": 0.5})
    meter.close()
    assert fake.shutdowns == 1


def test_auto_adds_gpu_energy_to_the_cpu_meter(
    monkeypatch: pytest.MonkeyPatch, no_cpu_counters: None
) -> None:
    fake = FakeNvml(devices=1)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    messages: list[str] = []
    meter = get_meter("auto", announce=messages.append)
    assert isinstance(meter, CompositeMeter)
    # the CPU part is estimated, so the whole figure is labelled estimated
    assert meter.info.name == "nvml+estimate" and meter.info.measured is False
    assert meter.info.domains == ("gpu-0", "cpu")
    meter.start()
    fake.energy_mj[0] += 1_000
    r = meter.stop()
    assert r.joules["gpu-0"] == pytest.approx(1.0) and r.joules["cpu"] >= 0
    assert any("GPU" in m for m in messages)
    assert get_meter("nvml+estimate").info.name == "nvml+estimate"
    assert get_meter("nvml").info.name == "nvml+estimate"


def test_explicit_nvml_without_gpu_library_is_a_meter_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pynvml", None)  # import fails
    with pytest.raises(MeterError, match="nvml"):
        get_meter("nvml")


def test_meter_name_validation() -> None:
    assert validate_meter_name(" RAPL ") == "rapl"
    assert validate_meter_name("nvml+perf") == "nvml+perf"
    for bad in ("nvml+gpu", "joules", ""):
        with pytest.raises(InputError):
            validate_meter_name(bad)
    with pytest.raises(InputError):
        get_meter("nvml+nonsense")


class FakePyRapl(types.ModuleType):
    """pyRAPL whose measurements report fixed µJ per socket."""

    def __init__(self, fail: Exception | None = None) -> None:
        super().__init__("pyRAPL")
        fail_with = fail

        class Result:
            pkg = [3_000_000.0, 1_000_000.0]
            dram = [500_000.0, 500_000.0]

        class Measurement:
            def __init__(self, label: str) -> None:
                self.result = None

            def begin(self) -> None:
                pass

            def end(self) -> None:
                self.result = Result()

        def setup() -> None:
            if fail_with is not None:
                raise fail_with

        self.Measurement = Measurement
        self.setup = setup


def test_pyrapl_meter_converts_microjoules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pyRAPL", FakePyRapl())
    meter = get_meter("pyrapl")
    assert meter.info.name == "pyrapl" and meter.info.domains == (
        "package-0",
        "package-1",
        "dram-0",
        "dram-1",
    )
    meter.start()
    r = meter.stop()
    assert r.joules == pytest.approx(
        {"package-0": 3.0, "package-1": 1.0, "dram-0": 0.5, "dram-1": 0.5}
    )


def test_pyrapl_permission_error_carries_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        __import__("sys").modules, "pyRAPL", FakePyRapl(fail=PermissionError("denied"))
    )
    with pytest.raises(MeterError, match="chmod a\\+r"):
        get_meter("pyrapl")
