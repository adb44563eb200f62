"""Run workloads in child processes and measure their energy (DESIGN §4 "Measurement").

Each variant runs in its own fresh interpreter (`greenopt.measure.child`), driven
over a pair of pipes: prepare (seed, setup, the cold first call), warm-up,
calibration (repeat the call until a sample lasts `min_sample_s`), then N samples.
With `processes` > 1 the samples are spread over that many fresh children per
variant, run one after another (each prepared and warmed up, with the first
child's calls per sample), so that process-level accidents such as memory layout
average out instead of biasing every sample the same way.
`compare` keeps both variants' children alive and interleaves their samples in
A B B A order, so drift over the run affects both alike and the i-th samples form
pairs for the ratio's bootstrap. An idle baseline (the meter around a sleep of one
sample's duration) is taken three times, spread over the run, in the same child.

Every child has a memory limit (RLIMIT_AS) and a time budget: the time it spends
answering requests (setup, calls, samples) may not exceed `timeout_s`. Failures
become `WorkloadError` subclasses with one-line reasons: `ChildCrashed`,
`ChildTimeout`, `ChildOutOfMemory`; the call's own exception type and message are
in the line when a call raised.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import greenopt
from greenopt.errors import InputError, MeterError, WorkloadError
from greenopt.measure.limits import MAX_TIMEOUT_S, MIN_MEMORY_MB
from greenopt.measure.meter import MeterInfo, get_meter, validate_meter_name
from greenopt.measure.processes import StderrTail, oom_kills, sigkill_cause, wait_unreaped
from greenopt.measure.results import Comparison, Measurement
from greenopt.measure.statistics import median, noise_floor, ratio_ci
from greenopt.measure.workload import Workload

__all__ = [
    "ChildCrashed",
    "ChildOutOfMemory",
    "ChildTimeout",
    "Comparison",
    "Measurement",
    "RunOptions",
    "aa_noise",
    "compare",
    "measure",
    "resolve_meter",
]

#: Default sample length for meters that count hardware energy, alone or beside the
#: estimate (RAPL updates ~1 ms, NVML far less often; short samples are dominated by
#: read jitter and counter granularity).
HARDWARE_MIN_SAMPLE_S = 1.0
#: Default sample length for the estimate meter (CPU time has µs resolution).
ESTIMATE_MIN_SAMPLE_S = 0.2
#: Longest failure message passed on from a child (one line).
MESSAGE_LIMIT = 500
#: How often (seconds) the parent checks, while waiting for an answer, that the child lives.
EXIT_CHECK_S = 1.0
#: How many idle-baseline intervals are taken (before, in the middle, after the samples).
IDLE_INTERVALS = 3


class ChildCrashed(WorkloadError):
    """The child process died without answering (signal, non-zero exit, or a call raised)."""


class ChildTimeout(WorkloadError):
    """The child spent longer than its time budget running the workload."""


class ChildOutOfMemory(WorkloadError):
    """The child ran out of memory (MemoryError under RLIMIT_AS, or killed by the OOM killer)."""


@dataclass(frozen=True)
class RunOptions:
    """How to sample: counts, sample length, limits. Validated by `check()`."""

    samples: int = 10
    min_sample_s: float | None = None  # None: 1.0 s for hardware meters, 0.2 s for estimate
    warmup: int = 1
    timeout_s: float = 600.0  # per child process
    memory_mb: int | None = (
        4096  # child RLIMIT_AS (+96 MB per CPU for thread reservations), None = off
    )
    idle_baseline: bool = True
    processes: int = 1  # fresh child processes per variant that the samples are spread over

    def check(self) -> None:
        """Raise InputError for values that cannot work."""
        if not isinstance(self.samples, int) or self.samples < 1:
            raise InputError(f"samples must be an integer >= 1 (got {self.samples!r})")
        if self.min_sample_s is not None and not (0 < self.min_sample_s < MAX_TIMEOUT_S):
            raise InputError(f"min_sample_s must be > 0 and finite (got {self.min_sample_s!r})")
        if self.warmup < 0:
            raise InputError(f"warmup must be >= 0 (got {self.warmup!r})")
        if not (0 < self.timeout_s < MAX_TIMEOUT_S):
            raise InputError(
                f"timeout must be > 0 s and finite, at most {MAX_TIMEOUT_S:g} s "
                f"(got {self.timeout_s!r})"
            )
        if not isinstance(self.processes, int) or self.processes < 1:
            raise InputError(f"processes must be an integer >= 1 (got {self.processes!r})")
        if self.memory_mb is not None and self.memory_mb < MIN_MEMORY_MB:
            raise InputError(
                f"memory limit must be at least {MIN_MEMORY_MB} MB (got {self.memory_mb!r}): "
                "a child process needs about that much address space for Python and numpy"
            )

    def sample_seconds(self, meter: MeterInfo) -> float:
        """The minimum sample length for `meter`."""
        if self.min_sample_s is not None:
            return float(self.min_sample_s)
        return HARDWARE_MIN_SAMPLE_S if meter.reads_hardware() else ESTIMATE_MIN_SAMPLE_S


def resolve_meter(name: str, announce: Callable[[str], None] | None = None) -> MeterInfo:
    """Check in the parent that meter `name` works here and return what the child will use.

    ``auto`` is resolved to a concrete meter (announced); explicit names never fall back.
    """
    validate_meter_name(name)
    meter = get_meter(name, announce=announce)
    try:
        return meter.info
    finally:
        meter.close()


def _child_env(numba_cache_dir: str | None = None) -> dict[str, str]:
    """The environment of a child: ours, with greenopt importable from where it is loaded.

    `numba_cache_dir` becomes `NUMBA_CACHE_DIR`: every measurement run starts with an
    empty Numba cache, so the first (cold) call of the first child compiles what it
    calls, as a first run does (a `cache=True` function would otherwise be loaded from
    the cache an earlier run, e.g. the equivalence check, left next to the module),
    while the run's later children load it from there.
    """
    env = dict(os.environ)
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = numba_cache_dir
    root = str(Path(greenopt.__file__).resolve().parent.parent)
    parts = [root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _signal_name(num: int) -> str:
    """``SIGSEGV`` for 11, etc."""
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class _Child:
    """One running child and its pipes; every request counts against its time budget."""

    def __init__(
        self,
        workload: Workload,
        meter_name: str,
        options: RunOptions,
        workdir: str,
        tag: str,
        numba_cache_dir: str | None = None,
    ) -> None:
        """Write the spec file and start the child with its two pipes."""
        self.label = workload.label or tag
        self.timeout_s = float(options.timeout_s)
        self.budget_s = float(options.timeout_s)
        self.memory_mb = options.memory_mb
        spec = {"workload": asdict(workload), "meter": meter_name, "memory_mb": options.memory_mb}
        name = tag.replace(" ", "-") or "child"
        spec_path = Path(workdir) / f"spec-{name}.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        self.stderr = StderrTail()
        self._oom_kills = oom_kills()
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "greenopt.measure.child",
                    str(spec_path),
                    str(cmd_r),
                    str(res_w),
                ],
                pass_fds=(cmd_r, res_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.stderr.write_fd,
                env=_child_env(numba_cache_dir),
                start_new_session=True,
            )
        finally:
            self.stderr.started()
            os.close(cmd_r)
            os.close(res_w)
        self._buffer = b""

    def _prefix(self) -> str:
        """``label: `` to start messages about this child (empty without a label)."""
        return f"{self.label}: " if self.label else ""

    def _last_stderr_line(self) -> str:
        """The child's last non-empty stderr line (crash diagnostics), cut to 300 characters.

        Lines from faulthandler's dump (from ``Fatal Python error:`` on: a stack, then the
        list of extension modules loaded) say nothing the signal's name does not."""
        lines = self.stderr.text().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Fatal Python error:"):
                lines = lines[:i]
                break
        for line in reversed(lines):
            if line.strip():
                return line.strip()[:300]
        return ""

    def _died(self) -> WorkloadError:
        """The exception describing why the child ended without an answer."""
        exited = wait_unreaped(self.proc, 5)
        self.kill()  # whatever it started goes with it; kills it too if it closed its pipe but lives on
        rc = self.proc.returncode
        tail = self._last_stderr_line()
        detail = f" ({tail})" if tail else ""
        if not exited:
            return ChildCrashed(
                f"{self._prefix()}child process stopped answering but did not exit (the "
                f"workload closed file descriptors it did not open?); killed{detail}"
            )
        if rc == 0:
            return ChildCrashed(
                f"{self._prefix()}child process exited with status 0 before answering "
                f"(os._exit() in the workload?){detail}"
            )
        if rc is not None and rc < 0:
            name = _signal_name(-rc)
            if -rc == signal.SIGKILL:
                cause = sigkill_cause(self._oom_kills, oom_kills())
                if cause == "oom":
                    return ChildOutOfMemory(
                        f"{self._prefix()}child process killed by the kernel's OOM killer "
                        f"(out of memory){detail}"
                    )
                if cause == "other":
                    return ChildCrashed(
                        f"{self._prefix()}child process killed by SIGKILL (not by the "
                        f"kernel's OOM killer: another process?){detail}"
                    )
                return ChildOutOfMemory(
                    f"{self._prefix()}child process killed by SIGKILL, most likely out of memory"
                    f"{detail}"
                )
            return ChildCrashed(f"{self._prefix()}child process crashed with {name}{detail}")
        return ChildCrashed(f"{self._prefix()}child process exited with status {rc}{detail}")

    def _read_line(self, deadline: float) -> bytes | None:
        """One answer line, or None at EOF; raises ChildTimeout past `deadline`."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout()
            poller = select.poll()  # poll, not select: no FD_SETSIZE limit on the fd number
            poller.register(self._res_r, select.POLLIN | select.POLLHUP | select.POLLERR)
            if not poller.poll(max(1, math.ceil(min(remaining, EXIT_CHECK_S) * 1000))):
                # no end of file while a process the workload forked holds the pipe open:
                # notice the child's own death too (any answer it wrote is read first)
                if wait_unreaped(self.proc, 0) and not poller.poll(0):
                    return None
                continue
            chunk = os.read(self._res_r, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _timeout(self) -> ChildTimeout:
        """Kill the child and describe the timeout."""
        self.kill()
        return ChildTimeout(
            f"{self._prefix()}workload timed out after {self.timeout_s:g} s (per-child limit, --timeout)"
        )

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send one command and wait for its answer within the remaining budget."""
        started = time.monotonic()
        try:
            os.write(self._cmd_w, (json.dumps({"op": op, **args}) + "\n").encode())
        except BrokenPipeError:
            raise self._died() from None
        line = self._read_line(started + self.budget_s)
        self.budget_s -= time.monotonic() - started
        if line is None:
            raise self._died()
        reply = json.loads(line)
        if reply.get("ok"):
            return reply
        self.close()
        text = " ".join(str(reply.get("message") or "failed").split())  # always one line
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 3] + "..."
        message = f"{self._prefix()}{text}"
        kind = reply.get("kind")
        if kind == "meter":
            raise MeterError(message)
        if kind == "memory":
            limit = f" (limit {self.memory_mb} MB, --memory-mb)" if self.memory_mb else ""
            raise ChildOutOfMemory(f"{message}: out of memory{limit}")
        raise WorkloadError(message)

    def kill(self) -> None:
        """Kill the child and anything it started (its process group) now, and reap it.

        The group is killed while the child is not yet reaped (running or a zombie), so
        that its id cannot have been reused: processes the workload started and left
        running (``subprocess.Popen``, ``os.fork``) end with it."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def close(self) -> None:
        """Ask the child to exit, kill it (and what it started) if it does not, close the pipes."""
        if self.proc.returncode is None:
            with contextlib.suppress(OSError):
                os.write(self._cmd_w, b'{"op": "exit"}\n')
            wait_unreaped(self.proc, 5)
        self.kill()
        for fd in (self._cmd_w, self._res_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._cmd_w = self._res_r = -1


@dataclass
class _Variant:
    """Book-keeping of one variant over all its child processes."""

    meter: MeterInfo
    child: _Child | None = None
    calls: int = 0  # calls per sample; 0 until calibrated in the first child
    round_s: float = 0.0
    cold_j: float | None = None
    cold_s: float | None = None
    precompiled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Empty sample lists."""
        self.energy: list[float] = []
        self.time: list[float] = []
        self.cpu: list[float] = []

    def attach(self, child: _Child, options: RunOptions) -> None:
        """Prepare a fresh child; the first one also gives the cold call and the calibration."""
        reply = child.request("prepare")
        if self.child is None and self.cold_j is None:
            if reply.get("meter"):
                self.meter = MeterInfo.from_dict(reply["meter"])
            self.cold_j, self.cold_s = reply.get("cold_j"), reply.get("cold_s")
            self.precompiled = tuple(reply.get("precompiled") or ())
        args: dict[str, Any] = {
            "min_sample_s": options.sample_seconds(self.meter),
            "warmup": options.warmup,
        }
        if self.calls:
            args["calls"] = self.calls  # later children: warm up only, same calls per sample
        r = child.request("calibrate", **args)
        self.calls = int(r["calls"])
        if r.get("round_s") is not None:
            self.round_s = float(r["round_s"])
        self.child = child

    def sample(self) -> None:
        """One timed sample, stored per call."""
        assert self.child is not None
        r = self.child.request("sample", calls=self.calls)
        joules = sum(float(v) for v in r["joules"].values())
        self.energy.append(joules / self.calls)
        self.time.append(float(r["wall_s"]) / self.calls)
        if r.get("cpu_s") is not None:
            self.cpu.append(float(r["cpu_s"]) / self.calls)

    def idle_power(self, seconds: float) -> float:
        """One idle interval's power in watts."""
        assert self.child is not None
        r = self.child.request("idle", seconds=seconds)
        wall = float(r["wall_s"])
        return sum(float(v) for v in r["joules"].values()) / wall if wall > 0 else 0.0

    def measurement(self, idle: list[float], label: str) -> Measurement:
        """The finished Measurement of this variant."""
        return Measurement(
            meter=self.meter,
            energy_j=self.energy,
            time_s=self.time,
            calls_per_sample=self.calls,
            idle_power_w=median(idle) if idle else None,
            cold_energy_j=self.cold_j,
            cold_time_s=self.cold_s,
            cpu_time_s=self.cpu,
            idle_power_samples_w=list(idle),
            label=label,
            precompiled=self.precompiled,
        )


@contextlib.contextmanager
def _children(
    workloads: list[Workload],
    meter_name: str,
    options: RunOptions,
    numba_cache_dir: str | None = None,
) -> Iterator[list[_Child]]:
    """Start one child per workload; reap them all (killed at once if anything went wrong).

    `numba_cache_dir`: the run's own Numba cache (see `_child_env`)."""
    with tempfile.TemporaryDirectory(prefix="greenopt-run-") as workdir:
        children: list[_Child] = []
        try:
            for i, wl in enumerate(workloads):
                tag = "" if len(workloads) == 1 else f"variant {'AB'[i] if i < 2 else i}"
                children.append(
                    _Child(
                        wl, meter_name, options, workdir, tag=tag, numba_cache_dir=numba_cache_dir
                    )
                )
            yield children
        except BaseException:
            for child in children:  # an error or Ctrl-C: do not wait for a busy child
                child.kill()
            raise
        finally:
            for child in children:
                child.close()


def _idle_points(samples: int) -> set[int]:
    """Sample indices before which an idle interval is taken (index `samples` = after the last)."""
    if samples <= 1:
        return {0, samples}
    return {0, samples // 2, samples}


def split_samples(samples: int, processes: int) -> list[int]:
    """Samples per child process: `samples` spread as evenly as possible over `processes`."""
    k = max(1, min(processes, samples))
    base, extra = divmod(samples, k)
    return [base + (1 if i < extra else 0) for i in range(k)]


def _run(
    workloads: list[Workload],
    info: MeterInfo,
    options: RunOptions,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[_Variant], list[float]]:
    """Sample every workload, interleaved (A B, B A, ...), over `options.processes` children each.

    Returns the variants and the idle powers (taken in the first variant's child).
    """
    variants = [_Variant(meter=info) for _ in workloads]
    idle: list[float] = []
    points = _idle_points(options.samples) if options.idle_baseline else set()
    total = len(workloads) * options.samples
    index = done = 0
    with tempfile.TemporaryDirectory(prefix="greenopt-numba-cache-") as numba_cache:
        for count in split_samples(options.samples, options.processes):
            with _children(workloads, info.name, options, numba_cache) as children:
                for variant, child in zip(variants, children, strict=True):
                    variant.attach(child, options)
                idle_s = max(sum(v.calls * v.round_s for v in variants) / len(variants), 1e-3)
                for _ in range(count):
                    if index in points:
                        idle.append(variants[0].idle_power(idle_s))
                    for variant in variants if index % 2 == 0 else variants[::-1]:
                        variant.sample()
                        done += 1
                        if progress is not None:
                            progress(done, total)
                    index += 1
                if index == options.samples and index in points:
                    idle.append(variants[0].idle_power(idle_s))
    for variant in variants:
        if variant.meter.measured and variant.energy and not any(variant.energy):
            raise MeterError(
                f"{variant.meter.name}: the energy counters did not advance during "
                f"{sum(variant.time) * variant.calls:.2g} s of sampling; they are not live on this "
                "machine (a VM?); use --meter estimate"
            )
    return variants, idle


def measure(
    workload: Workload,
    meter: str = "auto",
    options: RunOptions = RunOptions(),  # noqa: B008 - frozen dataclass
    progress: Callable[[int, int], None] | None = None,
    *,
    announce: Callable[[str], None] | None = None,
) -> Measurement:
    """Measure `workload` in a fresh child process: cold call, warm-up, N samples, idle baseline.

    `progress(done, total)` is called after every sample; `announce` receives the
    meter choice and any fallback under ``auto``.
    """
    options.check()
    info = resolve_meter(meter, announce)
    (variant,), idle = _run([workload], info, options, progress)
    return variant.measurement(idle, workload.label)


def compare(
    a: Workload,
    b: Workload,
    meter: str = "auto",
    options: RunOptions = RunOptions(),  # noqa: B008 - frozen dataclass
    progress: Callable[[int, int], None] | None = None,
    *,
    announce: Callable[[str], None] | None = None,
) -> Comparison:
    """Measure `a` and `b` with interleaved samples (A B, B A, A B, ...) and the ratio E_b / E_a.

    Both children are prepared and calibrated before sampling starts, so the i-th
    samples of A and B are taken back to back; the ratio's CI resamples those pairs.
    The idle baseline is taken in A's child and applies to both.
    """
    return compare_many(a, [b], meter, options, progress, announce=announce)[0]


def compare_many(
    a: Workload,
    bs: Sequence[Workload],
    meter: str = "auto",
    options: RunOptions = RunOptions(),  # noqa: B008 - frozen dataclass
    progress: Callable[[int, int], None] | None = None,
    *,
    announce: Callable[[str], None] | None = None,
) -> list[Comparison]:
    """Measure `a` and every workload of `bs` in one interleaved session; one Comparison each.

    One child per workload, all prepared and calibrated before sampling; each round
    samples A, B1, ..., Bn and the next round the reverse, so every candidate is
    paired with the same original samples (`compare` is the case n = 1). Cheaper than
    n separate comparisons (A's child starts once) and better for ranking the
    candidates, whose ratios share one measurement of the original. A child that
    fails fails the whole session (WorkloadError): retry separately to attribute it.
    """
    if not bs:
        raise ValueError("compare_many needs at least one workload to compare")
    options.check()
    info = resolve_meter(meter, announce)
    variants, idle = _run([a, *bs], info, options, progress)
    ma = variants[0].measurement(idle, a.label or "A")
    out: list[Comparison] = []
    for b, vb in zip(bs, variants[1:], strict=True):
        mb = vb.measurement(idle, b.label or "B")
        ratio, lo, hi = ratio_ci(ma.energy_j, mb.energy_j, paired=True)
        t_ratio, t_lo, t_hi = ratio_ci(ma.time_s, mb.time_s, paired=True)
        out.append(
            Comparison(
                a=ma,
                b=mb,
                ratio=ratio,
                ci95=(lo, hi),
                paired=True,
                time_ratio=t_ratio,
                time_ci95=(t_lo, t_hi),
            )
        )
    return out


def aa_noise(
    a: Workload,
    meter: str = "auto",
    options: RunOptions = RunOptions(),  # noqa: B008 - frozen dataclass
    progress: Callable[[int, int], None] | None = None,
) -> float:
    """Relative noise floor of `a` on this machine: an A/A `compare`'s ``max(|1-lo|, |hi-1|)``."""
    comparison = compare(a, a, meter=meter, options=options, progress=progress)
    value = noise_floor(comparison.ci95)
    return value if math.isfinite(value) else 1.0
