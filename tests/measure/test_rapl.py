"""The RAPL powercap reader on fake trees: zone selection, wrap-around, polling, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from greenopt.errors import MeterError
from greenopt.measure.meter import get_meter
from greenopt.measure.rapl import (
    PERMISSION_FIX,
    RaplMeter,
    discover_zones,
    poll_interval_for,
)

from .powercap_fake import FakePowercap, PowerWriter

NO_POLL = 1000.0  # a poll interval longer than any test: only start/stop read the counters


def one_socket(tmp_path: Path) -> FakePowercap:
    """A one-socket tree with core, uncore and dram sub-zones."""
    fake = FakePowercap(tmp_path / "powercap")
    fake.zone("intel-rapl:0", "package-0", 1_000)
    fake.zone("intel-rapl:0:0", "core", 500)
    fake.zone("intel-rapl:0:1", "uncore", 100)
    fake.zone("intel-rapl:0:2", "dram", 2_000)
    return fake


def test_one_socket_sums_package_and_dram_never_core_or_uncore(tmp_path: Path) -> None:
    fake = one_socket(tmp_path)
    meter = RaplMeter(root=fake.root, poll_interval_s=NO_POLL)
    assert meter.info.name == "rapl" and meter.info.measured
    assert meter.info.domains == ("package-0", "dram-0")
    meter.start()
    fake.set("intel-rapl:0", 1_000 + 3_000_000)  # 3 J
    fake.set("intel-rapl:0:0", 500 + 2_000_000)  # core is part of the package: not added
    fake.set("intel-rapl:0:1", 100 + 500_000)
    fake.set("intel-rapl:0:2", 2_000 + 1_000_000)  # 1 J
    r = meter.stop()
    assert r.joules == pytest.approx({"package-0": 3.0, "dram-0": 1.0})
    assert r.total_j == pytest.approx(4.0)


def test_two_sockets_one_domain_each(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl:0", "package-0")
    fake.zone("intel-rapl:0:0", "dram")
    fake.zone("intel-rapl:1", "package-1")
    fake.zone("intel-rapl:1:0", "dram")
    meter = RaplMeter(root=fake.root, poll_interval_s=NO_POLL)
    assert meter.info.domains == ("package-0", "package-1", "dram-0", "dram-1")
    meter.start()
    fake.set("intel-rapl:0", 1_000_000)
    fake.set("intel-rapl:1", 2_000_000)
    fake.set("intel-rapl:0:0", 250_000)
    fake.set("intel-rapl:1:0", 750_000)
    r = meter.stop()
    assert r.joules == pytest.approx(
        {"package-0": 1.0, "package-1": 2.0, "dram-0": 0.25, "dram-1": 0.75}
    )


def test_psys_is_ignored_when_packages_exist(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl:0", "package-0")
    fake.zone("intel-rapl:1", "psys")
    assert [z.domain for z in discover_zones(fake.root)] == ["package-0"]


def test_psys_is_used_alone_without_packages(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl:1", "psys")
    assert [z.domain for z in discover_zones(fake.root)] == ["psys"]


def test_mmio_zone_duplicating_msr_package_is_read_once_from_msr(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    (fake.root / "intel-rapl-mmio").mkdir()
    fake.zone("intel-rapl-mmio:0", "package-0")
    fake.zone("intel-rapl:0", "package-0")
    zones = discover_zones(fake.root)
    assert [z.domain for z in zones] == ["package-0"]
    assert zones[0].path.name == "intel-rapl:0"
    meter = RaplMeter(root=fake.root, poll_interval_s=NO_POLL)
    meter.start()
    fake.set("intel-rapl:0", 1_000_000)
    fake.set("intel-rapl-mmio:0", 1_000_000)
    assert meter.stop().total_j == pytest.approx(1.0)


def test_mmio_only_package_is_used(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl-mmio:0", "package-0")
    zones = discover_zones(fake.root)
    assert [(z.domain, z.path.name) for z in zones] == [("package-0", "intel-rapl-mmio:0")]


def test_nested_subzones_are_found(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl:0", "package-0")
    fake.zone("intel-rapl:0/intel-rapl:0:2", "dram")
    assert [z.domain for z in discover_zones(fake.root)] == ["package-0", "dram-0"]


def test_single_wrap_during_short_measurement_is_corrected(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl:0", "package-0", energy_uj=9_999_900, max_range_uj=10_000_000)
    meter = RaplMeter(root=fake.root, poll_interval_s=NO_POLL)
    meter.start()
    fake.set("intel-rapl:0", 400_100)  # wrapped: 100 µJ to the top, then 400 100 µJ
    assert meter.stop().joules["package-0"] == pytest.approx(0.4002)


def test_several_wraps_during_long_measurement_are_caught_by_polling(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    max_range = 4_000_000  # 4 J: at 20 W the counter wraps every 200 ms
    fake.zone("intel-rapl:0", "package-0", max_range_uj=max_range)
    meter = RaplMeter(root=fake.root)  # automatic poll interval
    assert meter.poll_interval_s is not None and meter.poll_interval_s < 0.2
    with PowerWriter(fake, {"intel-rapl:0": 20.0}, max_range_uj=max_range):
        time.sleep(0.02)
        meter.start()
        time.sleep(1.0)
        r = meter.stop()
    expected = 20.0 * r.wall_s  # ~20 J = about 5 wraps; without polling at most one is seen
    assert r.joules["package-0"] == pytest.approx(expected, rel=0.1)


def test_poll_interval_is_a_quarter_of_the_fastest_wrap(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    d = fake.zone("intel-rapl:0", "package-0", max_range_uj=262_143_328_850)
    (d / "constraint_0_max_power_uw").write_text("200000000\n")  # 200 W -> bound 300 W
    zones = discover_zones(fake.root)
    assert poll_interval_for(zones) == pytest.approx(10.0)  # 218 s capped at 10 s
    fake.zone("intel-rapl:1", "package-1", max_range_uj=60_000_000)  # 60 J at 1 kW = 60 ms
    assert poll_interval_for(discover_zones(fake.root)) == pytest.approx(0.015)


def test_unreadable_energy_file_gives_meter_error_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = one_socket(tmp_path)
    real_read_text = Path.read_text

    def deny(self: Path, *args: object, **kwargs: object) -> str:
        """Path.read_text that refuses energy_uj files like a non-root user."""
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(MeterError) as info:
        RaplMeter(root=fake.root)
    message = str(info.value)
    assert "permission denied" in message and "energy_uj" in message
    assert "root" in message and "chmod a+r" in message and "udev" in message
    assert PERMISSION_FIX in message
    assert "\n" not in message


def test_missing_max_file_works_until_a_wrap_then_refuses(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.zone("intel-rapl:0", "package-0", energy_uj=5_000, max_range_uj=None)
    meter = RaplMeter(root=fake.root, poll_interval_s=NO_POLL)
    meter.start()
    fake.set("intel-rapl:0", 1_005_000)
    assert meter.stop().total_j == pytest.approx(1.0)
    meter.start()
    fake.set("intel-rapl:0", 10)  # a wrap we cannot size
    with pytest.raises(MeterError, match="max_energy_range_uj"):
        meter.stop()


def test_missing_root_and_empty_root(tmp_path: Path) -> None:
    with pytest.raises(MeterError, match="no powercap interface"):
        RaplMeter(root=tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeterError, match="no package or psys zone"):
        RaplMeter(root=tmp_path / "empty")


def test_environment_variable_selects_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = one_socket(tmp_path)
    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(fake.root))
    meter = get_meter("rapl")
    try:
        assert meter.info.domains == ("package-0", "dram-0")
    finally:
        meter.close()


def test_explicit_rapl_never_falls_back_but_auto_announces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(tmp_path / "absent"))
    monkeypatch.setenv("GREENOPT_PERF", str(tmp_path / "no-perf-here"))
    with pytest.raises(MeterError, match="rapl"):
        get_meter("rapl")
    messages: list[str] = []
    meter = get_meter("auto", announce=messages.append)
    assert meter.info.name == "estimate"  # a readable GPU is announced, never added
    assert any("rapl" in m for m in messages)
    assert any("using meter estimate" in m for m in messages)
