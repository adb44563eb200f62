"""`greenopt.optimize` end to end with injected test-only passes (no registry changes).

These tests catch what static analysis cannot: a deliberately wrong pass, rewrites
that crash, hang, run out of memory or raise, and a rewrite that is only right for
one random draw. They also check that functions no workload runs are never changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenopt.measure.workload import Workload
from greenopt.optimizer.pipeline import optimize

from .fakepasses import ReplaceBodyPass, ScaleReturnsPass

KERNELS = """import numpy as np


def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out


def untouched(x):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = 2.0 * x[i]
    return out
"""

SETUP = "import numpy as np\nx = np.random.rand(100_000)\ny = np.random.rand(100_000)"


def _module(tmp_path: Path, code: str = KERNELS, name: str = "kern.py") -> Path:
    path = tmp_path / name
    path.write_text(code)
    return path


def test_good_rewrite_accepted_unexercised_function_untouched(
    tmp_path: Path, fast: dict[str, Any]
) -> None:
    path = _module(tmp_path)
    good = ReplaceBodyPass({"saxpy": "return a * x + y\n", "untouched": "return 2.0 * x\n"})
    result = optimize(
        path, [Workload(SETUP, ("saxpy(2.0, x, y)",))], passes={"replace-body": good}, **fast
    )
    by_name = {f.name: f for f in result.functions}
    assert by_name["saxpy"].verdict == "accepted", by_name["saxpy"].reason
    assert by_name["saxpy"].reason.startswith("replace-body#1 (GO901): measured ratio")
    assert by_name["saxpy"].ratio < 0.5 and by_name["saxpy"].ci95[1] < 0.98
    assert by_name["saxpy"].energy_after_j < by_name["saxpy"].energy_before_j
    assert by_name["untouched"].verdict == "not exercised"
    assert "return a * x + y" in result.new_code
    assert "out[i] = 2.0 * x[i]" in result.new_code  # the unexercised loop stays
    assert result.meter_name == "estimate" and result.meter_measured is False
    assert path.read_text() == KERNELS  # optimize never writes


def test_deliberately_wrong_pass_is_rejected_with_the_reason(
    tmp_path: Path, fast: dict[str, Any]
) -> None:
    path = _module(tmp_path)
    result = optimize(
        path,
        [Workload(SETUP, ("saxpy(2.0, x, y)",))],
        passes={"scale-returns": ScaleReturnsPass()},
        **fast,
    )
    (saxpy,) = [f for f in result.functions if f.name == "saxpy"]
    assert saxpy.verdict == "rejected"
    assert "outputs differ" in saxpy.reason and "outside tolerance" in saxpy.reason
    assert saxpy.max_rel_error == __import__("pytest").approx(1e-6, rel=1e-3)
    (cand,) = saxpy.candidates
    assert cand.validated and not cand.measured and cand.verdict == "rejected"
    assert result.new_code == KERNELS and not result.changed


BAD = """import numpy as np


def crashes(x):
    return x + 1


def hangs(x):
    return x + 1


def hungry(x):
    return x + 1


def raises(x):
    return x + 1
"""


def test_crash_hang_oom_and_raise_are_rejected_not_fatal(
    tmp_path: Path, fast: dict[str, Any]
) -> None:
    path = _module(tmp_path, BAD, "bad.py")
    bodies = {
        "crashes": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
        "hangs": "while True:\n    pass\n",
        "hungry": "return np.ones(2 * 10**9 // 8) + x\n",
        "raises": "raise ValueError('nope')\n",
    }
    fast.update(timeout_s=4.0, memory_mb=1024)
    result = optimize(
        path,
        [Workload("x = 1.0", ("crashes(x)", "hangs(x)", "hungry(x)", "raises(x)"))],
        passes={"replace-body": ReplaceBodyPass(bodies)},
        **fast,
    )
    reasons = {f.name: f.reason for f in result.functions}
    assert all(f.verdict == "rejected" for f in result.functions), reasons
    assert "crash" in reasons["crashes"] and "SIGSEGV" in reasons["crashes"]
    assert "hang" in reasons["hangs"] and "timed out" in reasons["hangs"]
    assert "out of memory" in reasons["hungry"]
    assert "candidate raised builtins.ValueError" in reasons["raises"]
    assert result.new_code == BAD


FIRST = """def first(x):
    return float(x[0])
"""


def test_second_seed_catches_a_rewrite_right_for_one_draw_only(
    tmp_path: Path, fast: dict[str, Any]
) -> None:
    import numpy as np

    np.random.seed(0)
    seed0_value = float(np.random.rand(3)[0])  # what the workload's setup draws with seed 0
    path = _module(tmp_path, FIRST, "first.py")
    cheat = ReplaceBodyPass({"first": f"return {seed0_value!r}\n"})
    result = optimize(
        path,
        [Workload("import numpy as np\nx = np.random.rand(3)", ("first(x)",))],
        passes={"replace-body": cheat},
        **fast,
    )
    (first,) = result.functions
    assert first.verdict == "rejected"
    assert "(second seed)" in first.reason and "outputs differ" in first.reason


def test_no_candidates_means_unchanged(tmp_path: Path, fast: dict[str, Any]) -> None:
    path = _module(tmp_path)
    result = optimize(
        path,
        [Workload(SETUP, ("saxpy(2.0, x, y)",))],
        passes={"replace-body": ReplaceBodyPass({})},
        **fast,
    )
    by_name = {f.name: f for f in result.functions}
    assert by_name["saxpy"].verdict == "unchanged"
    assert "no applicable rewrite" in by_name["saxpy"].reason


NORMALIZE = """import numpy as np


def normalize(u):
    u /= u.sum()
"""

NORMALIZE_WORKLOAD = """import numpy as np

import norm


def workload_normalize():
    u = np.random.rand(1000)
    norm.normalize(u)
"""


def test_in_place_mutation_of_a_workload_file_local_is_compared(
    tmp_path: Path, fast: dict[str, Any]
) -> None:
    path = _module(tmp_path, NORMALIZE, "norm.py")
    wl = tmp_path / "norm_workload.py"
    wl.write_text(NORMALIZE_WORKLOAD)
    # returns the same (None) but no longer normalises the caller's array in place
    not_in_place = ReplaceBodyPass({"normalize": "u = u / u.sum()\n"})
    result = optimize(path, [wl], passes={"replace-body": not_in_place}, **fast)
    (f,) = result.functions
    assert f.verdict == "rejected"
    assert "call 1 local 'u'" in f.reason and "outputs differ" in f.reason


def test_nondeterministic_workload_is_a_workload_error(
    tmp_path: Path, fast: dict[str, Any]
) -> None:
    import pytest

    from greenopt.errors import WorkloadError

    path = _module(tmp_path, FIRST, "first.py")
    unseeded = "import os\nx = list(os.urandom(4))"
    with pytest.raises(WorkloadError, match="not deterministic"):
        optimize(
            path,
            [Workload(unseeded, ("first(x)",))],
            passes={"replace-body": ReplaceBodyPass({"first": "return 0.0\n"})},
            **fast,
        )
