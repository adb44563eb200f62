"""Child processes: outputs come back; crash, hang, out-of-memory become statuses, not failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from greenopt.measure.workload import Workload
from greenopt.optimizer.executor import ChildLimits, run_child
from greenopt.optimizer.snapshot import Raised
from greenopt.optimizer.tracing import profile

MODULE = """
import numpy as np

def scale(a, k):
    for i in range(len(a)):
        a[i] *= k

def total(a):
    return helper(a) + 0.0

def helper(a):
    return float(np.sum(a))

def never():
    return 1
"""


def _workload(tmp_path: Path, setup: str, *calls: str) -> Workload:
    mod = tmp_path / "mod.py"
    mod.write_text(MODULE)
    return Workload(setup=setup, calls=calls, module_path=str(mod))


def test_outputs_returns_raises_and_mutated_namespace(tmp_path: Path) -> None:
    wl = _workload(
        tmp_path, "import numpy as np\na = np.ones(4)", "scale(a, 3.0)", "total(a)", "1/0"
    )
    out = run_child("outputs", {"workload": wl}, ChildLimits(60, 2048))
    assert out.ok, out.message
    results = out.value["results"]
    assert results[0] is None and results[1] == 12.0
    assert results[2] == Raised("builtins.ZeroDivisionError", "division by zero")
    assert np.array_equal(out.value["namespace"]["a"], np.full(4, 3.0))
    assert "np" not in out.value["namespace"]  # modules are not data
    assert "scale" in out.value["module_names"]


def test_trace_reports_exercised_functions_per_call(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "import numpy as np\na = np.ones(1000)", "scale(a, 2.0)", "total(a)")
    prof = profile([wl], ChildLimits(60, 2048))
    (trace,) = prof.traces
    assert set(trace.per_call[0]) == {"scale"}
    assert set(trace.per_call[1]) == {"total", "helper"}
    assert set(prof.functions) == {"scale", "total", "helper"}
    assert "never" not in prof.shares
    assert trace.calls_exercising("helper") == [1]
    assert all(0 < s <= 1 for s in prof.shares.values())
    # workload sizes for the cost model, in the corpus convention
    expected = {"a": 1000, "a.shape[0]": 1000, "a.size": 1000}
    assert prof.sizes("scale") == expected and prof.sizes("helper") == expected


def test_trace_records_int_sizes_and_survives_odd_arguments(tmp_path: Path) -> None:
    """An int argument is a size; an object whose `.shape` raises is skipped, not fatal."""
    setup = (
        "import numpy as np\n"
        "class Odd:\n"
        "    @property\n"
        "    def shape(self):\n"
        "        raise RuntimeError('no shape')\n"
        "    def __len__(self):\n"
        "        return 0\n"
        "odd = Odd()\n"
        "a = np.ones((3, 4))"
    )
    wl = _workload(tmp_path, setup, "scale(odd, 2)", "scale(a, 5)")
    prof = profile([wl], ChildLimits(60, 2048))
    sizes = prof.sizes("scale")
    assert sizes["k"] == 5  # the larger of the two int arguments
    assert sizes["a.shape[1]"] == 4 and sizes["a.size"] == 12 and sizes["a"] == 3


def test_setup_error_is_reported_as_error(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "raise RuntimeError('no data')", "total(1)")
    out = run_child("outputs", {"workload": wl}, ChildLimits(60, 2048))
    assert out.status == "error" and "setup raised RuntimeError: no data" in out.message


def test_hang_is_killed_at_the_timeout(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "", "__import__('time').sleep(60)")
    out = run_child("outputs", {"workload": wl}, ChildLimits(1.5, 2048))
    assert out.status == "timeout" and "timed out after 1.5 s" in out.message


def test_crash_by_signal_and_by_exit(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "import os, signal", "os.kill(os.getpid(), signal.SIGSEGV)")
    out = run_child("outputs", {"workload": wl}, ChildLimits(60, 2048))
    assert out.status == "crash" and "SIGSEGV" in out.message
    wl = _workload(tmp_path, "import os", "os._exit(7)")
    out = run_child("outputs", {"workload": wl}, ChildLimits(60, 2048))
    assert out.status == "crash" and "code 7" in out.message


def test_memory_limit_gives_oom(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "import numpy as np", "np.ones(2 * 10**9 // 8)")
    out = run_child("outputs", {"workload": wl}, ChildLimits(60, 1024))
    assert out.status == "oom", out
