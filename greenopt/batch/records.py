"""Plain records that travel from the per-file analysis (any process, any machine) to the store.

They are frozen dataclasses of builtins only, so they pickle cheaply to process
pools and Dask workers, and two runs of the same file compare equal field by
field (timings are kept out of `FileResult.__eq__`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: per-file statuses; "ok" and "empty" are not errors
STATUS_OK = "ok"
STATUS_EMPTY = "empty"
ERROR_STATUSES: tuple[str, ...] = (
    "syntax",
    "python2",
    "binary",
    "non-utf8",
    "too-large",
    "too-complex",
    "timeout",
    "symlink-loop",
    "unreadable",
    "internal-error",
    "worker-crash",
)
#: statuses that depend only on the file's content and the analysis code: safe to reuse
CACHEABLE_STATUSES: frozenset[str] = frozenset(
    {STATUS_OK, STATUS_EMPTY, "syntax", "python2", "binary", "non-utf8", "too-complex"}
)


@dataclass(frozen=True)
class OpportunityRecord:
    """One opportunity a pass found, with its predicted energy ratio when a model is available.

    `predicted_ratio` is E_rewritten / E_original of the enclosing function as
    predicted by the cost model (lower is better); `prediction_source` is
    "model", "baseline" (the model's own fallback) or "none" (no prediction).
    """

    pass_name: str
    code: str
    message: str
    line: int
    col: int
    end_line: int
    end_col: int
    site_function: str | None
    fixable: bool
    static_safe: bool
    predicted_ratio: float | None
    predicted_lo: float | None
    predicted_hi: float | None
    prediction_source: str


@dataclass(frozen=True)
class FunctionRecord:
    """One function of a file: location, static features, opportunities, predicted saving.

    `predicted_saving` is 1 - (lowest predicted ratio among the function's
    opportunities): the fraction of the function's energy that its best single
    rewrite is predicted to save; None when nothing was predicted.
    """

    qualname: str
    line: int
    end_line: int
    col: int
    n_lines: int
    n_statements: int
    n_loops: int
    max_loop_depth: int
    n_comprehensions: int
    n_calls: int
    n_numpy_calls: int
    is_method: bool
    is_async: bool
    candidate: bool
    features: dict[str, float] = field(hash=False)
    features_source: str
    opportunities: tuple[OpportunityRecord, ...]
    predicted_saving: float | None
    prediction_source: str


@dataclass(frozen=True)
class FileResult:
    """The analysis of one file: a status, a one-line message and its functions."""

    path: str
    sha256: str | None
    size: int
    status: str
    message: str
    n_lines: int = 0
    functions: tuple[FunctionRecord, ...] = ()
    elapsed_s: float = field(default=0.0, compare=False)

    @property
    def is_error(self) -> bool:
        """True for every status except "ok" and "empty"."""
        return self.status not in (STATUS_OK, STATUS_EMPTY)

    @property
    def cacheable(self) -> bool:
        """True when the result depends only on content and code, so a re-run may reuse it."""
        return self.sha256 is not None and self.status in CACHEABLE_STATUSES


@dataclass(frozen=True)
class FileTask:
    """One file to analyse: its reported path and its bytes (read by the parent)."""

    path: str
    data: bytes
    sha256: str


def crash_result(task: FileTask, why: str) -> FileResult:
    """The result of a file whose worker died while analysing it."""
    return FileResult(
        path=task.path,
        sha256=task.sha256,
        size=len(task.data),
        status="worker-crash",
        message=f"the worker analysing this file died ({why})",
    )
