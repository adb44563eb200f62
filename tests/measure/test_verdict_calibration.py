"""The energy gate and benchmarks/verdict_calibration.py, which feeds it simulated samples."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from greenopt.optimizer.validation import MIN_EPSILON, energy_rule

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "verdict_calibration.py"
_SPEC = importlib.util.spec_from_file_location("verdict_calibration", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
vc = importlib.util.module_from_spec(_SPEC)
sys.modules["verdict_calibration"] = vc  # its dataclass looks its module up there
_SPEC.loader.exec_module(vc)


def test_gate_uses_the_larger_of_the_noise_and_two_percent() -> None:
    assert energy_rule(0.97, 0.0) == (MIN_EPSILON, True)
    assert energy_rule(0.98, 0.0) == (MIN_EPSILON, False)  # strictly below 1 - ε
    assert energy_rule(0.93, 0.05) == (0.05, True)
    assert energy_rule(0.96, 0.05) == (0.05, False)


def test_simulation_separates_no_saving_from_a_large_saving() -> None:
    """With little noise and enough samples the gate rejects a candidate that saves
    nothing and accepts one that saves 10% (the rates are the benchmark's output,
    deterministic for a seed)."""
    cell = vc.simulate(samples=10, sigma=0.01, shape="normal", trials=20, seed=0)
    assert cell.false_accept == 0.0
    assert cell.accept_10pct == 1.0
    assert 0.0 < cell.coverage <= 1.0
    noisy = vc.simulate(samples=10, sigma=0.2, shape="t3", trials=20, seed=0)
    assert noisy.accept_10pct < 1.0  # at 20% noise a 10% saving is not always found


def test_main_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "cal.json"
    assert vc.main(["--quick", "--trials", "5", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["trials"] == 5 and len(document["cells"]) == 2
