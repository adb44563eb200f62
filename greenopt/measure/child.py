"""Child-process side of the runner: ``python -m greenopt.measure.child SPEC CMD_FD RESULT_FD``.

The parent writes a JSON spec file (workload, meter name, memory limit) and then
drives this process with one JSON command per line on `CMD_FD`; each answer is one
JSON line on `RESULT_FD` (stdout and stderr stay free for the user's code).
Commands:

* ``prepare``: build the meter, seed and run setup (`workload.prepare`), then run
  the first call round alone under the meter: the *cold* call (imports, JIT).
* ``calibrate``: `warmup` more rounds, then find how many rounds make a sample
  last at least `min_sample_s` (or, given `calls`, keep that count: later children
  of a variant use the first one's).
* ``sample``: run `calls` rounds between meter start and stop: this is the timed
  region. The meter is read here, inside the child, right around the calls, so
  that neither process start-up nor IPC latency lands in the interval; the
  estimate meter needs this anyway (it reads this process's CPU time), and
  system-wide counters (RAPL, perf, NVML) read the same here as anywhere.
* ``idle``: sleep `seconds` under the meter (idle baseline).
* ``exit``.

Failures are answered as ``{"ok": false, "kind": "workload"|"memory"|"meter",
"message": ...}`` and the child exits; the parent turns them into exceptions.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import math
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from greenopt.errors import GreenoptError, MeterError, WorkloadError
from greenopt.measure.processes import exit_now

#: The clocks the meters and the calibration read, as they were before any workload code
#: ran: a workload that replaces one (``time.process_time = lambda: 0.0``) must not change
#: what is measured, nor make the calibration loop forever.
_CLOCKS = [
    (module, name, getattr(module, name))
    for module, name in (
        (time, "perf_counter"),
        (time, "process_time"),
        (time, "monotonic"),
        (time, "sleep"),
        (resource, "getrusage"),
        (os, "times"),
    )
]
_perf_counter = time.perf_counter


@contextlib.contextmanager
def _own_clocks() -> Iterator[None]:
    """The original clocks while a meter is read; the workload's replacements back afterwards."""
    replaced = [(m, n, getattr(m, n)) for m, n, f in _CLOCKS if getattr(m, n) is not f]
    if not replaced:
        yield
        return
    for module, name, original in _CLOCKS:
        setattr(module, name, original)
    try:
        yield
    finally:
        for module, name, value in replaced:
            setattr(module, name, value)


class _CallFailed(Exception):
    """A call expression raised; carries a one-line description."""


#: Address space allowed per logical CPU on top of the memory limit: thread-heavy runtimes
#: reserve address space per thread without using it (glibc malloc arenas: 64 MB each;
#: OpenBLAS: a 32 MB buffer per thread), and a plain RLIMIT_AS would otherwise make
#: `import numpy` fail on machines with many CPUs.
THREAD_ALLOWANCE_MB = 96


def address_space_limit(memory_mb: int, cpus: int | None = None) -> int:
    """RLIMIT_AS in bytes for a memory limit of `memory_mb`: the limit plus the per-CPU allowance."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return (int(memory_mb) + THREAD_ALLOWANCE_MB * max(1, cpus)) * 1024 * 1024


def _set_memory_limit(memory_mb: int | None) -> None:
    """Apply RLIMIT_AS (address space) so that a runaway allocation fails in this child only."""
    if not memory_mb:
        return
    limit = address_space_limit(memory_mb)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


MESSAGE_LIMIT = 300


def _describe(exc: BaseException) -> str:
    """``Type: message`` on one line, the message cut at `MESSAGE_LIMIT` characters."""
    from greenopt.measure.workload import exception_line

    return exception_line(exc, MESSAGE_LIMIT)


def _make_round(prepared: Any, exprs: tuple[str, ...]) -> Callable[[int], None]:
    """A function running `n` rounds of all calls; a failure becomes `_CallFailed` with one line."""
    from greenopt.measure.rounds import CallFailed, make_rounds
    from greenopt.measure.script import SCRIPT_CALL

    rounds = make_rounds(exprs, prepared.calls, prepared.namespace)
    names = ["script" if expr == SCRIPT_CALL else f"call {expr!r}" for expr in exprs]

    def run(n: int) -> None:
        """Run `n` rounds, describing a failing call in one line."""
        try:
            rounds(n)
        except CallFailed as failure:
            exc, name = failure.exc, names[failure.index]
            if isinstance(exc, SystemExit):
                raise _CallFailed(f"{name} exited with status {exc.code}") from exc
            raise _CallFailed(f"{name} raised {_describe(exc)}") from exc
        except BaseException as exc:  # KeyboardInterrupt, GeneratorExit, ... pass the loops
            # (no Ctrl-C reaches this child: it runs in its own session, the parent kills it)
            name = names[0] if len(names) == 1 else "a call"
            raise _CallFailed(f"{name} raised {_describe(exc)}") from exc

    return run


def _calibrate(run: Callable[[int], None], min_sample_s: float) -> tuple[int, float]:
    """Smallest round count whose run lasts about `min_sample_s`; returns (count, seconds per round)."""
    n = 1
    while True:
        t0 = _perf_counter()
        run(n)
        elapsed = _perf_counter() - t0
        per_round = elapsed / n
        if elapsed >= min_sample_s:
            return n, per_round
        if elapsed >= min_sample_s / 20 and per_round > 0:
            return max(1, math.ceil(1.05 * min_sample_s / per_round)), per_round
        growth = 100 if per_round <= 0 else min(100.0, max(2.0, min_sample_s / 20 / elapsed * 2))
        n = max(n + 1, int(n * growth))


def _numba_functions(module: Any) -> list[tuple[str, Any]]:
    """(name, dispatcher) of the Numba-compiled functions defined in `module` (duck-typed:
    an object with `py_func` and `signatures`; numba itself is never imported here)."""
    if module is None:
        return []
    out = []
    for name, obj in list(vars(module).items()):
        try:
            func = getattr(obj, "py_func", None)
            if func is None or not hasattr(obj, "signatures"):
                continue
            if getattr(func, "__module__", None) != module.__name__:
                continue  # imported from elsewhere: not the code under test
        except Exception:  # an exotic object whose attributes raise: not a dispatcher
            continue
        out.append((name, obj))
    return out


def compiled_numba_functions(module: Any) -> list[str]:
    """Numba functions of `module` already compiled (at import, in setup): the cold call
    that follows holds no compilation for them."""
    out = []
    for name, obj in _numba_functions(module):
        try:
            if list(obj.signatures):
                out.append(name)
        except Exception:
            continue
    return out


def numba_cache_hits(module: Any) -> list[str]:
    """Numba functions of `module` loaded from Numba's on-disk cache instead of compiled."""
    out = []
    for name, obj in _numba_functions(module):
        try:
            hits = obj.stats.cache_hits
            if any(int(n) > 0 for n in dict(hits).values()):
                out.append(name)
        except Exception:
            continue
    return out


class ChildSession:
    """The state of one child: the prepared workload and its meter."""

    def __init__(self, spec: dict[str, Any]) -> None:
        """Hold the spec; the meter and the workload are built by `prepare`."""
        self.spec = spec
        self.meter: Any = None
        self.run: Callable[[int], None] | None = None

    def prepare(self) -> dict[str, Any]:
        """Build the meter, prepare the workload and measure the cold first call round."""
        from greenopt.measure.meter import get_meter
        from greenopt.measure.workload import Workload, prepare

        self.meter = get_meter(self.spec["meter"])
        wl = dict(self.spec["workload"])
        for key in ("calls", "extra_sys_path"):
            wl[key] = tuple(wl.get(key) or ())
        workload = Workload(**wl)
        prepared = prepare(workload)
        self.run = _make_round(prepared, workload.calls)
        compiled = set(compiled_numba_functions(prepared.module))
        with _own_clocks():
            self.meter.start()
        self.run(1)
        with _own_clocks():
            reading = self.meter.stop()
        compiled.update(numba_cache_hits(prepared.module))
        return {
            "meter": self.meter.info.to_dict(),
            "cold_j": reading.total_j,
            "cold_s": reading.wall_s,
            "precompiled": sorted(compiled),
        }

    def calibrate(
        self, min_sample_s: float, warmup: int, calls: int | None = None
    ) -> dict[str, Any]:
        """Warm up, then choose the number of rounds per sample (or keep `calls` if given)."""
        assert self.run is not None
        per_round: float | None = None
        if warmup > 0:
            t0 = _perf_counter()
            self.run(warmup)
            per_round = (_perf_counter() - t0) / warmup
        if calls is not None:
            return {"calls": int(calls), "round_s": per_round}
        if per_round is not None and per_round >= float(min_sample_s):
            return {"calls": 1, "round_s": per_round}  # one call is long enough: no extra runs
        n, per_round = _calibrate(self.run, float(min_sample_s))
        return {"calls": n, "round_s": per_round}

    def sample(self, calls: int) -> dict[str, Any]:
        """The timed region: `calls` rounds between meter start and stop."""
        assert self.run is not None
        run, meter = self.run, self.meter
        with _own_clocks():
            meter.start()
        run(calls)
        with _own_clocks():
            reading = meter.stop()
        return {"joules": reading.joules, "wall_s": reading.wall_s, "cpu_s": reading.cpu_s}

    def idle(self, seconds: float) -> dict[str, Any]:
        """Idle baseline: the meter around a sleep of `seconds`."""
        with _own_clocks():
            self.meter.start()
            time.sleep(max(0.0, float(seconds)))
            reading = self.meter.stop()
        return {"joules": reading.joules, "wall_s": reading.wall_s, "cpu_s": reading.cpu_s}

    def close(self) -> None:
        """Release the meter."""
        if self.meter is not None:
            self.meter.close()


def _dispatch(session: ChildSession, cmd: dict[str, Any]) -> dict[str, Any]:
    """Run one command of the parent and return its answer fields."""
    op = cmd.get("op")
    if op == "prepare":
        return session.prepare()
    if op == "calibrate":
        return session.calibrate(cmd["min_sample_s"], int(cmd.get("warmup", 0)), cmd.get("calls"))
    if op == "sample":
        return session.sample(int(cmd["calls"]))
    if op == "idle":
        return session.idle(float(cmd["seconds"]))
    raise ValueError(f"unknown command {op!r}")


def serve(spec: dict[str, Any], commands: IO[str], results: IO[str]) -> int:
    """Answer commands until ``exit`` or end of input; returns the exit status."""
    session = ChildSession(spec)
    owner = os.getpid()
    try:
        for line in commands:
            cmd = json.loads(line)
            if cmd.get("op") == "exit":
                return 0
            try:
                reply: dict[str, Any] = {"ok": True, **_dispatch(session, cmd)}
            except MemoryError as exc:
                reply = {
                    "ok": False,
                    "kind": "memory",
                    "message": f"MemoryError: {exc}".rstrip(": "),
                }
            except _CallFailed as exc:
                cause = exc.__cause__
                kind = "memory" if isinstance(cause, MemoryError) else "workload"
                reply = {"ok": False, "kind": kind, "message": str(exc)}
            except MeterError as exc:
                reply = {"ok": False, "kind": "meter", "message": str(exc)}
            except WorkloadError as exc:
                cause = exc.__cause__
                kind = "memory" if isinstance(cause, MemoryError) else "workload"
                reply = {"ok": False, "kind": kind, "message": str(exc)}
            except GreenoptError as exc:
                reply = {"ok": False, "kind": "workload", "message": str(exc)}
            except (Exception, SystemExit) as exc:
                reply = {"ok": False, "kind": "workload", "message": _describe(exc)}
            if os.getpid() != owner:  # a fork of the workload came back here: not its to answer
                os._exit(0)
            results.write(json.dumps(reply) + "\n")
            results.flush()
            if not reply["ok"]:
                return 1
        return 0
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: read the spec, apply the memory limit, serve commands."""
    argv = sys.argv[1:] if argv is None else argv
    spec_path, cmd_fd, res_fd = argv[0], int(argv[1]), int(argv[2])
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    faulthandler.enable()
    _set_memory_limit(spec.get("memory_mb"))
    with (
        os.fdopen(cmd_fd, "r", encoding="utf-8") as commands,
        os.fdopen(res_fd, "w", encoding="utf-8") as results,
    ):
        return serve(spec, commands, results)


if __name__ == "__main__":
    exit_now(main())
