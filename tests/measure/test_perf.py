"""The perf meter against a fake `perf` executable that emulates `perf stat -x, -I`."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from greenopt.errors import MeterError
from greenopt.measure.meter import get_meter
from greenopt.measure.perf import PerfMeter, parse_line

FAKE_PERF = """\
import sys, time
args = sys.argv[1:]
event = args[args.index("-e") + 1]
WATTS = {"power/energy-pkg/": 8.0, "power/energy-ram/": 2.0}
MODE = %(mode)r
if MODE == "no-events":
    print("event syntax error: 'power/energy-pkg/'", file=sys.stderr)
    print("    \\\\___ unknown term 'energy-pkg' for pmu 'power'", file=sys.stderr)
    sys.exit(129)
events = event.split(",")
if "-I" not in args:  # availability probe
    for ev in events:
        if ev == "power/energy-ram/" and MODE == "pkg-only":
            print("<not supported>,Joules," + ev + ",0,100.00,,", file=sys.stderr)
        else:
            print("0.08,Joules," + ev + ",10000000,100.00,,", file=sys.stderr)
    sys.exit(0)
interval = int(args[args.index("-I") + 1]) / 1000
t0 = last = time.monotonic()
def emit(now):
    for ev in events:
        print(f"{now - t0:.6f},{WATTS[ev] * (now - last):.6f},Joules,{ev},100000,100.00,,", file=sys.stderr, flush=True)
try:
    while True:
        time.sleep(interval)
        now = time.monotonic(); emit(now); last = now
except KeyboardInterrupt:
    if MODE != "no-final":
        now = time.monotonic(); emit(now)
"""


def fake_perf(tmp_path: Path, mode: str) -> Path:
    """An executable fake perf in `tmp_path` behaving as `mode` says."""
    path = tmp_path / f"perf-{mode}"
    path.write_text(f"#!{sys.executable}\n" + FAKE_PERF % {"mode": mode})
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_parse_line_variants() -> None:
    line = parse_line("     1.000123,4.56,Joules,power/energy-pkg/,1000,100.00,,", interval=True)
    assert (
        line is not None
        and line.time_s == pytest.approx(1.000123)
        and line.value == pytest.approx(4.56)
    )
    assert line.event == "power/energy-pkg/"
    assert (
        parse_line("<not supported>,Joules,power/energy-ram/,0,100.00,,", interval=False).value
        is None
    )  # type: ignore[union-attr]
    assert parse_line("# started on Thu", interval=True) is None
    assert parse_line("", interval=False) is None


def test_perf_meter_reports_the_energy_of_the_interval_only(tmp_path: Path) -> None:
    meter = PerfMeter(binary=str(fake_perf(tmp_path, "both")))
    assert meter.info.name == "perf" and meter.info.measured
    assert meter.info.domains == ("package-all", "dram-all")
    meter.start()
    time.sleep(0.45)
    r = meter.stop()
    assert r.joules["package-all"] == pytest.approx(8.0 * r.wall_s, rel=0.15)
    assert r.joules["dram-all"] == pytest.approx(2.0 * r.wall_s, rel=0.15)


def test_missing_final_partial_interval_is_extrapolated(tmp_path: Path) -> None:
    meter = PerfMeter(binary=str(fake_perf(tmp_path, "no-final")))
    meter.start()
    time.sleep(0.45)
    r = meter.stop()
    assert r.joules["package-all"] == pytest.approx(8.0 * r.wall_s, rel=0.15)


def test_sample_shorter_than_one_interval_is_refused(tmp_path: Path) -> None:
    meter = PerfMeter(binary=str(fake_perf(tmp_path, "no-final")))
    meter.start()
    with pytest.raises(MeterError, match="longer samples"):
        meter.stop()


def test_missing_dram_event_is_left_out(tmp_path: Path) -> None:
    meter = PerfMeter(binary=str(fake_perf(tmp_path, "pkg-only")))
    assert meter.info.domains == ("package-all",)


def test_no_power_events_is_a_meter_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENOPT_PERF", str(fake_perf(tmp_path, "no-events")))
    with pytest.raises(MeterError, match="no power/energy-pkg/ event"):
        get_meter("perf")


def test_missing_perf_binary_is_a_meter_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENOPT_PERF", str(tmp_path / "nothing"))
    monkeypatch.setenv("PATH", os.defpath)
    with pytest.raises(MeterError, match="not installed"):
        get_meter("perf")


def test_lines_after_the_sample_are_not_counted(tmp_path: Path) -> None:
    """A perf that goes on counting after the SIGINT (until killed) adds nothing."""
    meter = PerfMeter(binary=str(fake_perf(tmp_path, "both")))
    lines = [
        f"{t:.6f},{8.0 * 0.1:.6f},Joules,power/energy-pkg/,100000,100.00,,\n"
        for t in (0.1, 0.2, 0.3, 0.4, 0.5)
    ]
    late = [
        f"{t:.6f},{8.0 * 0.1:.6f},Joules,power/energy-pkg/,100000,100.00,,\n"
        for t in (0.8, 0.9, 10.4)
    ]
    sample = meter.sum_lines(lines, wall_s=0.4)
    assert sample["package-all"] == pytest.approx(8.0 * 0.4)
    assert meter.sum_lines(lines + late, wall_s=0.4) == sample
