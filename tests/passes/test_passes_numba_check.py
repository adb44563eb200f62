"""The child-process Numba compile check and the LLVM IR statistics."""

from __future__ import annotations

import numpy as np

from greenopt.measure.workload import Workload
from greenopt.passes.numba_check import CompileResult, check_compiles, llvm_ir_stats

MODULE = """
import numpy as np


def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out


def dict_of_lists(x):
    d = {"a": [1, 2], "b": [3.0]}
    s = 0.0
    for k in d:
        s += len(d[k]) * x[0]
    return s


def sq(v):
    return v * v


def total(x):
    s = 0.0
    for i in range(len(x)):
        s += sq(x[i])
    return s


def driver(x, y):
    return saxpy(3.0, x, y).sum()
"""


def test_plain_loop_compiles_against_the_workload_arguments() -> None:
    workload = Workload(
        setup="import numpy as np\nx = np.random.rand(1000)\ny = np.random.rand(1000)",
        calls=("kern.driver(x, y)",),
    )
    result = check_compiles(MODULE, "kern", "saxpy", workload=workload)
    assert isinstance(result, CompileResult)
    assert result.ok, result.reason
    assert result.reason == ""
    assert result.signatures and "float64" in result.signatures[0]
    stats = result.llvm_ir_stats
    assert stats["n_instructions"] > 0 and stats["n_fmul"] >= 1
    assert stats["max_vector_width"] >= 1
    assert result.compile_s is not None and result.compile_s > 0


def test_unsupported_construct_reports_the_numba_error() -> None:
    result = check_compiles(MODULE, "kern", "dict_of_lists", arg_types=["float64[::1]"])
    assert not result.ok
    assert result.error_class == "TypingError"
    assert result.reason.startswith("TypingError:")
    assert "Failed in nopython mode pipeline" not in result.reason


def test_helpers_must_be_jitted_too() -> None:
    missing = check_compiles(MODULE, "kern", "total", arg_types=["float64[::1]"])
    assert not missing.ok and "sq" in missing.reason
    with_helper = check_compiles(
        MODULE, "kern", "total", arg_types=["float64[::1]"], helpers=["sq"]
    )
    assert with_helper.ok, with_helper.reason


def test_example_arguments_and_run_with_options() -> None:
    result = check_compiles(
        MODULE,
        "kern",
        "saxpy",
        args=(2.0, np.ones(8), np.ones(8)),
        run=True,
        options={"fastmath": True},
    )
    assert result.ok, result.reason


def test_function_not_called_and_unknown_function() -> None:
    workload = Workload(setup="import numpy as np", calls=("kern.sq(2.0)",))
    not_called = check_compiles(MODULE, "kern", "saxpy", workload=workload)
    assert not not_called.ok and not_called.error_class == "NotCalled"
    unknown = check_compiles(MODULE, "kern", "nope", arg_types=["float64"])
    assert not unknown.ok and "nope" in unknown.reason


def test_hang_in_compiled_code_is_a_timeout_not_a_hang() -> None:
    spin = "def spin(n):\n    i = 0\n    while i >= 0:\n        i = (i + n) % 7\n    return i\n"
    result = check_compiles(spin, "spinmod", "spin", args=(1,), run=True, timeout_s=10)
    assert not result.ok and result.error_class == "Timeout"


def test_llvm_ir_stats_counts_vector_instructions_and_skips_wrappers() -> None:
    ir = """
define i32 @"_ZN8__main__3addB2v1E5ArrayIdLi1E"(double* %a) {
entry:
  %0 = load <4 x double>, <4 x double>* %p, align 8
  %1 = fadd <4 x double> %0, %0
  store <4 x double> %1, <4 x double>* %p, align 8
  %2 = fmul double %x, %y
  %3 = tail call double @llvm.sqrt.f64(double %2)
  ret i32 0
}

define i8* @"cpython._ZN8__main__3addB2v1E5ArrayIdLi1E"(i8* %py_args) {
entry:
  %0 = load double, double* %q
  %1 = fadd double %0, %0
  ret i8* null
}
"""
    stats = llvm_ir_stats(ir)
    assert stats["n_functions"] == 1
    assert stats["n_load"] == 1 and stats["n_store"] == 1
    assert stats["n_fadd"] == 1 and stats["n_fmul"] == 1
    assert stats["n_vector_instructions"] == 3
    assert stats["max_vector_width"] == 4 and stats["vector_bits"] == 256
    assert stats["n_llvm_intrinsics"] == 1 and stats["n_call"] == 1
