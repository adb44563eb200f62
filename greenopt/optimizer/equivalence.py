"""Are a candidate's outputs the original's, within tolerance? (DESIGN §4 "Equivalence")

Compares two output snapshots (see `greenopt.optimizer.worker.collect_outputs`):
the value each call returned or the exception it raised, every data value left in
the setup namespace after the calls, and for workload files the locals of each
`workload_*()` at its return (both catch arguments mutated in place).

Rules: shapes exact; dtypes equal (a float32 result where float64 was returned is
a difference, whatever the values); floats compared `numpy.isclose`-style with the
original as reference, `|cand - orig| <= atol + rtol * |orig|`, NaN equal to NaN
in the same place, infinities exact; integers, booleans, strings exact; a call that
raises where the original returned (or the reverse, or another exception type) is
a difference. The worst absolute and relative errors seen are recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenopt.optimizer.snapshot import Opaque, Raised

#: the float64-tight default tolerance of DESIGN §4
DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 0.0


@dataclass(frozen=True)
class Tolerance:
    """Relative and absolute tolerance of the comparison."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    @property
    def loosened(self) -> bool:
        """True when the user allowed more error than the float64-tight default."""
        return self.rtol > DEFAULT_RTOL or self.atol > DEFAULT_ATOL


@dataclass
class Equivalence:
    """The verdict of one comparison: equal or not, why not, and the worst errors."""

    equal: bool = True
    reason: str | None = None
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    compared: int = 0  # number of leaf values compared
    #: the difference found is numeric (values outside the tolerance), so the worst
    #: errors describe it; for any other difference (a call that raised, a shape or
    #: dtype that differs) they describe only what was compared before it
    numeric_difference: bool = False

    def merge(self, other: Equivalence) -> Equivalence:
        """Combine two comparisons (e.g. two seeds): unequal if either is, worst errors."""
        first = self if not self.equal else other
        return Equivalence(
            equal=self.equal and other.equal,
            reason=self.reason or other.reason,
            max_abs_error=max(self.max_abs_error, other.max_abs_error),
            max_rel_error=max(self.max_rel_error, other.max_rel_error),
            compared=self.compared + other.compared,
            numeric_difference=first.numeric_difference,
        )


#: the longest exception text a reason carries (it ends up in one line of a report)
MESSAGE_LIMIT = 160

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: lines of a Numba error that say where or in which step it failed, not what
_NUMBA_FRAME = re.compile(
    r"^(Failed in |During: |File \"|Enable logging|<source elided>|"
    r"This error may have been caused|- Resolution failure|\^)"
)


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """The first non-empty line of `text` (colour codes dropped, blanks collapsed),
    cut at a word boundary with "…" when longer than `limit` characters."""
    first = ""
    for line in _ANSI.sub("", str(text)).splitlines():
        if line.strip():
            first = " ".join(line.split())
            break
    return shorten(first, limit)


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut at the last word boundary before `limit` characters, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def is_numba_error(type_name: str) -> bool:
    """True for Numba's own exception types (TypingError, LoweringError, ...): raised
    when a call cannot be compiled, never by the compiled code at run time."""
    return type_name.startswith("numba.")


def numba_error_line(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """The first line of a Numba error that says what is wrong (the pipeline step,
    source excerpts and "During: ..." lines skipped), on one line, with the argument
    Numba could not type when it names one ("(argument 0: Cannot determine ...)")."""
    lines = [line.strip() for line in _ANSI.sub("", str(message)).splitlines()]
    main = next((t for t in lines if t and not _NUMBA_FRAME.match(t)), "")
    hint = next((t[2:] for t in lines if t.startswith("- argument ")), "")
    if not main and not hint:
        return one_line(message, limit)
    text = f"{main} ({hint})" if main and hint else main or hint
    return shorten(" ".join(text.split()), limit)


def compile_failure(type_name: str, message: str) -> str:
    """The reason for a candidate Numba could not compile: one line, no traceback."""
    detail = numba_error_line(message)
    return f"Numba cannot compile it: {detail}" if detail else "Numba cannot compile it"


@dataclass
class _State:
    tol: Tolerance
    result: Equivalence = field(default_factory=Equivalence)

    def fail(self, where: str, why: str) -> None:
        if self.result.equal:
            self.result.equal = False
            self.result.reason = f"{where}: {why}"


def compare_outputs(
    original: Mapping[str, Any], candidate: Mapping[str, Any], tol: Tolerance
) -> Equivalence:
    """Compare two `collect_outputs` snapshots; the original is the reference."""
    state = _State(tol)
    orig_results, cand_results = original["results"], candidate["results"]
    if len(orig_results) != len(cand_results):
        state.fail("calls", f"{len(cand_results)} results instead of {len(orig_results)}")
        return state.result
    for i, (a, b) in enumerate(zip(orig_results, cand_results, strict=True)):
        _compare(a, b, f"call {i + 1}", state)
    orig_locals = original.get("locals") or [{} for _ in orig_results]
    cand_locals = candidate.get("locals") or [{} for _ in cand_results]
    for i, (la, lb) in enumerate(zip(orig_locals, cand_locals, strict=True)):
        for name in sorted(set(la) | set(lb)):
            where = f"call {i + 1} local {name!r}"
            if name in la and name in lb:
                _compare(la[name], lb[name], where, state)
            else:
                side = "original" if name in la else "candidate"
                state.fail(where, f"only the {side} defines it")
    for i, (a, b) in enumerate(
        zip(original.get("results_at_end", ()), candidate.get("results_at_end", ()), strict=False)
    ):
        # a result the caller still holds, changed by a later call (a reused buffer)
        _compare(a, b, f"call {i + 1} result after the later calls", state)
    for i, (a, b) in enumerate(
        zip(original.get("aliases", ()), candidate.get("aliases", ()), strict=False)
    ):
        if a != b:
            state.fail(
                f"call {i + 1}",
                f"result shares memory with {sorted(b) or 'nothing'} instead of {sorted(a) or 'nothing'}",
            )
    orig_globals, cand_globals = original.get("globals", {}), candidate.get("globals", {})
    for name in sorted(set(orig_globals) & set(cand_globals)):
        # module-level data of the module under test (rebound by `global`) and of a
        # workload file; a global that one variant only has is an implementation detail
        _compare(orig_globals[name], cand_globals[name], f"global {name}", state)
    orig_rng, cand_rng = original.get("random_state"), candidate.get("random_state")
    if orig_rng is not None and cand_rng is not None:
        sources = ("random", "numpy.random")
        for source, a, b in zip(sources, orig_rng, cand_rng, strict=True):
            if a != b:  # later draws of the caller would differ
                state.fail(f"{source} global state", "differs after the calls (other draws)")
    module_names = set(original.get("module_names", ())) | set(candidate.get("module_names", ()))
    orig_ns, cand_ns = original["namespace"], candidate["namespace"]
    for name in sorted(set(orig_ns) | set(cand_ns)):
        if name in orig_ns and name in cand_ns:
            _compare(orig_ns[name], cand_ns[name], f"variable {name!r}", state)
        elif name not in module_names:
            # a setup variable that exists in one run only
            side = "original" if name in orig_ns else "candidate"
            state.fail(f"variable {name!r}", f"only the {side} defines it")
        # a module-level global present in one variant only is an implementation detail
    return state.result


def _compare(a: Any, b: Any, where: str, st: _State) -> None:
    """Compare reference `a` with candidate `b`, recording the first difference."""
    if isinstance(a, Raised) or isinstance(b, Raised):
        if not (isinstance(a, Raised) and isinstance(b, Raised)):
            if isinstance(a, Raised):
                st.fail(where, f"original raised {a.type_name} but the candidate returned")
            elif is_numba_error(b.type_name):
                st.fail(where, compile_failure(b.type_name, b.message))
            else:
                detail = one_line(b.message)
                st.fail(
                    where, f"candidate raised {b.type_name}" + (f": {detail}" if detail else "")
                )
        elif a.type_name != b.type_name:
            st.fail(where, f"candidate raised {b.type_name} instead of {a.type_name}")
        return
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        _compare_arrays(a, b, where, st)
        return
    if _is_number(a) and _is_number(b):
        _compare_numbers(a, b, where, st)
        return
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        if not (isinstance(a, Opaque) and isinstance(b, Opaque)) or a.type_name != b.type_name:
            st.fail(where, f"type {_describe(b)} instead of {_describe(a)}")
        elif a.text != b.text and (a.attributes is None or b.attributes is None):
            st.fail(where, "value differs")
        else:
            _compare(a.attributes, b.attributes, where, st)
        return
    if isinstance(a, np.generic) and isinstance(b, np.generic):
        # datetime64, void (structured) and other non-number NumPy scalars
        if a.dtype != b.dtype:
            st.fail(where, f"dtype {b.dtype} instead of {a.dtype}")
        else:
            _compare_arrays(np.asarray(a), np.asarray(b), where, st)
        return
    if type(a) is not type(b):
        st.fail(where, f"type {_describe(b)} instead of {_describe(a)}")
        return
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            st.fail(where, f"length {len(b)} instead of {len(a)}")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _compare(x, y, f"{where}[{i}]", st)
        return
    if isinstance(a, dict):
        if set(a) != set(b):
            st.fail(where, "different keys")
            return
        if list(a) != list(b):  # iteration order is observable (`list(d)`, JSON)
            st.fail(where, "the same keys in another order")
            return
        for key in a:
            _compare(a[key], b[key], f"{where}[{key!r}]", st)
        return
    st.result.compared += 1
    if a != b:
        st.fail(where, "value differs")


def _describe(value: Any) -> str:
    if isinstance(value, Opaque):
        return value.type_name
    if isinstance(value, np.ndarray):
        return f"ndarray[{value.dtype}]"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, complex, np.number, np.bool_))


def _is_big_int(value: Any) -> bool:
    """A Python int outside int64's range (compared exactly, never through NumPy)."""
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63


def _dtype_of(value: Any) -> np.dtype:
    """The dtype a scalar stands for: Python float is float64, int is int64, etc."""
    if isinstance(value, np.generic):
        return value.dtype
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, float):
        return np.dtype(np.float64)
    return np.dtype(np.complex128)


def _compare_numbers(a: Any, b: Any, where: str, st: _State) -> None:
    if _is_big_int(a) or _is_big_int(b):
        # Python ints beyond int64 (no NumPy dtype holds them): exact, type-checked.
        st.result.compared += 1
        if type(a) is not type(b):
            st.fail(where, f"type {_describe(b)} instead of {_describe(a)}")
        elif a != b:
            st.fail(where, "value differs")
        return
    da, db = _dtype_of(a), _dtype_of(b)
    if da != db:
        st.fail(where, f"dtype {db} instead of {da}")
        return
    _compare_arrays(np.asarray(a, dtype=da), np.asarray(b, dtype=db), where, st)


def _compare_arrays(a: Any, b: Any, where: str, st: _State) -> None:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        st.fail(where, f"type {_describe(b)} instead of {_describe(a)}")
        return
    if a.shape != b.shape:
        st.fail(where, f"shape {b.shape} instead of {a.shape}")
        return
    if a.dtype != b.dtype:
        st.fail(where, f"dtype {b.dtype} instead of {a.dtype}")
        return
    st.result.compared += max(a.size, 1)
    if a.size == 0:
        return
    if a.dtype.names:
        # structured: field by field (floats with tolerance and NaN-aware)
        for name in a.dtype.names:
            _compare_arrays(np.asarray(a[name]), np.asarray(b[name]), f"{where}.{name}", st)
        return
    if a.dtype.kind not in "fc":
        if a.dtype.kind in "Mm":
            if not np.array_equal(a, b, equal_nan=True):  # NaT equal to NaT
                bad = int(np.count_nonzero((a != b) & ~(np.isnat(a) & np.isnat(b))))
                st.fail(where, f"{bad} of {a.size} elements differ")
            return
        if a.dtype.kind in "biu" or a.dtype.kind in "SU":
            if not np.array_equal(a, b):
                bad = int(np.count_nonzero(a != b))
                st.fail(where, f"{bad} of {a.size} elements differ")
            return
        if not np.array_equal(a, b):  # structured/void dtypes: exact
            st.fail(where, "values differ")
        return
    _compare_floats(a, b, where, st)


def _compare_floats(a: np.ndarray, b: np.ndarray, where: str, st: _State) -> None:
    """isclose-style comparison with NaN/inf handling and error bookkeeping."""
    tol = st.tol
    if a.dtype.kind == "c":
        # NaN in one part must not hide the other part: NaN places per part, then the
        # parts of the elements that hold a NaN compared as floats
        for part in ("real", "imag"):
            pa, pb = getattr(a, part), getattr(b, part)
            if not np.array_equal(np.isnan(pa), np.isnan(pb)):
                st.fail(
                    where,
                    f"NaN in {int(np.count_nonzero(np.isnan(pa) != np.isnan(pb)))} different places",
                )
                return
        some_nan = np.isnan(a)
        if some_nan.any():
            _compare_floats(
                np.concatenate([a.real[some_nan], a.imag[some_nan]]),
                np.concatenate([b.real[some_nan], b.imag[some_nan]]),
                where,
                st,
            )
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        st.fail(where, f"NaN in {int(np.count_nonzero(nan_a != nan_b))} different places")
        return
    inf_a, inf_b = np.isinf(a), np.isinf(b)
    if not np.array_equal(inf_a, inf_b) or not np.array_equal(a[inf_a], b[inf_b]):
        st.fail(where, "infinities differ")
        return
    finite = ~(nan_a | inf_a)
    if not finite.any():
        return
    # at least float64, never narrower than the data (longdouble beyond float64's range
    # would overflow to inf, and inf - inf is NaN, which no `>` flags)
    work = np.result_type(a.dtype, np.complex128 if a.dtype.kind == "c" else np.float64)
    fa = a[finite].astype(work)
    fb = b[finite].astype(work)
    diff = np.abs(fb - fa)
    mag = np.abs(fa)
    max_abs = float(diff.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(mag > 0, diff / np.where(mag > 0, mag, 1.0), np.where(diff > 0, np.inf, 0.0))
    max_rel = float(rel.max())
    st.result.max_abs_error = max(st.result.max_abs_error, max_abs)
    st.result.max_rel_error = max(st.result.max_rel_error, max_rel)
    bad = ~(diff <= tol.atol + tol.rtol * mag)  # NaN-safe
    if bad.any():
        n = int(np.count_nonzero(bad))
        if st.result.equal:
            st.result.numeric_difference = True
        rel_text = "inf" if math.isinf(max_rel) else f"{max_rel:.3g}"
        st.fail(
            where,
            f"{n} of {a.size} values outside tolerance (max abs error {max_abs:.3g}, "
            f"max rel error {rel_text}; rtol={tol.rtol:g}, atol={tol.atol:g})",
        )
