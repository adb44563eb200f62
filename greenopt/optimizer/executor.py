"""Run one task of workload code in a child process with a timeout and a memory limit.

The validator never executes user code in its own process (DESIGN §7): a crash,
hang, exception or out-of-memory in a variant must become a rejected variant, not
a crashed tool. A task (see `greenopt.optimizer.worker`) is sent to a fresh
`python -m greenopt.optimizer.worker` by pickle file and its answer comes back the
same way. The child runs in its own session, so a timeout kills it and everything
it started; `RLIMIT_AS` caps its address space.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from greenopt.measure.processes import StderrTail, oom_kills, sigkill_cause, wait_unreaped

#: what became of a child: "ok" (answer in `value`), "error" (the task reported a
#: failure of the workload code: `message`), or the ways a process can die
Status = Literal["ok", "error", "timeout", "oom", "crash"]

#: bytes of child stderr kept for the reason of a crash
_STDERR_TAIL = 4000


@dataclass(frozen=True)
class ChildLimits:
    """Resource limits of one child: wall-clock seconds and address space (None = unlimited)."""

    timeout_s: float = 600.0
    memory_mb: int | None = 4096


@dataclass
class ChildOutcome:
    """The result of a child task: its status, its answer (when ok) and a one-line reason."""

    status: Status
    value: Any = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the task ran to completion and returned an answer."""
        return self.status == "ok"


def _limit_memory(memory_mb: int | None) -> None:
    """In the child, before exec: cap the address space (RLIMIT_AS)."""
    if memory_mb is None:
        return
    import resource

    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole process group (it runs in its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def run_child(task: str, payload: dict[str, Any], limits: ChildLimits) -> ChildOutcome:
    """Run `task` with `payload` in a fresh child process under `limits`.

    Never raises for anything the child does; only KeyboardInterrupt propagates
    (after the child's process group has been killed).
    """
    with tempfile.TemporaryDirectory(prefix="greenopt-child-") as tmp:
        request = Path(tmp) / "request.pickle"
        response = Path(tmp) / "response.pickle"
        with open(request, "wb") as fh:
            pickle.dump({"task": task, **payload}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        env = dict(os.environ)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # stderr goes to a pipe whose end is kept, not to a file or an unread pipe: a
        # chatty variant must neither fill the disk nor block
        err = StderrTail()
        oom_before = oom_kills()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "greenopt.optimizer.worker", str(request), str(response)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err.write_fd,
                start_new_session=True,
                preexec_fn=lambda: _limit_memory(limits.memory_mb),
                env=env,
                cwd=tmp,
            )
        finally:
            err.started()
        try:
            exited = wait_unreaped(proc, limits.timeout_s)
        except BaseException:
            _kill_group(proc)
            raise
        _kill_group(proc)  # also what it started and left running
        if not exited:
            return ChildOutcome("timeout", message=f"timed out after {limits.timeout_s:g} s")
        stderr = err.text()[-_STDERR_TAIL:]
        answer = _read_answer(response)
        if answer is not None:
            status = answer.get("status", "crash")
            return ChildOutcome(status, answer.get("value"), answer.get("message", ""))
        rc = proc.returncode
        if rc < 0:
            name = (
                signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
            )
            if -rc == signal.SIGKILL:
                cause = sigkill_cause(oom_before, oom_kills())
                if cause == "oom":
                    return ChildOutcome("oom", message="killed by the kernel's OOM killer")
                if cause == "unknown" and limits.memory_mb is not None:
                    return ChildOutcome("oom", message=f"killed by {name} (memory limit?)")
                if cause == "other":
                    message = f"killed by {name} (not by the kernel's OOM killer: another process?)"
                    return ChildOutcome("crash", message=message)
            return ChildOutcome("crash", message=f"crashed with signal {name}")
        if "MemoryError" in stderr:
            return ChildOutcome("oom", message=f"out of memory (limit {limits.memory_mb} MB)")
        detail = _last_line(stderr)
        if rc == 0 and not detail:
            message = "child exited with code 0 before answering (os._exit() in the workload?)"
            return ChildOutcome("crash", message=message)
        return ChildOutcome(
            "crash", message=f"child exited with code {rc}" + (f": {detail}" if detail else "")
        )


def _read_answer(path: Path) -> dict[str, Any] | None:
    """The child's pickled answer, or None when it died before writing one."""
    try:
        with open(path, "rb") as fh:
            answer = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, MemoryError):
        return None
    return answer if isinstance(answer, dict) else None
