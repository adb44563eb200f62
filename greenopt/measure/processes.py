"""Process plumbing shared by the measurement runner and the equivalence executor.

Standard library only: the children import it before any workload code runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

#: bytes of a child's stderr kept (its end: crash lines and faulthandler's dump)
STDERR_KEEP = 64 * 1024


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


def oom_kills(vmstat: str = "/proc/vmstat") -> int | None:
    """How many processes the kernel's OOM killer has killed since boot (None where the
    counter cannot be read): a child killed by SIGKILL while this count did not grow
    was killed by something else, and must not be reported as out of memory."""
    try:
        with open(vmstat, encoding="ascii") as fh:
            for line in fh:
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        return None
    return None


def sigkill_cause(before: int | None, after: int | None) -> str:
    """Why a child died of SIGKILL, from the OOM-kill counts around its life:
    "oom" (the counter rose), "other" (it did not) or "unknown" (no counter)."""
    if before is None or after is None:
        return "unknown"
    return "oom" if after > before else "other"


def exit_now(status: int) -> None:
    """Exit a child that has answered without waiting for the workload's threads or
    atexit handlers (a non-daemon thread or a hanging handler would hold it up)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # closed or replaced by the workload
            pass
    os._exit(status)


class StderrTail:
    """A pipe for a child's stderr, drained by a thread that keeps only its last `keep` bytes.

    A file or an unread pipe would not do: a workload printing in a loop until its
    timeout would fill the disk, or block on a full pipe. Pass `write_fd` as the child's
    stderr, then call `started` once it is spawned (the thread starts there, so that no
    thread of ours runs while `subprocess` forks); `text` gives what was kept."""

    def __init__(self, keep: int = STDERR_KEEP) -> None:
        """Open the pipe."""
        self.keep = keep
        self._read_fd, self.write_fd = os.pipe()
        self._kept = bytearray()
        self._thread: threading.Thread | None = None

    def _drain(self, read_fd: int) -> None:
        """Read until every writer has gone, keeping the end; the thread owns `read_fd`."""
        try:
            while True:
                try:
                    chunk = os.read(read_fd, 65536)
                except InterruptedError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self._kept += chunk
                if len(self._kept) > 2 * self.keep:
                    del self._kept[: -self.keep]
        finally:
            os.close(read_fd)

    def started(self) -> None:
        """Close this process's copy of the write end (the child has its own), start draining."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._drain, args=(self._read_fd,), name="greenopt-stderr", daemon=True
            )
            self._thread.start()

    def text(self, wait_s: float = 2.0) -> str:
        """The kept end of the child's stderr, after waiting up to `wait_s` for its end of
        file (a process the workload moved out of its group may hold the pipe open)."""
        self.started()
        assert self._thread is not None
        self._thread.join(wait_s)
        return bytes(self._kept[-self.keep :]).decode("utf-8", "replace")
