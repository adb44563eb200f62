"""Which functions of the module under test does a workload execute, and for how long?

Only functions a workload actually runs are candidates for rewriting (a rewrite that
no workload exercises cannot be validated). The original module is run in a child
process under `sys.setprofile` (see `greenopt.optimizer.worker.trace_calls`), and
each function's inclusive time (self + callees) is recorded per call, so the
validator can also measure a function on just the calls that exercise it.

A workload that fails on the *original* module (setup raises, a call raises, a
name is not found, it times out) is the user's error: WorkloadError, exit 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from greenopt.errors import WorkloadError
from greenopt.measure.workload import Workload
from greenopt.optimizer.executor import ChildLimits, run_child
from greenopt.optimizer.workloads import call_labels


@dataclass
class WorkloadTrace:
    """Profile of one workload on the original module."""

    workload: Workload
    per_call: list[dict[str, float]]  # call index -> {function qualname: inclusive seconds}
    call_seconds: list[float]  # call index -> wall seconds (under the profiler)
    #: function -> sizes of its arguments in the cost model's convention (`x`, `x.shape[k]`,
    #: `x.size`, an int parameter's value; `greenopt.models.features.argument_sizes`)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        """Wall seconds of all calls (profiled, so inflated for call-heavy code)."""
        return sum(self.call_seconds)

    def calls_exercising(self, function: str) -> list[int]:
        """Indices of the calls during which `function` ran."""
        return [i for i, funcs in enumerate(self.per_call) if function in funcs]

    def seconds(self, function: str) -> float:
        """Inclusive seconds of `function` over all calls."""
        return sum(funcs.get(function, 0.0) for funcs in self.per_call)


@dataclass
class ExerciseProfile:
    """The exercised functions of a module over all its workloads, ranked by share of time."""

    traces: list[WorkloadTrace]
    shares: dict[str, float] = field(default_factory=dict)  # qualname -> share of total time

    @property
    def functions(self) -> list[str]:
        """Exercised functions, largest share of time first."""
        return sorted(self.shares, key=lambda f: (-self.shares[f], f))

    def sizes(self, function: str) -> dict[str, int]:
        """The largest size seen per key of `function`'s arguments (cost-model convention)."""
        out: dict[str, int] = {}
        for tr in self.traces:
            for param, n in tr.sizes.get(function, {}).items():
                out[param] = max(n, out.get(param, n))
        return out

    def main_trace(self, function: str) -> tuple[int, WorkloadTrace] | None:
        """The workload in which `function` takes the most time (index, trace)."""
        best: tuple[int, WorkloadTrace] | None = None
        for i, tr in enumerate(self.traces):
            if tr.seconds(function) > 0 and (
                best is None or tr.seconds(function) > best[1].seconds(function)
            ):
                best = (i, tr)
        return best


def trace_workload(workload: Workload, limits: ChildLimits) -> WorkloadTrace:
    """Profile `workload` (already pointing at a copy of the original module) in a child."""
    outcome = run_child("trace", {"workload": workload}, limits)
    where = f" [{workload.label}]" if workload.label else ""
    if outcome.status == "error":
        raise WorkloadError(f"workload{where} failed on the original module: {outcome.message}")
    if outcome.status == "timeout":
        raise WorkloadError(
            f"workload{where} {outcome.message} on the original module (raise --timeout?)"
        )
    if outcome.status == "oom":
        raise WorkloadError(
            f"workload{where} ran out of memory on the original module (raise --memory-mb?)"
        )
    if not outcome.ok:
        raise WorkloadError(f"workload{where} {outcome.message} on the original module")
    value = outcome.value
    labels = call_labels(workload)
    for label, error in zip(labels, value["errors"], strict=False):
        if error is not None:
            raise WorkloadError(f"call {label}{where} raised {error} on the original module")
    return WorkloadTrace(workload, value["per_call"], value["call_seconds"], value.get("sizes", {}))


def profile(workloads: Sequence[Workload], limits: ChildLimits) -> ExerciseProfile:
    """Trace every workload and rank the module's functions by their share of total time."""
    traces = [trace_workload(w, limits) for w in workloads]
    total = sum(t.total_s for t in traces) or 1.0
    shares: dict[str, float] = {}
    for tr in traces:
        for funcs in tr.per_call:
            for name, secs in funcs.items():
                shares[name] = shares.get(name, 0.0) + secs / total
    return ExerciseProfile(traces, {k: min(v, 1.0) for k, v in shares.items()})
