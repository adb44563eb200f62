"""Adversarial workloads in the measurement child and the equivalence-check worker (hunt20).

Processes the workload leaves running are killed with its child; a fork that comes back
into the child's command loop does not answer; calls raising `BaseException` subclasses
and exceptions whose message cannot be shown are named; replaced clocks do not change
what the meter reads; threads and atexit handlers left behind do not hold up the answer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cli_run import assert_input_error, run

from greenopt.errors import WorkloadError
from greenopt.measure.runner import ChildCrashed, RunOptions, measure
from greenopt.measure.workload import Workload
from greenopt.optimizer.executor import ChildLimits, run_child

QUICK = RunOptions(samples=2, min_sample_s=0.01, timeout_s=20, idle_baseline=False)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _gone(pid: int) -> bool:
    """Whether `pid` has ended, waiting a little for the kill to land."""
    for _ in range(100):
        if not _alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, 9)  # do not leave it behind either way
    return False


def _leaky_setup(pid_file: Path) -> str:
    return (
        "import subprocess\n"
        "_p = subprocess.Popen(['sleep', '1000'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(_p.pid))\n"
    )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_measure_kills_a_process_the_setup_left_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    measure(Workload(setup=_leaky_setup(pid_file), calls=("1",)), "estimate", QUICK)
    assert _gone(int(pid_file.read_text()))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_worker_kills_a_process_the_setup_left_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    wl = Workload(setup=_leaky_setup(pid_file), calls=("1",))
    out = run_child("outputs", {"workload": wl}, ChildLimits(20, 2048))
    assert out.ok, out.message
    assert _gone(int(pid_file.read_text()))


def test_a_fork_in_setup_that_carries_on_does_not_answer_for_the_child() -> None:
    # both copies used to answer `prepare`; the second answer was read as calibrate's (KeyError)
    m = measure(
        Workload(setup="import os; os.fork()", calls=("sum(range(100))",)), "estimate", QUICK
    )
    assert m.samples == 2


@pytest.mark.parametrize(
    ("setup", "kind"),
    [
        ("def f():\n    raise KeyboardInterrupt('k')", "KeyboardInterrupt: k"),
        ("def f():\n    raise GeneratorExit('g')", "GeneratorExit: g"),
        ("class B(BaseException): pass\ndef f():\n    raise B('b')", "B: b"),
    ],
)
def test_base_exceptions_raised_by_a_call_name_the_call(setup: str, kind: str) -> None:
    with pytest.raises(WorkloadError) as info:
        measure(Workload(setup=setup, calls=("f()",)), "estimate", QUICK)
    assert str(info.value) == f"call 'f()' raised {kind}"


def test_an_exception_whose_message_cannot_be_shown_still_names_the_call() -> None:
    setup = "class E(Exception):\n    def __str__(self):\n        return 1 / 0\n"
    with pytest.raises(WorkloadError, match=r"^call 'f\(\)' raised E: <exception str\(\) failed>"):
        measure(
            Workload(setup=setup + "def f():\n    raise E()", calls=("f()",)), "estimate", QUICK
        )
    with pytest.raises(WorkloadError, match=r"^call 'f\(\)' raised ValueError: <exception"):
        measure(
            Workload(setup="def f():\n    raise ValueError(10**5000)", calls=("f()",)),
            "estimate",
            QUICK,
        )
    with pytest.raises(WorkloadError, match=r"^setup raised E: <exception str\(\) failed>"):
        measure(Workload(setup=setup + "raise E()", calls=("1",)), "estimate", QUICK)


def test_replaced_clocks_do_not_change_what_the_estimate_meter_reads() -> None:
    wl = Workload(
        setup="import time\ntime.process_time = lambda: 0.0\ntime.perf_counter = lambda: 0.0",
        calls=("sum(range(2000))",),
    )
    # the calibration looped until the timeout; process_time = 0 made every sample 0 CPU-s
    m = measure(wl, "estimate", RunOptions(samples=2, min_sample_s=0.01, timeout_s=5))
    assert all(c > 0 for c in m.cpu_time_s) and all(t > 0 for t in m.time_s)


def test_hard_exit_zero_says_the_child_exited_before_answering() -> None:
    with pytest.raises(ChildCrashed, match="status 0 before answering"):
        measure(Workload(setup="import os", calls=("os._exit(0)",)), "estimate", QUICK)


def test_worker_answers_despite_a_thread_and_an_atexit_handler_that_never_end() -> None:
    setup = (
        "import atexit, threading, time\n"
        "threading.Thread(target=time.sleep, args=(1000,)).start()\n"
        "atexit.register(time.sleep, 1000)\n"
    )
    out = run_child("outputs", {"workload": Workload(setup=setup, calls=("1",))}, ChildLimits(8))
    assert out.ok, out.message  # was "timed out": the worker waited for them at exit


def test_cli_keyboard_interrupt_in_a_call_is_one_clear_line(tmp_path: Path) -> None:
    args = ["measure", "--no-store", "--meter", "estimate", "--samples", "2"]
    args += ["--min-sample-s", "0.01", "--timeout", "20"]
    proc = run([*args, "--setup", "def f():\n raise KeyboardInterrupt", "--call", "f()"], tmp_path)
    assert_input_error(proc)
    assert "call 'f()' raised KeyboardInterrupt" in proc.stderr


def test_a_crash_is_noticed_while_a_forked_process_holds_the_pipe_open() -> None:
    setup = "import os, time\nif os.fork() == 0:\n    time.sleep(30)\n    os._exit(0)\n"
    wl = Workload(setup=setup, calls=("os.kill(os.getpid(), 11)",))
    # was "timed out": no end of file on the answer pipe while the fork lives
    with pytest.raises(ChildCrashed, match=r"crashed with SIGSEGV$"):
        measure(wl, "estimate", RunOptions(samples=2, min_sample_s=0.01, timeout_s=10))


def test_segfault_message_is_not_faulthandlers_module_list() -> None:
    wl = Workload(setup="import ctypes", calls=("ctypes.string_at(0)",))
    with pytest.raises(ChildCrashed) as info:
        measure(wl, "estimate", QUICK)
    assert str(info.value) == "child process crashed with SIGSEGV"


def test_setup_or_call_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="setup is not valid UTF-8"):
        Workload(setup="x = '\udcff'", calls=("x",))
    with pytest.raises(WorkloadError, match="contains a null byte"):
        Workload(calls=("x\0",))
    args = ["measure", "--no-store", "--meter", "estimate", "--samples", "2"]
    proc = run([*args, "--setup", "x = '\udcff'", "--call", "len(x)"], tmp_path)
    assert_input_error(proc)  # was an internal error (UnicodeEncodeError)
    assert "setup is not valid UTF-8" in proc.stderr


def test_an_exception_without_a_message_is_named_without_a_dangling_colon() -> None:
    with pytest.raises(WorkloadError) as info:
        measure(Workload(setup="raise ValueError()", calls=("1",)), "estimate", QUICK)
    assert str(info.value).endswith("setup raised ValueError"), str(info.value)
