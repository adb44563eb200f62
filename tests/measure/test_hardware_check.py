"""benchmarks/hardware_check.sh runs end to end on a machine without energy counters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "hardware_check.sh"


def test_hardware_check_writes_every_report(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "GREENOPT_POWERCAP_ROOT": str(tmp_path / "no")}
    out = tmp_path / "report"
    # a relative OUTDIR is the caller's, although the script works from the repository
    proc = subprocess.run(
        ["bash", str(SCRIPT), "report"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert {"machine.txt", "meters.txt", "nvml_validation.json", "meter_overhead.json"} <= names
    meters = (out / "meters.txt").read_text()
    assert "estimate  -> estimate (estimated)" in meters and "rapl      unavailable" in meters
    measured = json.loads((out / "measure.json").read_text())
    assert measured["meter"]["name"] in ("estimate", "perf", "rapl")
    if "nvml      unavailable" in meters:  # no GPU here: nothing validated, and said so
        assert json.loads((out / "nvml_validation.json").read_text())["available"] is False
