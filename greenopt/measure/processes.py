"""Process plumbing shared by the measurement runner and the equivalence executor.

Standard library only: the children import it before any workload code runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def wait_unreaped(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to `timeout` s for `proc` to exit without reaping it (True once it has exited).

    A zombie keeps its pid, and so its process-group id, from being reused: the group
    (what the workload started and left running) can then still be killed safely."""
    if not hasattr(os, "waitid"):  # macOS: reaped here, the group is left as before
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    pause = 0.001
    while proc.returncode is None:
        try:
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return True
        except ChildProcessError:  # reaped elsewhere
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True


def exit_now(status: int) -> None:
    """Exit a child that has answered without waiting for the workload's threads or
    atexit handlers (a non-daemon thread or a hanging handler would hold it up)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # closed or replaced by the workload
            pass
    os._exit(status)
