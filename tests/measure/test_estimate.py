"""The estimate meter's power model: TDP table matching, defaults, and the meter itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.measure.estimate import (
    DEFAULT_MAX_W_PER_THREAD,
    DEFAULT_MIN_W_PER_THREAD,
    IDLE_FRACTION,
    EstimateMeter,
    PowerModel,
    load_tdp_table,
    match_cpu,
    power_model_for,
)
from greenopt.measure.machine import CpuInfo, read_cpuinfo


@pytest.mark.parametrize(
    ("model_name", "expected"),
    [
        ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "Intel Xeon Gold 6248"),
        ("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "Intel Xeon Gold 6248R"),
        ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763"),
        ("Intel(R) Core(TM) i7-12700K", "Intel Core i7-12700K"),
        ("Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", "Intel Xeon E5-2620 v3"),
        ("AMD Ryzen 9 5950X 16-Core Processor", "AMD Ryzen 9 5950X"),
        ("Intel(R) Xeon(R) Processor", None),
        ("Intel(R) Xeon(R) Gold 62480 CPU", None),
    ],
)
def test_cpu_names_match_whole_words(model_name: str, expected: str | None) -> None:
    spec = match_cpu(model_name, load_tdp_table())
    assert (spec.model if spec else None) == expected


def test_table_states_its_source_and_has_sane_rows() -> None:
    table = load_tdp_table()
    assert len(table) > 50
    assert all(5 <= s.tdp_w <= 500 and 1 <= s.cores <= 256 for s in table)
    text = Path(__file__).parents[2].joinpath("greenopt/measure/data/cpu_tdp.csv").read_text()
    assert "Intel ARK" in text and "AMD" in text


def test_model_from_tdp_splits_idle_and_active_power() -> None:
    cpu = CpuInfo(
        model="Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
        logical_cpus=80,
        sockets=2,
        cores_per_socket=20,
    )
    model = power_model_for(cpu)
    assert model.active_w_per_cpu_s == pytest.approx((1 - IDLE_FRACTION) * 150 / 20)
    assert model.static_w == pytest.approx(IDLE_FRACTION * 150 * 2)
    # one package fully busy (20 cores) draws its TDP plus the other socket's idle share
    assert model.energy_j(cpu_s=20.0, wall_s=1.0) == pytest.approx(150 + IDLE_FRACTION * 150)
    assert "6248" in model.source


def test_unknown_cpu_uses_the_documented_per_thread_default() -> None:
    cpu = CpuInfo(model="Mystery CPU 9000", logical_cpus=4, sockets=1, cores_per_socket=4)
    model = power_model_for(cpu)
    assert model.static_w == pytest.approx(DEFAULT_MIN_W_PER_THREAD * 4)
    assert model.active_w_per_cpu_s == pytest.approx(
        DEFAULT_MAX_W_PER_THREAD - DEFAULT_MIN_W_PER_THREAD
    )
    assert "default" in model.source


def test_energy_is_linear_in_cpu_and_wall_time() -> None:
    model = PowerModel(active_w_per_cpu_s=10.0, static_w=2.0, source="test")
    assert model.energy_j(0.5, 1.0) == pytest.approx(7.0)
    assert model.energy_j(0.0, 0.0) == 0.0
    assert model.energy_j(-1.0, 1.0) == pytest.approx(
        2.0
    )  # clock noise never gives negative joules


def test_meter_charges_cpu_time_of_the_timed_region() -> None:
    model = PowerModel(active_w_per_cpu_s=10.0, static_w=1.0, source="test")
    meter = EstimateMeter(model=model)
    assert meter.info.name == "estimate" and meter.info.measured is False
    meter.start()
    total = 0
    for i in range(300_000):
        total += i * i
    busy = meter.stop()
    assert busy.cpu_s is not None and busy.cpu_s > 0
    assert busy.joules["cpu"] == pytest.approx(model.energy_j(busy.cpu_s, busy.wall_s))
    meter.start()
    idle = meter.stop()
    assert idle.cpu_s is not None and idle.cpu_s < busy.cpu_s


def test_cpuinfo_parsing_counts_sockets_and_cores(tmp_path: Path) -> None:
    lines = []
    for cpu in range(8):
        lines += [
            f"processor\t: {cpu}",
            "model name\t: AMD EPYC 7763 64-Core Processor",
            f"physical id\t: {cpu // 4}",
            "cpu cores\t: 4",
            "",
        ]
    path = tmp_path / "cpuinfo"
    path.write_text("\n".join(lines))
    info = read_cpuinfo(path)
    assert info == CpuInfo(
        model="AMD EPYC 7763 64-Core Processor", logical_cpus=8, sockets=2, cores_per_socket=4
    )
    assert info.physical_cores == 8


def test_a_vm_is_charged_only_its_share_of_the_package_idle_power() -> None:
    vm = CpuInfo(
        model="Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz",
        logical_cpus=2,
        sockets=1,
        cores_per_socket=2,
    )
    model = power_model_for(vm)
    assert model.static_w == pytest.approx(IDLE_FRACTION * 270 * 2 / 40)
    assert model.active_w_per_cpu_s == pytest.approx((1 - IDLE_FRACTION) * 270 / 40)
    assert "2/40 cores visible" in model.source
