"""The SQLite measurement store: record, query, cache look-up, round trip, schema guard."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from greenopt.errors import InputError
from greenopt.measure.machine import MachineFingerprint
from greenopt.measure.meter import MeterInfo
from greenopt.measure.results import Measurement
from greenopt.measure.workload import Workload
from greenopt.store import SCHEMA_VERSION, Store, hash_code

MACHINE = MachineFingerprint(
    cpu_model="Test CPU",
    logical_cpus=4,
    physical_cores=2,
    sockets=1,
    governor="performance",
    system="Linux",
    arch="x86_64",
    python="3.12.0",
)


def sample_measurement(scale: float = 1.0) -> Measurement:
    """A four-sample RAPL measurement scaled by `scale`."""
    return Measurement(
        meter=MeterInfo("rapl", True, ("package-0", "dram-0")),
        energy_j=[1.0 * scale, 1.1 * scale, 0.9 * scale, 1.05 * scale],
        time_s=[0.1, 0.11, 0.09, 0.1],
        calls_per_sample=7,
        idle_power_w=2.0,
        cold_energy_j=5.0,
        cold_time_s=0.4,
        label="v1",
    )


def test_record_and_query_round_trip(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text("def f(): pass\n")
    wl = Workload(setup="x = 1", calls=("f()",), module_path=str(module))
    with Store(tmp_path / "s.sqlite") as store:
        assert store.schema_version == SCHEMA_VERSION
        row_id = store.record_measurement(
            sample_measurement(), workload=wl, machine=MACHINE, extra={"pass": "jit"}
        )
        rows = store.measurements(workload_hash=wl.digest())
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == row_id
    assert row["code_hash"] == hash_code(module.read_text())
    assert (
        row["meter"] == "rapl"
        and row["measured"] is True
        and row["domains"] == ["package-0", "dram-0"]
    )
    assert row["cpu_model"] == "Test CPU" and row["governor"] == "performance"
    assert row["machine_id"] == MACHINE.machine_id
    assert row["samples"] == 4 and row["calls_per_sample"] == 7
    assert row["energy_j"] == pytest.approx(1.025)
    assert row["extra"] == {"pass": "jit"} and row["workload"]["calls"] == ["f()"]
    m = Store.to_measurement(row)
    assert m.energy_j == sample_measurement().energy_j and m.meter == sample_measurement().meter
    assert m.energy_net_median_j == pytest.approx(sample_measurement().energy_net_median_j)


def test_filters_and_newest_first(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        store.record_measurement(
            sample_measurement(1.0), code_hash="c1", workload_hash="w", machine=MACHINE
        )
        store.record_measurement(
            sample_measurement(2.0), code_hash="c1", workload_hash="w", machine=MACHINE
        )
        store.record_measurement(
            sample_measurement(3.0),
            code_hash="c2",
            workload_hash="w",
            machine=MACHINE,
            kind="train",
        )
        assert [r["energy_j"] for r in store.measurements(code_hash="c1")] == pytest.approx(
            [2.05, 1.025]
        )
        assert len(store.measurements(kind="train")) == 1
        assert len(store.measurements(meter="estimate")) == 0
        assert len(store.measurements(limit=2)) == 2
        hit = store.get_cached("c1", "w", "rapl", machine_id=MACHINE.machine_id)
        assert hit is not None and hit["energy_j"] == pytest.approx(2.05)
        assert store.get_cached("c1", "w", "rapl", machine_id="other-machine") is None
        assert store.get_cached("c1", "w", machine_id=MACHINE.machine_id, min_samples=5) is None
        assert store.get_cached("c9", "w", machine_id=MACHINE.machine_id) is None


def test_results_table(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        store.record_result("analysis", "file.py", {"opportunities": 3})
        assert store.results("analysis")[0]["data"] == {"opportunities": 3}
        assert store.results("analysis", key="other.py") == []


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    conn.close()
    with pytest.raises(InputError, match="newer"):
        Store(path)


def test_unopenable_path_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot open measurement store"):
        Store(blocker / "sub" / "s.sqlite")


def test_check_store_path_creates_nothing(tmp_path: Path) -> None:
    from greenopt.store import check_store_path

    target = tmp_path / "a" / "b" / "s.sqlite"
    check_store_path(target)
    assert not (tmp_path / "a").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError):
        check_store_path(blocker / "s.sqlite")
    with pytest.raises(InputError):
        check_store_path(tmp_path)  # a directory, not a file


def test_break_even_of_a_jit_like_candidate() -> None:
    from greenopt.measure.results import break_even_calls, cold_overhead_j

    original = sample_measurement()  # warm median 1.025 J, cold 5 J
    jit = Measurement(
        meter=original.meter,
        energy_j=[0.025] * 4,
        time_s=[0.01] * 4,
        calls_per_sample=100,
        cold_energy_j=100.025,  # 100 J of compilation
    )
    assert cold_overhead_j(jit) == pytest.approx(100.0)
    # (100 - 3.975) J extra up front, repaid at 1 J per call
    assert break_even_calls(original, jit) == pytest.approx(96.025)
    assert break_even_calls(jit, original) is None  # the original is not cheaper per call
    no_cold = Measurement(meter=original.meter, energy_j=[0.5], time_s=[0.1], calls_per_sample=1)
    assert break_even_calls(original, no_cold) is None


def test_record_comparison_links_both_rows(tmp_path: Path) -> None:
    from greenopt.measure.results import Comparison

    c = Comparison(a=sample_measurement(), b=sample_measurement(0.5), ratio=0.5, ci95=(0.45, 0.55))
    with Store(tmp_path / "s.sqlite") as store:
        id_a, id_b = store.record_comparison(
            c, code_hash_a="orig", code_hash_b="cand", machine=MACHINE
        )
        rows = {r["id"]: r for r in store.measurements(kind="compare")}
    assert rows[id_a]["extra"]["role"] == "a" and rows[id_b]["extra"]["pair"] == id_a
    assert rows[id_b]["extra"]["ratio"] == 0.5 and rows[id_b]["code_hash"] == "cand"
