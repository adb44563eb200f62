"""The validated rewrite's report (fixes from a real-world code hunt): a candidate that
raised shows no error figure, a helper row no figures of its own rejected candidate,
no pay-back when the function was compiled before its first measured call, and Numba
compile failures or long exception texts as one clear line.

Fast: the scripted measurement backend of `test_rewrite_combination` (no real A/B run).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from greenopt.measure.workload import Workload
from greenopt.optimizer.equivalence import Tolerance, compare_outputs, one_line
from greenopt.optimizer.functions import function_sources
from greenopt.optimizer.pipeline import (
    ACCEPTED,
    HELPER,
    REJECTED,
    FunctionResult,
    _mark_helpers,
    optimize,
    report_reason,
)
from greenopt.optimizer.report import render_table
from greenopt.optimizer.snapshot import Raised
from greenopt.optimizer.source import SourceModule

from .fakepasses import ReplaceBodyPass
from .test_rewrite_combination import FAST, FakeComparison, FakeMeasurement, scripted_backend


def _table(result: Any) -> str:
    buf = io.StringIO()
    render_table(result, Console(file=buf, width=200, color_system=None))
    return buf.getvalue()


def test_a_candidate_that_raised_shows_no_max_error(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def f(x):\n    return x + 1.0\n")
    result = optimize(
        path,
        [Workload("x = 3.0", ("f(x)",))],
        passes={
            "replace-body": ReplaceBodyPass(
                {"f": "raise ValueError('first line\\n' + 'second line ' * 50)\n"}
            )
        },
        backend=scripted_backend(lambda t: 0.5),
        **FAST,
    )
    (f,) = result.functions
    assert f.verdict == REJECTED
    assert f.max_rel_error is None and f.max_abs_error is None  # nothing was compared
    assert f.candidates[0].max_rel_error is None
    assert "candidate raised builtins.ValueError: first line" in (f.reason or "")
    assert "\n" not in (f.reason or "") and "second line" not in (f.reason or "")
    row = next(line for line in _table(result).splitlines() if line.startswith(" f "))
    assert row.split()[-2:] == ["-", "-"]  # max rel err and CO2e: no "0"


def test_a_helper_row_does_not_show_its_own_rejected_candidate() -> None:
    original = SourceModule.parse(
        "def sq(v):\n    return v * v\n\n\ndef total(x):\n    return sq(x)\n"
    )
    new_code = original.code.replace("def sq", "@numba.njit\ndef sq").replace(
        "def total", "@numba.njit\ndef total"
    )
    total = FunctionResult(name="total", verdict=ACCEPTED, passes=("jit",), ratio=0.1)
    sq = FunctionResult(
        name="sq",
        verdict=REJECTED,
        reason="jit#1: no significant saving: ratio 0.967",
        passes=("jit",),
        energy_before_j=0.128,
        energy_after_j=0.124,
        ratio=0.967,
        ci95=(0.95, 0.98),
        max_abs_error=0.0,
        max_rel_error=0.0,
    )
    _mark_helpers([total, sq], function_sources(original), "import numba\n" + new_code)
    assert sq.verdict == HELPER
    assert sq.ratio is None and sq.ci95 is None and sq.energy_before_j is None
    assert sq.energy_after_j is None and sq.max_rel_error is None
    assert "`total`" in (sq.reason or "") and "its own rewrite was rejected" in (sq.reason or "")


JIT_CODE = "def f(x):\n    return x + 1.0\n"


def _jit_run(tmp_path: Path, b_precompiled: tuple[str, ...]) -> Any:
    path = tmp_path / "fg.py"
    path.write_text(JIT_CODE)

    def compare(a: Workload, b: Workload, meter: str, options: Any, progress: Any) -> Any:
        return FakeComparison(
            FakeMeasurement(1.0, 1.0, cold_energy_j=1.1),
            _Measured(0.5, 0.5, cold_energy_j=1.0, precompiled=b_precompiled),
            0.5,
            (0.475, 0.525),
        )

    backend = scripted_backend(lambda t: 0.5)
    return optimize(
        path,
        [Workload("x = 3.0", ("f(x)",))],
        passes={"jit": ReplaceBodyPass({"f": "return 1.0 + x\n"}, name="jit")},
        backend=replace(backend, compare=compare),
        **FAST,
    )


@dataclass
class _Measured:
    energy_median_j: float
    time_median_s: float
    cold_energy_j: float | None = None
    precompiled: tuple[str, ...] = ()


def test_no_pay_back_when_the_function_was_compiled_before_its_first_call(
    tmp_path: Path,
) -> None:
    measured = _jit_run(tmp_path, ())
    (f,) = measured.functions
    assert f.break_even_calls == 1 and f.cold_energy_j == 1.0  # the normal case
    compiled = _jit_run(tmp_path, ("f",))
    (f,) = compiled.functions
    assert f.verdict == ACCEPTED
    assert f.break_even_calls is None and f.cold_energy_j is None
    assert f.candidates[0].break_even_calls is None
    assert "compiled during import or setup" in (f.reason or "")
    assert "pay-back not measured" in (f.reason or "")
    table = _table(compiled)
    assert "pays back" not in table and "first call" not in table


def test_child_reports_numba_functions_compiled_before_the_cold_call(tmp_path: Path) -> None:
    """A dispatcher (duck-typed) with signatures after import: compiled at import."""
    from greenopt.measure.child import ChildSession

    (tmp_path / "mod.py").write_text(
        "class _Dispatcher:\n"
        "    def __init__(self, f, sigs):\n"
        "        self.py_func, self.signatures = f, sigs\n"
        "    def __call__(self, x):\n"
        "        return self.py_func(x)\n"
        "def _f(x):\n    return x + 1\n"
        "def _g(x):\n    return x\n"
        "f = _Dispatcher(_f, ['(float64,)'])\n"
        "g = _Dispatcher(_g, [])\n"
        "f(1.0)\n"
    )
    spec = {
        "meter": "estimate",
        "workload": {
            "setup": "",
            "calls": ["f(1.0)", "g(1.0)"],
            "module_path": str(tmp_path / "mod.py"),
            "module_name": "mod",
        },
    }
    session = ChildSession(spec)
    try:
        reply = session.prepare()
    finally:
        session.close()
    assert reply["precompiled"] == ["f"]


def test_measurement_children_get_a_fresh_numba_cache() -> None:
    from greenopt.measure.runner import _child_env

    assert _child_env("/tmp/x-numba-cache")["NUMBA_CACHE_DIR"] == "/tmp/x-numba-cache"


# -- 6. Numba compile failures and long exception texts ----------------------------------

TYPING_ERROR = (
    "Failed in nopython mode pipeline (step: nopython frontend)\n"
    "\x1b[1mUnknown attribute 'foo' of type Module(<module 'numpy'>)\n"
    '\x1b[0m\nFile "k.py", line 5:\ndef f(x):\n    return np.foo(x)\n    ^\n\n'
    "During: typing of get attribute at k.py (5)"
)


def test_numba_typing_error_becomes_one_clear_line() -> None:
    original = {"results": [1.0], "namespace": {}}
    candidate = {
        "results": [Raised("numba.core.errors.TypingError", TYPING_ERROR)],
        "namespace": {},
    }
    eq = compare_outputs(original, candidate, Tolerance())
    assert not eq.equal and not eq.numeric_difference
    assert eq.reason == (
        "call 1: Numba cannot compile it: Unknown attribute 'foo' of type Module(<module 'numpy'>)"
    )
    # as check_equivalence words it, then as the report shows it
    assert report_reason(f"[workload 1] outputs differ: {eq.reason}") == (
        "Numba cannot compile it: Unknown attribute 'foo' of type Module(<module 'numpy'>)"
    )


def test_long_exception_text_is_cut_to_its_first_line_at_a_word() -> None:
    text = "candidate failed: " + "word " * 100 + "\nTraceback (most recent call last):\n  x"
    short = report_reason(text)
    assert short is not None and "\n" not in short and "Traceback" not in short
    assert short.endswith("word…") and len(short) <= 240
    assert one_line("  \n  a   b  \nc") == "a b"
