"""Child-process side of the executor: `python -m greenopt.optimizer.worker REQUEST RESPONSE`.

Tasks (each prepares the workload with `greenopt.measure.workload.prepare`, so the
module under test is seeded, imported under its own name and set up exactly as the
runner does):

* `trace`   — run every call under `sys.setprofile` and report, per call, the
  inclusive time of each function of the module under test that ran.
* `outputs` — run every call and report what it returned or raised, a snapshot
  of every data value left in the setup namespace (catches in-place mutation),
  and for workload files the data locals of each `workload_*()` when it returns.

The answer is a dict `{"status": "ok"|"error"|"oom", "value": ..., "message": ...}`
pickled to RESPONSE; "error" means the workload code itself failed (setup raised,
import failed), which for a candidate is a reason to reject it.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
import types
from typing import Any

from greenopt.errors import WorkloadError
from greenopt.measure.processes import exit_now
from greenopt.measure.workload import (
    Prepared,
    Workload,
    exception_line,
    exception_text,
    prepare,
)
from greenopt.models.features import argument_sizes
from greenopt.optimizer.snapshot import Raised, is_data, snapshot, type_name
from greenopt.optimizer.workloads import WORKLOAD_MODULE_VAR as _WORKLOAD_MODULE_VAR


def _qualname(code: types.CodeType) -> str:
    return getattr(code, "co_qualname", code.co_name)


class _CallProfile:
    """A `sys.setprofile` hook timing the functions of one module during one call.

    Only frames whose code comes from `module_file` are timed; recursion is counted
    once (outermost activation).
    """

    def __init__(self, module_file: str) -> None:
        self.module_file = module_file
        self.inclusive: dict[str, float] = {}
        self.active: dict[types.CodeType, int] = {}
        self.stack: list[tuple[types.CodeType, float]] = []
        self.sizes: dict[str, dict[str, int]] = {}  # qualname -> parameter -> largest size
        self.sized: set[types.CodeType] = set()

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            if code.co_filename == self.module_file:
                if code not in self.sized:  # first activation in this call only: cheap
                    self.sized.add(code)
                    self._record_sizes(frame)
                self.stack.append((code, time.perf_counter()))
                self.active[code] = self.active.get(code, 0) + 1
        elif event == "return":
            code = frame.f_code
            if code.co_filename == self.module_file and self.stack and self.stack[-1][0] is code:
                _, t0 = self.stack.pop()
                self.active[code] -= 1
                if self.active[code] == 0:
                    name = _qualname(code)
                    elapsed = time.perf_counter() - t0
                    self.inclusive[name] = self.inclusive.get(name, 0.0) + elapsed

    def _record_sizes(self, frame: types.FrameType) -> None:
        """Sizes of the arguments in the cost model's convention (`argument_sizes`:
        `x`, `x.shape[k]`, `x.size` of an array, an int parameter's value), largest kept."""
        code = frame.f_code
        sizes = self.sizes.setdefault(_qualname(code), {})
        for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            try:
                found = argument_sizes(name, frame.f_locals.get(name))
            except Exception:  # an odd object's `.shape` may raise: no size, no failure
                continue
            for key, n in found.items():
                if n > sizes.get(key, -1):
                    sizes[key] = n


def trace_calls(prepared: Prepared, module_file: str) -> dict[str, Any]:
    """Run the prepared calls under a profiler; inclusive seconds per function per call."""
    per_call: list[dict[str, float]] = []
    call_seconds: list[float] = []
    errors: list[str | None] = []
    sizes: dict[str, dict[str, int]] = {}
    for call in prepared.calls:
        hook = _CallProfile(module_file)
        start = time.perf_counter()
        error = None
        sys.setprofile(hook)
        try:
            call()
        except BaseException as exc:  # the caller turns this into a WorkloadError
            error = exception_line(exc)
        finally:
            sys.setprofile(None)
        call_seconds.append(time.perf_counter() - start)
        per_call.append({k: v for k, v in hook.inclusive.items() if k != "<module>"})
        errors.append(error)
        for func, params in hook.sizes.items():
            merged = sizes.setdefault(func, {})
            for param, n in params.items():
                merged[param] = max(n, merged.get(param, n))
    return {"per_call": per_call, "call_seconds": call_seconds, "errors": errors, "sizes": sizes}


class _LocalsAtReturn:
    """A `sys.settrace` hook that snapshots the locals of workload-file functions on return.

    In a workload file, the arrays a kernel mutates in place are usually locals of
    the `workload_*()` function, invisible after the call. This hook traces only
    frames whose code comes from `workload_file` (other frames get no local trace,
    so the cost is one callback per Python call) and keeps a snapshot of the data
    locals of the outermost such frame when it returns.
    """

    def __init__(self, workload_file: str) -> None:
        self.workload_file = workload_file
        self.captured: dict[str, Any] = {}
        self.depth = 0

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename == self.workload_file:
            self.depth += 1
            return self._local
        return None

    def _local(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "return":
            self.depth -= 1
            if self.depth == 0:
                self.captured = {
                    name: snapshot(value)
                    for name, value in frame.f_locals.items()
                    if not name.startswith("__") and is_data(value)
                }
        return self._local


def _workload_file(prepared: Prepared) -> str | None:
    """The file of the workload module, when the workload comes from a workload file."""
    from greenopt.optimizer.workloads import WORKLOAD_MODULE_VAR

    module = prepared.namespace.get(WORKLOAD_MODULE_VAR)
    return getattr(module, "__file__", None) if isinstance(module, types.ModuleType) else None


def collect_outputs(prepared: Prepared) -> dict[str, Any]:
    """Run the prepared calls; snapshot their results and the namespace afterwards.

    For workload files, also the data locals of each `workload_*()` at its return
    (arrays mutated in place there are compared too).
    """
    results: list[Any] = []
    live: list[Any] = []  # the values returned, as the caller still holds them
    aliases: list[list[str]] = []
    call_locals: list[dict[str, Any]] = []
    workload_file = _workload_file(prepared)
    for call in prepared.calls:
        hook = _LocalsAtReturn(workload_file) if workload_file else None
        if hook is not None:
            sys.settrace(hook)
        try:
            value = call()
        except MemoryError:
            raise
        except BaseException as exc:
            results.append(Raised(type_name(exc), exception_text(exc)[:500]))
        else:
            results.append(snapshot(value))
            live.append(value)
            aliases.append(_shared_with(value, prepared.namespace))
        finally:
            if hook is not None:
                sys.settrace(None)
        call_locals.append(hook.captured if hook is not None else {})
        if len(live) < len(results):
            live.append(None)
            aliases.append([])
    namespace: dict[str, Any] = {}
    for name, value in prepared.namespace.items():
        if name.startswith("__") or not is_data(value):
            continue
        namespace[name] = snapshot(value)
    globals_: dict[str, Any] = {}
    for prefix, module in (
        ("module ", prepared.module),
        ("workload file ", prepared.namespace.get(_WORKLOAD_MODULE_VAR)),
    ):
        if isinstance(module, types.ModuleType):
            for name, value in vars(module).items():
                if not name.startswith("__") and is_data(value):
                    globals_[prefix + name] = snapshot(value)
    return {
        "results": results,
        "random_state": _random_state(),
        "results_at_end": [snapshot(v) for v in live],
        "aliases": aliases,
        "globals": globals_,
        "locals": call_locals,
        "namespace": namespace,
        "module_names": sorted(prepared.module_names),
    }


def _random_state() -> tuple[str, str]:
    """Digests of the global `random` and legacy `numpy.random` states after the calls:
    both variants start seeded alike, so a candidate that draws more or fewer numbers
    than the original changes what the caller draws next."""
    import hashlib
    import random

    try:
        import numpy as np

        kind, keys, pos, gauss, cached = np.random.get_state()
        numpy_state = hashlib.sha256(keys.tobytes() + repr((kind, pos, gauss, cached)).encode())
    except ImportError:  # pragma: no cover
        numpy_state = hashlib.sha256(b"")
    python_state = hashlib.sha256(repr(random.getstate()).encode())
    return python_state.hexdigest(), numpy_state.hexdigest()


def _shared_with(value: Any, namespace: dict[str, Any]) -> list[str]:
    """The setup variables whose memory a returned array shares (a view or the input itself)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return []
    if not isinstance(value, np.ndarray) or value.size == 0:
        return []
    return sorted(
        name
        for name, other in namespace.items()
        if not name.startswith("__")
        and isinstance(other, np.ndarray)
        and np.may_share_memory(value, other)
    )


def run_task(request: dict[str, Any]) -> dict[str, Any]:
    """Execute one request and return the answer dict."""
    workload: Workload = request["workload"]
    try:
        prepared = prepare(workload)
    except WorkloadError as exc:
        return {"status": "error", "message": str(exc)}
    if request["task"] == "trace":
        module_file = getattr(prepared.module, "__file__", None) or ""
        return {"status": "ok", "value": trace_calls(prepared, module_file)}
    if request["task"] == "outputs":
        return {"status": "ok", "value": collect_outputs(prepared)}
    return {"status": "error", "message": f"unknown task {request['task']!r}"}


def main(argv: list[str]) -> int:
    """Entry point: read the request, run it, write the answer (MemoryError -> 'oom')."""
    request_path, response_path = argv[1], argv[2]
    owner = os.getpid()
    with open(request_path, "rb") as fh:
        request = pickle.load(fh)
    try:
        answer = run_task(request)
    except MemoryError:
        answer = {"status": "oom", "message": "out of memory (MemoryError)"}
    except RecursionError as exc:
        answer = {"status": "error", "message": f"RecursionError: {exc}"}
    if os.getpid() != owner:  # a fork of the workload came back here: not its to answer
        os._exit(0)
    try:
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        payload = pickle.dumps({"status": "oom", "message": "out of memory pickling outputs"})
    except Exception as exc:
        payload = pickle.dumps(
            {"status": "error", "message": f"outputs cannot be pickled: {type(exc).__name__}"}
        )
    with open(response_path, "wb") as fh:
        fh.write(payload)
    return 0


if __name__ == "__main__":
    exit_now(main(sys.argv))
