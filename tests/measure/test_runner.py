"""The child-process runner: results, seeding, failures, limits, mutation, interleaving."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from greenopt.errors import InputError, WorkloadError
from greenopt.measure.runner import (
    ESTIMATE_MIN_SAMPLE_S,
    HARDWARE_MIN_SAMPLE_S,
    ChildCrashed,
    ChildOutOfMemory,
    ChildTimeout,
    RunOptions,
    aa_noise,
    compare,
    compare_many,
    measure,
)
from greenopt.measure.script import script_workload
from greenopt.measure.workload import Workload

QUICK = RunOptions(samples=3, min_sample_s=0.03, timeout_s=60)


def test_measure_returns_per_call_samples_with_cold_idle_and_ci() -> None:
    wl = Workload(
        setup="import numpy as np; a = np.random.rand(5000)", calls=("a.sum()", "a.max()")
    )
    m = measure(wl, "estimate", QUICK)
    assert m.meter.name == "estimate" and m.meter.measured is False
    assert m.samples == 3 and len(m.time_s) == 3 and len(m.cpu_time_s) == 3
    assert m.calls_per_sample >= 1
    assert all(e > 0 for e in m.energy_j) and all(t > 0 for t in m.time_s)
    lo, hi = m.ci95
    assert lo <= m.energy_median_j <= hi
    assert m.idle_power_w is not None and m.idle_power_w > 0
    assert len(m.idle_power_samples_w) == 3
    assert m.energy_net_median_j < m.energy_median_j
    assert m.cold_energy_j is not None and m.cold_time_s is not None and m.cold_time_s > 0


def test_progress_is_reported_per_sample() -> None:
    seen: list[tuple[int, int]] = []
    measure(
        Workload(calls=("sum(range(100))",)),
        "estimate",
        QUICK,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_no_idle_baseline_means_net_equals_gross() -> None:
    m = measure(
        Workload(calls=("sum(range(100))",)),
        "estimate",
        RunOptions(samples=3, min_sample_s=0.02, idle_baseline=False),
    )
    assert m.idle_power_w is None and m.net_energy_j == m.energy_j


def test_seeding_is_identical_across_children(tmp_path: Path) -> None:
    out = tmp_path / "draws.txt"
    setup = (
        "import random, numpy as np\n"
        f"with open({str(out)!r}, 'a') as fh:\n"
        "    fh.write(f'{random.random()!r} {np.random.rand()!r} {np.random.default_rng().random()!r}\\n')\n"
    )
    a = Workload(setup=setup, calls=("1 + 1",), label="a")
    b = Workload(setup=setup, calls=("2 + 2",), label="b")
    compare(a, b, "estimate", RunOptions(samples=2, min_sample_s=0.01, idle_baseline=False))
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    other = tmp_path / "other.txt"
    measure(
        Workload(setup=setup.replace(str(out), str(other)), calls=("0",), seed=1),
        "estimate",
        RunOptions(samples=1, min_sample_s=0.01, idle_baseline=False),
    )
    assert other.read_text().splitlines()[0] != lines[0]  # another seed, other draws


def test_in_place_mutation_is_visible_to_later_calls() -> None:
    wl = Workload(
        setup="import numpy as np; a = np.zeros(3); seen = []",
        calls=("a.__iadd__(1)", "seen.append(a[0])", "assert seen[-1] >= 1 and len(seen) == a[0]"),
    )
    m = measure(wl, "estimate", QUICK)
    assert m.samples == 3


def test_call_raising_is_a_workload_error_with_type_and_message() -> None:
    with pytest.raises(WorkloadError) as info:
        measure(Workload(setup="x = 0", calls=("1 / x",)), "estimate", QUICK)
    message = str(info.value)
    assert "'1 / x'" in message and "ZeroDivisionError" in message and "division by zero" in message
    assert "\n" not in message


def test_setup_raising_is_a_workload_error() -> None:
    with pytest.raises(WorkloadError, match="setup raised KeyError"):
        measure(Workload(setup="{}['missing']", calls=("1",)), "estimate", QUICK)


def test_crash_is_reported_as_such() -> None:
    wl = Workload(setup="import os, signal", calls=("os.kill(os.getpid(), signal.SIGSEGV)",))
    with pytest.raises(ChildCrashed, match="SIGSEGV"):
        measure(wl, "estimate", QUICK)


def test_hard_exit_is_reported_with_its_status() -> None:
    wl = Workload(setup="import os", calls=("os._exit(7)",))
    with pytest.raises(ChildCrashed, match="status 7"):
        measure(wl, "estimate", QUICK)


def test_timeout_kills_the_child() -> None:
    wl = Workload(setup="import time", calls=("time.sleep(30)",))
    with pytest.raises(ChildTimeout, match="timed out after 1 s"):
        measure(wl, "estimate", RunOptions(samples=3, min_sample_s=0.02, timeout_s=1.0))


def test_memory_limit_stops_a_runaway_allocation() -> None:
    wl = Workload(calls=("bytearray(3 * 1024 ** 3)",))
    with pytest.raises(ChildOutOfMemory) as info:
        measure(wl, "estimate", RunOptions(samples=3, min_sample_s=0.02, memory_mb=1024))
    message = str(info.value)
    assert (
        "bytearray" in message
        and "MemoryError" in message
        and "out of memory (limit 1024 MB" in message
    )


def test_compare_interleaves_and_ranks_a_heavier_variant_higher() -> None:
    light = Workload(calls=("sum(range(2000))",), label="light")
    heavy = Workload(calls=("sum(range(40000))",), label="heavy")
    c = compare(light, heavy, "estimate", RunOptions(samples=4, min_sample_s=0.03))
    assert c.a.samples == c.b.samples == 4
    assert c.paired
    assert c.ci95[0] <= c.ratio <= c.ci95[1]
    assert c.ratio > 2  # 20x the work
    assert c.a.label == "light" and c.b.label == "heavy"


def test_compare_many_shares_one_original_and_ranks_the_candidates() -> None:
    base = Workload(calls=("sum(range(4000))",), label="base")
    same = Workload(calls=("sum(range(4000))",), label="same")
    heavy = Workload(calls=("sum(range(40000))",), label="heavy")
    light = Workload(calls=("sum(range(400))",), label="light")
    done: list[tuple[int, int]] = []
    cs = compare_many(
        base,
        [same, heavy, light],
        "estimate",
        RunOptions(samples=4, min_sample_s=0.03, idle_baseline=False),
        lambda d, t: done.append((d, t)),
    )
    assert [c.b.label for c in cs] == ["same", "heavy", "light"]
    assert all(c.a.energy_j == cs[0].a.energy_j for c in cs)  # one original, sampled once
    assert all(c.paired and c.b.samples == 4 for c in cs)
    assert cs[1].ratio > 3 > cs[0].ratio > 1 / 3 > cs[2].ratio  # 10x more / 10x less work
    assert done[-1] == (16, 16)  # 4 workloads x 4 samples


def test_compare_many_needs_a_candidate_and_fails_as_a_whole() -> None:
    with pytest.raises(ValueError):
        compare_many(Workload(calls=("1",)), [], "estimate", QUICK)
    with pytest.raises(WorkloadError):
        compare_many(
            Workload(calls=("1",)),
            [Workload(calls=("1",)), Workload(calls=("1/0",))],
            "estimate",
            QUICK,
        )


def test_aa_noise_is_a_small_non_negative_number() -> None:
    noise = aa_noise(
        Workload(calls=("sum(range(5000))",)), "estimate", RunOptions(samples=4, min_sample_s=0.03)
    )
    assert math.isfinite(noise) and 0 <= noise < 1


def test_script_mode_runs_main_with_argv(tmp_path: Path) -> None:
    out = tmp_path / "argv.txt"
    script = tmp_path / "job.py"
    script.write_text(
        "import sys\n"
        "if __name__ == '__main__':\n"
        f"    open({str(out)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
    )
    m = measure(
        script_workload(str(script), ["--n", "3"]),
        "estimate",
        RunOptions(samples=2, min_sample_s=0.01),
    )
    lines = out.read_text().splitlines()
    assert lines and set(lines) == {"--n 3"}
    assert len(lines) >= 1 + 2 * m.calls_per_sample  # cold + every sampled run


def test_script_exiting_nonzero_is_a_workload_error(tmp_path: Path) -> None:
    script = tmp_path / "fails.py"
    script.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(WorkloadError, match="fails.py: script exited with status 3"):
        measure(script_workload(str(script)), "estimate", QUICK)
    ok = tmp_path / "ok.py"
    ok.write_text("import sys\nsys.exit(0)\n")
    assert measure(script_workload(str(ok)), "estimate", QUICK).samples == 3


def test_bad_options_and_meter_names_are_input_errors() -> None:
    wl = Workload(calls=("1",))
    with pytest.raises(InputError):
        measure(wl, "estimate", RunOptions(samples=0))
    with pytest.raises(InputError):
        measure(wl, "estimate", RunOptions(timeout_s=0))
    with pytest.raises(InputError, match="unknown meter"):
        measure(wl, "joulemeter", QUICK)
    # the command line's floor: below it every child would fail before running anything
    with pytest.raises(InputError, match="at least 256 MB"):
        measure(wl, "estimate", RunOptions(memory_mb=128))


def test_samples_spread_over_several_processes(tmp_path: Path) -> None:
    marker = tmp_path / "pids.txt"
    setup = f"import os\nopen({str(marker)!r}, 'a').write(f'{{os.getpid()}}\\n')"
    m = measure(
        Workload(setup=setup, calls=("sum(range(200))",)),
        "estimate",
        RunOptions(samples=5, min_sample_s=0.02, processes=3),
    )
    assert m.samples == 5 and m.cold_energy_j is not None
    assert len(set(marker.read_text().split())) == 3  # three fresh children
    assert len(m.idle_power_samples_w) == 3
    c = compare(
        Workload(calls=("sum(range(200))",)),
        Workload(calls=("sum(range(400))",)),
        "estimate",
        RunOptions(samples=4, min_sample_s=0.02, processes=2, idle_baseline=False),
    )
    assert c.a.samples == c.b.samples == 4


def test_split_samples() -> None:
    from greenopt.measure.runner import split_samples

    assert split_samples(10, 1) == [10]
    assert split_samples(10, 3) == [4, 3, 3]
    assert split_samples(2, 5) == [1, 1]


def test_multi_line_and_huge_error_messages_become_one_short_line() -> None:
    wl = Workload(setup="raise ValueError('first line\\nsecond line ' + 'x' * 5000)", calls=("1",))
    with pytest.raises(WorkloadError) as info:
        measure(wl, "estimate", QUICK)
    message = str(info.value)
    assert "\n" not in message and "first line second line" in message and len(message) <= 500


def test_address_space_limit_allows_per_cpu_thread_reservations() -> None:
    from greenopt.measure.child import THREAD_ALLOWANCE_MB, address_space_limit

    assert address_space_limit(1024, cpus=2) == (1024 + 2 * THREAD_ALLOWANCE_MB) * 2**20
    assert address_space_limit(1024, cpus=128) > 128 * 64 * 2**20  # 128 malloc arenas fit


def test_any_hardware_counter_gets_the_hardware_sample_length() -> None:
    from greenopt.measure.meter import MeterInfo

    options = RunOptions()
    estimate = MeterInfo("estimate", False, ("cpu",))
    gpu_beside_estimate = MeterInfo("nvml+estimate", False, ("gpu-0", "cpu"))
    rapl = MeterInfo("rapl", True, ("package-0",))
    assert options.sample_seconds(estimate) == ESTIMATE_MIN_SAMPLE_S
    # the GPU counter updates far less often than CPU time: its samples must be long
    assert options.sample_seconds(gpu_beside_estimate) == HARDWARE_MIN_SAMPLE_S
    assert options.sample_seconds(rapl) == HARDWARE_MIN_SAMPLE_S
    assert RunOptions(min_sample_s=0.3).sample_seconds(gpu_beside_estimate) == 0.3
