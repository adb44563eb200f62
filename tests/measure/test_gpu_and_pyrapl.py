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


def test_auto_leaves_gpu_energy_out_and_says_so(
    monkeypatch: pytest.MonkeyPatch, no_cpu_counters: None
) -> None:
    fake = FakeNvml(devices=1)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    messages: list[str] = []
    meter = get_meter("auto", announce=messages.append)
    # an idle GPU's power would swamp a CPU kernel's energy: counted only on request
    assert meter.info.name == "estimate" and meter.info.domains == ("cpu",)
    assert any("GPU is readable" in m and "--meter nvml" in m for m in messages)


def test_explicit_nvml_adds_gpu_energy_to_the_cpu_meter(
    monkeypatch: pytest.MonkeyPatch, no_cpu_counters: None
) -> None:
    fake = FakeNvml(devices=1)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    meter = get_meter("nvml")
    assert isinstance(meter, CompositeMeter)
    # the CPU part is estimated, so the whole figure is labelled estimated
    assert meter.info.name == "nvml+estimate" and meter.info.measured is False
    assert meter.info.domains == ("gpu-0", "cpu")
    meter.start()
    fake.energy_mj[0] += 1_000
    r = meter.stop()
    assert r.joules["gpu-0"] == pytest.approx(1.0) and r.joules["cpu"] >= 0
    assert get_meter("nvml+estimate").info.name == "nvml+estimate"


class FakeClock:
    """perf_counter() that advances 0.1 ms per call (the cost of a poll) and sleep()."""

    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        self.now += 1e-4
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TickingNvml(FakeNvml):
    """One GPU drawing `watts` whose counter, like a real driver's, steps every `period` s."""

    def __init__(self, clock: FakeClock, watts: float = 120.0, period: float = 0.1) -> None:
        super().__init__(devices=1)
        self.clock, self.watts, self.period = clock, watts, period

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:  # noqa: N802
        last_step = (self.clock.now // self.period) * self.period
        return int(self.watts * 1e3 * last_step)


def test_aligned_reads_recover_the_energy_between_counter_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from greenopt.measure import nvml

    clock = FakeClock()
    monkeypatch.setattr(nvml, "time", clock)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", TickingNvml(clock))
    aligned, plain = nvml.NvmlMeter(), nvml.NvmlMeter(align=False)
    assert aligned.periods[0] == pytest.approx(0.1, rel=0.01)
    assert plain.periods == []
    plain_errors = []
    for seconds in (0.13, 0.17, 0.25, 0.31, 0.58, 1.04):
        for meter in (aligned, plain):
            meter.start()
            clock.sleep(seconds)
            r = meter.stop()
            error = abs(r.joules["gpu-0"] / (120.0 * r.wall_s) - 1)
            if meter is aligned:
                assert error < 0.01, (seconds, r)
            else:
                plain_errors.append(error)
                assert abs(r.joules["gpu-0"] - 120.0 * r.wall_s) <= 120.0 * 0.1 + 1e-9
    # plain reads lose up to a step at each end: tens of percent on short samples
    assert max(plain_errors) > 0.1


def test_a_counter_that_never_steps_is_read_plainly_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeNvml(devices=1)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    from greenopt.measure.nvml import NvmlMeter

    meter = NvmlMeter()
    assert meter.periods == [None]
    reads = []
    real = fake.nvmlDeviceGetTotalEnergyConsumption
    monkeypatch.setattr(
        fake, "nvmlDeviceGetTotalEnergyConsumption", lambda h: reads.append(h) or real(h)
    )
    meter.start()
    fake.energy_mj[0] += 3_000
    r = meter.stop()
    assert r.joules == {"gpu-0": 3.0} and len(reads) == 2  # one read each end, no polling


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
