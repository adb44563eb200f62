"""Validate one candidate: same outputs as the original, then a measured energy gain.

Two gates, in this order (DESIGN §4):

1. **Equivalence.** The candidate runs every workload in a child process (timeout,
   memory limit) and its outputs are compared with the original's. When the setup
   draws random inputs (the original's outputs change with the seed) both are also
   run on a second, differently seeded draw. A crash, hang, out-of-memory, raised
   exception or different output rejects the candidate with that reason.
2. **Measurement.** Interleaved A/B samples through `greenopt.measure.runner.compare`
   on the calls that exercise the function. Accepted only if the upper end of the
   95% CI of E_candidate / E_original is below 1 − ε, ε = max(A/A noise, 2%).

For candidates compiled by the `jit` pass the cold (first call, with compilation)
and warm energies are reported with the number of calls it takes to repay the
compilation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.errors import MeterError, WorkloadError
from greenopt.measure.workload import Workload
from greenopt.optimizer.equivalence import (
    Equivalence,
    Tolerance,
    compare_outputs,
    compile_failure,
    is_numba_error,
)
from greenopt.optimizer.executor import ChildLimits, ChildOutcome, run_child
from greenopt.optimizer.snapshot import Raised

#: smallest noise floor ε of the acceptance rule (DESIGN §4)
MIN_EPSILON = 0.02

#: a candidate's timeout: at least this many seconds, else this multiple of the original's time
MIN_CANDIDATE_TIMEOUT_S = 30.0
CANDIDATE_TIMEOUT_FACTOR = 20.0


@dataclass(frozen=True)
class MeasureBackend:
    """The measurement functions the validator calls (the runner's, or a test's)."""

    compare: Callable[..., Any]
    aa_noise: Callable[..., float]
    options: Any  # greenopt.measure.runner.RunOptions
    meter: str = "auto"
    #: brackets each comparison to tell how busy other processes kept the machine
    #: (a `greenopt.measure.contention.ContentionProbe`; None: not judged)
    probe: Any = None


def runner_backend(meter: str, options: Any) -> MeasureBackend:
    """The real runner (imported lazily: it is only needed once something is measured)."""
    from greenopt.measure import runner
    from greenopt.measure.contention import ContentionProbe

    return MeasureBackend(runner.compare, runner.aa_noise, options, meter, ContentionProbe())


@dataclass
class OriginalOutputs:
    """The original's outputs on one workload, on the default seed and a second one."""

    workload: Workload
    outputs: dict[str, Any]
    second_seed_outputs: dict[str, Any] | None  # None when the setup draws no random input
    seconds: float = 0.0  # traced wall time, for the candidate timeout


def energy_rule(ci_high: float, noise: float) -> tuple[float, bool]:
    """``(epsilon, accepted)``: the energy gate of DESIGN §4. A candidate saves energy
    only if its ratio CI's upper end is below 1 − ε, ε = max(A/A noise, 2%)."""
    epsilon = max(noise, MIN_EPSILON)
    return epsilon, ci_high < 1.0 - epsilon


@dataclass
class EnergyVerdict:
    """The measured comparison of a candidate with the original."""

    ratio: float
    ci95: tuple[float, float]
    epsilon: float
    accepted: bool
    energy_before_j: float
    energy_after_j: float
    time_before_s: float
    time_after_s: float
    cold_energy_j: float | None = None
    warm_energy_j: float | None = None
    break_even_calls: int | None = None
    #: CPUs other processes kept busy on average while it was measured (None: unknown)
    other_cpus: float | None = None


@dataclass
class CandidateVerdict:
    """Outcome of validating a candidate: which gate it passed and why it stopped."""

    equivalent: bool
    equivalence: Equivalence = field(default_factory=Equivalence)
    energy: EnergyVerdict | None = None
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        """True when outputs match and the measured gain clears the noise floor."""
        return self.equivalent and self.energy is not None and self.energy.accepted


SECOND_SEED = 104729


def original_outputs(
    workload: Workload, limits: ChildLimits, seconds: float, tol: Tolerance | None = None
) -> OriginalOutputs:
    """Run the original on `workload` and keep its outputs as the reference.

    Three runs: the default seed twice (outputs that differ between two identical
    runs cannot validate anything: a WorkloadError) and a second seed (outputs that
    change with the seed mean the setup draws random inputs, so candidates are also
    compared on that second draw).
    """
    first = _outputs_or_raise(workload, limits)
    again = _outputs_or_raise(workload, limits)
    repeat = compare_outputs(first, again, tol or Tolerance())
    if not repeat.equal:
        where = f" [{workload.label}]" if workload.label else ""
        raise WorkloadError(
            f"workload{where} is not deterministic: two runs of the original with the same "
            f"seed differ ({repeat.reason}); seed or fix its inputs"
        )
    second = _outputs_or_raise(workload.with_seed(SECOND_SEED), limits)
    # Compare the two draws exactly: any difference means the setup is random.
    random_inputs = not compare_outputs(first, second, Tolerance(0.0, 0.0)).equal
    return OriginalOutputs(workload, first, second if random_inputs else None, seconds)


def _outputs_or_raise(workload: Workload, limits: ChildLimits) -> dict[str, Any]:
    outcome = run_child("outputs", {"workload": workload}, limits)
    where = f" [{workload.label}]" if workload.label else ""
    if not outcome.ok:
        raise WorkloadError(f"workload{where} failed on the original module: {outcome.message}")
    return outcome.value


def candidate_limits(limits: ChildLimits, original_seconds: float) -> ChildLimits:
    """A candidate's timeout: generous against the original's time, never above the user's."""
    budget = max(MIN_CANDIDATE_TIMEOUT_S, CANDIDATE_TIMEOUT_FACTOR * original_seconds)
    return ChildLimits(min(limits.timeout_s, budget), limits.memory_mb)


def _failure_reason(outcome: ChildOutcome) -> str:
    if outcome.status == "timeout":
        return f"hang: candidate {outcome.message}"
    if outcome.status == "oom":
        return f"out of memory: {outcome.message}"
    if outcome.status == "crash":
        return f"crash: {outcome.message}"
    return f"candidate failed: {outcome.message}"


def numba_compile_failure(reference: Any, candidate: Any) -> str | None:
    """ "Numba cannot compile it: <first line>" when a call of the candidate raised a
    Numba error (`numba.core.errors.TypingError`...) that the original did not raise:
    the candidate failed to compile (or to type), which is not a difference in outputs."""
    if not (isinstance(reference, dict) and isinstance(candidate, dict)):
        return None
    pairs = zip(reference.get("results", ()), candidate.get("results", ()), strict=False)
    for a, b in pairs:
        if (
            isinstance(b, Raised)
            and is_numba_error(b.type_name)
            and not (isinstance(a, Raised) and a.type_name == b.type_name)
        ):
            return compile_failure(b.type_name, b.message)
    return None


def check_equivalence(
    module_path: str,
    extra_sys_path: Sequence[str],
    originals: Sequence[OriginalOutputs],
    tol: Tolerance,
    limits: ChildLimits,
    repeat: bool = False,
) -> tuple[Equivalence, str | None]:
    """Run the module at `module_path` on every workload and compare with the originals.

    With `repeat` (a `parallel=True` candidate, whose data race may show in one run
    only) the candidate runs a second time with the same seed and must match again.
    Returns the merged comparison and the rejection reason (None when equivalent).
    """
    from greenopt.optimizer.workloads import with_module

    total = Equivalence()
    for orig in originals:
        variant = with_module(orig.workload, module_path, extra_sys_path)
        runs = [(variant, orig.outputs, "")]
        if orig.second_seed_outputs is not None:
            runs.append(
                (variant.with_seed(SECOND_SEED), orig.second_seed_outputs, " (second seed)")
            )
        if repeat:
            runs.append((variant, orig.outputs, " (second run)"))
        for wl, reference, seed_note in runs:
            outcome = run_child("outputs", {"workload": wl}, candidate_limits(limits, orig.seconds))
            where = f"[{wl.label}]{seed_note} " if wl.label or seed_note else ""
            if not outcome.ok:
                total.equal = False
                return total, f"{where}{_failure_reason(outcome)}".strip()
            eq = compare_outputs(reference, outcome.value, tol)
            total = total.merge(eq)
            if not eq.equal:
                compile_error = numba_compile_failure(reference, outcome.value)
                if compile_error is not None:
                    return total, f"{where}{compile_error}".strip()
                return total, f"{where}outputs differ: {eq.reason}".strip()
    return total, None


def measure_gain(
    original: Workload,
    candidate: Workload,
    backend: MeasureBackend,
    noise: float,
    jit: bool,
    progress: Callable[[int, int], None] | None = None,
    on_comparison: Callable[[Any], None] | None = None,
) -> EnergyVerdict:
    """Interleaved A/B measurement; accept iff the CI's upper end < 1 − max(noise, 2%).

    A WorkloadError of the runner (the candidate crashed, hung or ran out of memory
    while being measured) propagates; the caller turns it into a rejection.
    `on_comparison` receives the runner's `Comparison` (e.g. to record it in the store).
    """
    probe = backend.probe
    if probe is not None:
        probe.start()
    comp = backend.compare(original, candidate, backend.meter, backend.options, progress)
    seen = probe.stop() if probe is not None else None
    if on_comparison is not None:
        on_comparison(comp)
    lo, hi = (float(x) for x in comp.ci95)
    epsilon, accepted = energy_rule(hi, noise)
    verdict = EnergyVerdict(
        ratio=float(comp.ratio),
        ci95=(lo, hi),
        epsilon=epsilon,
        accepted=accepted,
        energy_before_j=float(comp.a.energy_median_j),
        energy_after_j=float(comp.b.energy_median_j),
        time_before_s=float(comp.a.time_median_s),
        time_after_s=float(comp.b.time_median_s),
        other_cpus=None if seen is None else round(seen.other_cpus, 3),
    )
    if jit:
        _add_jit_costs(verdict, comp)
    return verdict


def _add_jit_costs(verdict: EnergyVerdict, comp: Any) -> None:
    """Cold vs warm energy of a compiled candidate and its break-even number of calls.

    Compilation overhead = (cold − warm) of the candidate minus the same first-call
    overhead of the original (imports, caches); saving per call = warm original −
    warm candidate; break-even = ceil(overhead / saving).
    """
    cold_b = comp.b.cold_energy_j
    warm_b = verdict.energy_after_j
    verdict.warm_energy_j = warm_b
    if cold_b is None:
        return
    verdict.cold_energy_j = float(cold_b)
    overhead = float(cold_b) - warm_b
    cold_a = comp.a.cold_energy_j
    if cold_a is not None:
        overhead -= max(0.0, float(cold_a) - verdict.energy_before_j)
    saving = verdict.energy_before_j - warm_b
    if saving > 0:
        verdict.break_even_calls = max(1, math.ceil(max(overhead, 0.0) / saving))


def validate_candidate(
    module_path: Path,
    extra_sys_path: Sequence[str],
    originals: Sequence[OriginalOutputs],
    tol: Tolerance,
    limits: ChildLimits,
    measure: Callable[[], EnergyVerdict],
    repeat: bool = False,
) -> CandidateVerdict:
    """Equivalence first; only an equivalent candidate is measured (via `measure`).
    `repeat`: run the candidate twice per seed (see `check_equivalence`)."""
    eq, reason = check_equivalence(str(module_path), extra_sys_path, originals, tol, limits, repeat)
    if reason is not None:
        return CandidateVerdict(False, eq, reason=reason)
    try:
        energy = measure()
    except MeterError:
        raise
    except WorkloadError as exc:
        return CandidateVerdict(True, eq, reason=f"failed while measured: {exc}")
    if energy.accepted:
        return CandidateVerdict(True, eq, energy)
    reason = (
        f"no significant saving: ratio {energy.ratio:.3f}, 95% CI upper "
        f"{energy.ci95[1]:.3f} not below {1 - energy.epsilon:.3f}"
    )
    if energy.ratio < 1.0 - energy.epsilon:  # a saving, measured too noisily to be sure
        reason += " (inconclusive: more --samples or a quieter machine may confirm it)"
    return CandidateVerdict(True, eq, energy, reason=reason)
