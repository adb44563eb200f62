"""Measuring the corpus for training: candidates, equivalence, interleaved A/B ratios.

For each corpus kernel the candidates are produced by the validated-rewrite
machinery (`greenopt.optimizer.candidates.generate` over the registered passes),
each candidate is checked once for equivalence with the original in child
processes (`greenopt.optimizer.executor` + `equivalence`, on the smallest size),
and at each size a kernel's equivalent candidates are measured together against
the original with `greenopt.measure.runner.compare_many` (one interleaved session,
the same runner that `rewrite` uses; a failed session is measured again candidate
by candidate). Every outcome, including rejections, is recorded
in the measurement store (`greenopt.store.Store`), so an interrupted run resumes
where it stopped.

The parent never imports corpus code: candidates are written to a temporary
directory under the kernel's own module name and only children run them.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from greenopt.errors import InputError, MeterError, WorkloadError
from greenopt.measure.contention import (
    DEFAULT_MAX_OTHER_CPUS,
    Contention,
    ContentionProbe,
    wait_until_quiet,
)
from greenopt.measure.workload import Workload
from greenopt.models.corpus import CorpusKernel, CorpusWorkload
from greenopt.models.features import candidate_features, function_features
from greenopt.models.table import TrainingRow, record_row, store_rows
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Pass
from greenopt.store import Store

if TYPE_CHECKING:
    from greenopt.measure.runner import RunOptions

T = TypeVar("T")

#: tolerance for dtype-reduction candidates in training (float32 cannot pass rtol 1e-9)
DTYPE_RTOL = 1e-3
DTYPE_ATOL = 1e-6


@dataclass(frozen=True)
class CollectOptions:
    """How to measure: meter, samples per variant, sample length, limits."""

    meter: str = "auto"
    samples: int = 5
    min_sample_s: float = 0.05
    timeout_s: float = 300.0
    memory_mb: int | None = 4096
    #: a comparison during which other work averaged more CPUs than this is contended
    max_other_cpus: float = DEFAULT_MAX_OTHER_CPUS
    #: re-measurements of a contended comparison (after waiting for a quiet second)
    retries: int = 2
    #: longest wait for a quiet second before a re-measurement
    quiet_wait_s: float = 60.0
    #: treat stored measured rows that were contended (or whose load is unknown) as not done
    remeasure_contended: bool = False
    #: most candidates measured in one session against one original (`compare_many`)
    group_size: int = 8


@dataclass(frozen=True)
class CandidateTask:
    """One candidate of one kernel, to be checked once and measured at every size."""

    kernel: CorpusKernel
    function: str
    candidate_hash: str
    candidate_code: str  # the whole candidate module
    original_function: str  # source of the original function
    candidate_function: str  # source of the candidate function
    passes: tuple[str, ...]
    recipe: str


@dataclass
class Plan:
    """Everything a training run will measure, and what could not be generated."""

    tasks: list[CandidateTask] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def measurements(self) -> int:
        """Number of (candidate, size) comparisons in the plan."""
        return sum(len(t.kernel.workloads) for t in self.tasks)


def load_passes(names: Sequence[str] | None = None) -> tuple[dict[str, Pass], list[str]]:
    """Instantiate the registered passes (in canonical order); missing ones become notes."""
    from greenopt.passes.registry import PASSES, get_pass

    passes: dict[str, Pass] = {}
    notes: list[str] = []
    for name in PASSES:
        if names is not None and name not in names:
            continue
        try:
            passes[name] = get_pass(name)
        except InputError:
            raise
        except Exception as exc:  # a pass not written yet, or broken
            notes.append(f"pass {name} unavailable ({type(exc).__name__}: {exc})")
    return passes, notes


def plan(kernels: Iterable[CorpusKernel], passes: Mapping[str, Pass]) -> Plan:
    """Generate the candidates of every kernel's entry function (static, no execution)."""
    from greenopt.optimizer.candidates import generate
    from greenopt.optimizer.functions import function_source

    result = Plan()
    for kernel in kernels:
        try:
            module = SourceModule.parse(kernel.code, kernel.path)
            cset = generate(module, kernel.kernel, passes)
        except Exception as exc:
            result.notes.append(f"{kernel.key}: candidate generation failed: {exc}")
            continue
        result.notes.extend(f"{kernel.key}: {n}" for n in cset.notes)
        original_function = function_source(module, kernel.kernel) or ""
        for cand in cset.candidates:
            result.tasks.append(
                CandidateTask(
                    kernel=kernel,
                    function=kernel.kernel,
                    candidate_hash=cand.source_hash,
                    candidate_code=cand.module.code,
                    original_function=original_function,
                    candidate_function=cand.function_code,
                    passes=tuple(cand.passes),
                    recipe=describe_recipe(cand.steps),
                )
            )
    return result


def describe_recipe(steps: Iterable[object]) -> str:
    """`vectorize#1 + jit` style label of a candidate's recipe steps."""
    parts = []
    for step in steps:
        name = getattr(step, "pass_name", str(step))
        index = getattr(step, "index", None)
        parts.append(name if index is None else f"{name}#{index + 1}")
    return " + ".join(parts)


def corpus_workload(kernel: CorpusKernel, wl: CorpusWorkload, module_path: str) -> Workload:
    """The runner's Workload for one size of a kernel, against `module_path`."""
    return Workload(
        setup=wl.setup,
        calls=(wl.call,),
        module_path=module_path,
        module_name=kernel.stem,
        label=f"{kernel.key}@{wl.size}",
    )


def check_equivalent(
    original: Workload, candidate: Workload, dtype: bool, timeout_s: float
) -> str | None:
    """None when the candidate's outputs equal the original's, else the reason."""
    from greenopt.optimizer.equivalence import Tolerance, compare_outputs
    from greenopt.optimizer.executor import ChildLimits, run_child

    limits = ChildLimits(timeout_s=timeout_s)
    a = run_child("outputs", {"workload": original}, limits)
    if not a.ok:
        return f"original failed: {a.status}: {a.message}"
    b = run_child("outputs", {"workload": candidate}, limits)
    if not b.ok:
        return f"candidate failed: {b.status}: {b.message}"
    tol = Tolerance(DTYPE_RTOL, DTYPE_ATOL) if dtype else Tolerance()
    verdict = compare_outputs(a.value, b.value, tol)
    return None if verdict.equal else (verdict.reason or "outputs differ")


def _announce_retry(on_measure: Callable[[str], None], label: str, attempt: int) -> None:
    """Tell the progress display that `label` is measured again after contention."""
    on_measure(f"{label} (busy machine, retry {attempt})")


def _write_module(root: Path, tag: str, stem: str, code: str) -> str:
    """Write `code` as `<root>/<tag>/<stem>.py` and return the path."""
    folder = root / tag
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.py"
    path.write_text(code, encoding="utf-8")
    return str(path)


class Collector:
    """Runs a Plan, recording one row per (candidate, size) in the store."""

    def __init__(
        self,
        store: Store,
        options: CollectOptions,
        meter_name: str,
        meter_measured: bool,
        machine_id: str,
        workdir: str | None = None,
        probe: ContentionProbe | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.probe = probe if probe is not None else ContentionProbe()
        self.sleep = sleep
        self.options = options
        self.meter_name = meter_name
        self.meter_measured = meter_measured
        self.machine_id = machine_id
        self._tmp = tempfile.TemporaryDirectory(prefix="greenopt-train-", dir=workdir)
        self.root = Path(self._tmp.name)
        self.done = self._done_keys()

    def close(self) -> None:
        """Remove the temporary candidate files."""
        self._tmp.cleanup()

    def refresh(self) -> None:
        """Re-read the store (another process may have measured rows since)."""
        self.done = self._done_keys()

    def _done_keys(self) -> set[tuple[str, str, str, str, str]]:
        """Keys of the stored rows that need no (new) measurement.

        With `remeasure_contended`, a measured row whose comparison saw more than
        `max_other_cpus` other CPUs, or whose load was not recorded (rows from
        before the contention probe), is measured again; the new row replaces it.
        """
        rows = store_rows(self.store)
        if not self.options.remeasure_contended:
            return {r.key for r in rows}
        limit = self.options.max_other_cpus
        return {
            r.key
            for r in rows
            if r.status != "measured" or (r.other_cpus is not None and r.other_cpus <= limit)
        }

    def pending(self, task: CandidateTask) -> list[CorpusWorkload]:
        """The sizes of `task` not yet in the store."""
        return [
            wl
            for wl in task.kernel.workloads
            if (task.kernel.key, wl.size, task.candidate_hash, self.meter_name, self.machine_id)
            not in self.done
        ]

    def _row(
        self, task: CandidateTask, wl: CorpusWorkload, status: str, **kw: object
    ) -> TrainingRow:
        return TrainingRow(
            kernel=task.kernel.key,
            family=task.kernel.family,
            size=wl.size,
            function=task.function,
            candidate=task.candidate_hash,
            passes=list(task.passes),
            recipe=task.recipe,
            status=status,
            meter=self.meter_name,
            measured=self.meter_measured,
            machine_id=self.machine_id,
            sizes=dict(wl.sizes),
            original_code=task.original_function,
            candidate_code=task.candidate_function,
            **kw,  # type: ignore[arg-type]
        )

    def _record(self, row: TrainingRow) -> TrainingRow:
        record_row(self.store, row)
        self.done.add(row.key)
        return row

    def _compare_quietly(
        self,
        measure: Callable[[], T],
        on_retry: Callable[[int], None] | None = None,
    ) -> tuple[T, Contention | None, int]:
        """Run `measure` under the contention probe; re-run it while other work disturbed it.

        A contended result (other processes or steal above `max_other_cpus` on
        average) is measured again, after waiting up to `quiet_wait_s` for a quiet
        second, at most `retries` times; the least contended result is kept and
        returned with its contention and the number of attempts. Without
        `/proc/stat` there is nothing to judge and the first result is kept.
        """
        limit = self.options.max_other_cpus
        best: tuple[T, Contention | None] | None = None
        attempts = 0
        for attempt in range(1 + max(0, self.options.retries)):
            if attempt:
                if on_retry is not None:
                    on_retry(attempt)
                wait_until_quiet(self.probe, limit, self.options.quiet_wait_s, sleep=self.sleep)
            self.probe.start()
            result = measure()
            seen = self.probe.stop()
            attempts += 1
            if best is None or (
                seen is not None and best[1] is not None and seen.other_cpus < best[1].other_cpus
            ):
                best = (result, seen)
            if seen is None or not seen.contended(limit):
                break
        assert best is not None
        return best[0], best[1], attempts

    def run_kernel(
        self,
        kernel: CorpusKernel,
        tasks: Sequence[CandidateTask],
        on_measure: Callable[[str], None] | None = None,
    ) -> list[TrainingRow]:
        """Check each candidate of `kernel` once, then measure them size by size.

        At each size the pending equivalent candidates are measured together against
        one original (`greenopt.measure.runner.compare_many`, at most `group_size`
        candidates per session), so the original's child starts once per session and
        every candidate's ratio shares its samples. A session that fails is measured
        again candidate by candidate, so a failure is recorded against the candidate
        that caused it. Returns the new rows.
        """
        self.refresh()
        rows: list[TrainingRow] = []
        live: list[CandidateTask] = []
        for task in tasks:
            sizes = self.pending(task)
            if not sizes:
                continue
            reason = self._equivalence(task)
            if reason is not None:
                rows.extend(
                    self._record(self._row(task, wl, "not-equivalent", reason=reason[:300]))
                    for wl in sizes
                )
                continue
            live.append(task)
        for wl in kernel.workloads:
            group = [t for t in live if any(p.size == wl.size for p in self.pending(t))]
            for start in range(0, len(group), self.options.group_size):
                chunk = group[start : start + self.options.group_size]
                rows.extend(self._measure_group(kernel, wl, chunk, on_measure))
        return rows

    def _paths(self, task: CandidateTask) -> tuple[str, str]:
        """(original module path, candidate module path), written once under the work dir."""
        stem = task.kernel.stem
        orig = self.root / f"original-{stem}" / f"{stem}.py"
        cand = self.root / task.candidate_hash / f"{stem}.py"
        if not orig.exists():
            _write_module(self.root, f"original-{stem}", stem, task.kernel.code)
        if not cand.exists():
            _write_module(self.root, task.candidate_hash, stem, task.candidate_code)
        return str(orig), str(cand)

    def _equivalence(self, task: CandidateTask) -> str | None:
        """None when the candidate's outputs equal the original's (smallest size), else why not."""
        orig_path, cand_path = self._paths(task)
        smallest = task.kernel.workloads[0]
        return check_equivalent(
            corpus_workload(task.kernel, smallest, orig_path),
            corpus_workload(task.kernel, smallest, cand_path),
            dtype="dtype-reduction" in task.passes,
            timeout_s=self.options.timeout_s,
        )

    def _run_options(self) -> RunOptions:
        """How each session samples: the options' samples and limits, no idle baseline."""
        from greenopt.measure.runner import RunOptions

        return RunOptions(
            samples=self.options.samples,
            min_sample_s=self.options.min_sample_s,
            warmup=1,
            timeout_s=self.options.timeout_s,
            memory_mb=self.options.memory_mb,
            idle_baseline=False,
        )

    def _measure_group(
        self,
        kernel: CorpusKernel,
        wl: CorpusWorkload,
        tasks: Sequence[CandidateTask],
        on_measure: Callable[[str], None] | None,
    ) -> list[TrainingRow]:
        """Measure `tasks` (equivalent candidates of `kernel`) at size `wl` in one session."""
        from greenopt.measure.runner import compare_many

        recipes = ", ".join(t.recipe for t in tasks)
        label = f"{kernel.key}@{wl.size} {recipes}"
        if on_measure is not None:
            on_measure(label)
        feats = [
            candidate_features(
                function_features(kernel.code, wl.sizes, t.function),
                function_features(t.candidate_code, wl.sizes, t.function),
                t.passes,
            )
            for t in tasks
        ]
        paths = [self._paths(t) for t in tasks]
        try:
            comparisons, seen, attempts = self._compare_quietly(
                functools.partial(
                    compare_many,
                    corpus_workload(kernel, wl, paths[0][0]),
                    [corpus_workload(kernel, wl, cand) for _, cand in paths],
                    meter=self.meter_name,
                    options=self._run_options(),
                ),
                on_retry=None
                if on_measure is None
                else functools.partial(_announce_retry, on_measure, label),
            )
        except MeterError:
            raise
        except WorkloadError as exc:
            if len(tasks) > 1:  # find out which candidate failed
                return [
                    row
                    for task in tasks
                    for row in self._measure_group(kernel, wl, [task], on_measure)
                ]
            return [
                self._record(
                    self._row(tasks[0], wl, "failed", reason=str(exc)[:300], features=feats[0])
                )
            ]
        other = None if seen is None else round(seen.other_cpus, 3)
        return [
            self._record(
                self._row(
                    task,
                    wl,
                    "measured",
                    ratio=float(cmp.ratio),
                    ci95=(float(cmp.ci95[0]), float(cmp.ci95[1])),
                    time_ratio=float(cmp.time_ratio),
                    orig_energy_j=float(cmp.a.energy_median_j),
                    cand_energy_j=float(cmp.b.energy_median_j),
                    samples=self.options.samples,
                    features=feat,
                    other_cpus=other,
                    attempts=attempts,
                )
            )
            for task, cmp, feat in zip(tasks, comparisons, feats, strict=True)
        ]
