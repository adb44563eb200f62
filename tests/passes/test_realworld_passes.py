"""Pass-level findings of the real-world code hunt (/work/scratch/realworld/PASS_BUGS.md).

Each test fails without its fix: a GO202 `out=` into a NumPy scalar, jit proposed on
functions that call a parameter or torch tensors' methods, a Numba compile failure
reported as "outputs differ", static GO103 with builtin `min`/`max` of unproven rank or
bounds, the explicit time-stepping stencil refused for aliasing, the constant-term scan
refused, and the wording of some GO190 reasons.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenopt.measure.workload import Workload
from greenopt.optimizer.equivalence import Tolerance
from greenopt.optimizer.executor import ChildLimits
from greenopt.optimizer.snapshot import Raised
from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static
from greenopt.passes.jit import JitPass
from greenopt.passes.loop_fusion import LoopFusionPass
from greenopt.passes.vectorize import VectorizePass

from .helpers import load, outcome, rewrite

HEADER = "import numpy as np\n\n\n"


def _find(pass_: Any, code: str) -> list[Any]:
    return pass_.find(SourceModule.parse(code, "m.py"))


# -- 1. GO202 never writes with out= into a NumPy scalar -------------------------------------

SCALAR_STARTS = {
    "np.exp of a number (mydft twiddles)": (
        "def f(N):\n    kn = np.arange(N)\n    WN = np.exp(-2j * np.pi / N)\n    return WN ** kn\n"
    ),
    "np.sum without axis": ("def f(x, y):\n    s = np.sum(x)\n    t = s * 2.0\n    return t + y\n"),
    "ufunc of a whole reduction": "def f(x, y):\n    t = np.sqrt(np.sum(x))\n    return t + y\n",
    "x.mean()": "def f(x, y):\n    t = np.exp(x.mean())\n    return t * y\n",
    "np.float64(...)": "def f(x, y):\n    t = np.sqrt(np.float64(x))\n    return t * y\n",
    "element of a 1-D allocation": (
        "def f(n, y):\n    a = np.linspace(0.0, 1.0, n)\n    a0 = a[0]\n    t = a0 * 3.0\n"
        "    u = t + 1.0\n    return u * y\n"
    ),
    "math constant and a count": (
        "import math\n\n\ndef f(n, y):\n    x = np.zeros(n)\n    w = np.cos(math.pi / n)\n"
        "    return w * x + y\n"
    ),
}


@pytest.mark.parametrize("code", list(SCALAR_STARTS.values()), ids=list(SCALAR_STARTS))
def test_go202_never_reuses_the_buffer_of_a_number(code: str) -> None:
    found = _find(LoopFusionPass(), HEADER + code)
    assert not [o for o in found if o.code == "GO202"], [o.message for o in found]


def test_the_mydft_chain_would_always_raise() -> None:
    """Why: `np.power(WN, kn, out=WN)` with a complex128 scalar `WN` is a TypeError."""
    WN = np.exp(-2j * np.pi / 8)
    with pytest.raises(TypeError):
        np.power(WN, np.arange(8), out=WN)


def test_go202_still_offered_on_arrays_and_whole_axis_reductions() -> None:
    for code in (
        "def f(a, b, c):\n    t = a * b\n    u = t + a\n    return np.sqrt(u)\n",
        "def f(x, y):\n    t = np.sqrt(np.sum(x, axis=0))\n    return t + 1.0\n",
        "def f(n, y):\n    kn = np.arange(n)\n    t = kn * 2.0\n    return t + kn\n",
    ):
        assert [o.code for o in _find(LoopFusionPass(), HEADER + code)] == ["GO202"], code


# -- 2. jit: calls of a parameter, methods Numba does not know, compile failures -------------

TRAPEZOID = """def trapezoid(f, a, b, n):
    s = 0.0
    h = (b - a) / n
    for i in range(n):
        s += (h / 2) * (f(a + i * h) + f(a + (i + 1) * h))
    return s
"""


def test_jit_refuses_a_function_that_calls_its_parameter() -> None:
    found = _find(JitPass(), TRAPEZOID)
    assert [o.code for o in found] == ["GO490"]
    assert "calls its parameter `f`" in found[0].rationale
    assert "only if every caller passes a jitted function" in found[0].rationale


def test_jit_refuses_a_helper_that_calls_its_parameter() -> None:
    code = TRAPEZOID + "\n\ndef total(x):\n    s = 0.0\n    for i in range(len(x)):\n"
    code += "        s += trapezoid(abs, 0.0, x[i], 10)\n    return s\n"
    found = {o.data["function"]: o for o in _find(JitPass(), code)}
    assert found["total"].code == "GO490"
    assert "helper `trapezoid` calls its parameter `f`" in found["total"].rationale


TORCH = """import torch


def heat_transfer_step(u, r):
    u_new = u.clone()
    for i in range(1, len(u) - 1):
        u_new[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1])
    return u_new
"""


def test_jit_refuses_methods_numba_does_not_know() -> None:
    found = _find(JitPass(), TORCH)
    assert [o.code for o in found] == ["GO490"]
    assert "`u.clone()`" in found[0].rationale and "torch tensor" in found[0].rationale
    # the same with numpy's `.copy()` is a candidate
    numpy_code = TORCH.replace("import torch", "import numpy as np").replace("clone", "copy")
    assert "GO401" in [o.code for o in _find(JitPass(), numpy_code)]


@pytest.mark.parametrize(
    "line",
    [
        "out = x.copy()",
        "m = x.mean() + x.std() + x.sum()",
        "out = x.astype(np.float64)",
        "items = []\n    items.append(1.0)",
    ],
)
def test_jit_keeps_methods_numba_compiles(line: str) -> None:
    code = (
        HEADER + f"def f(x):\n    {line}\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s += x[i] * 2.0\n    return s\n"
    )
    assert "GO401" in [o.code for o in _find(JitPass(), code)]


_TYPING_MESSAGE = (
    "Failed in nopython mode pipeline (step: nopython frontend)\nnon-precise type pyobject\n"
    'During: typing of argument at /tmp/m.py (3)\n\nFile "m.py", line 3:\n\n'
    "This error may have been caused by the following argument(s):\n"
    "- argument 0: Cannot determine Numba type of <class 'builtin_function_or_method'>\n"
)


def test_a_numba_error_of_the_candidate_is_a_compile_failure() -> None:
    from greenopt.optimizer.equivalence import numba_error_line
    from greenopt.optimizer.validation import numba_compile_failure

    reference = {"results": [0.5]}
    candidate = {"results": [Raised("numba.core.errors.TypingError", _TYPING_MESSAGE)]}
    reason = numba_compile_failure(reference, candidate)
    assert reason == (
        "Numba cannot compile it: non-precise type pyobject (argument 0: Cannot determine "
        "Numba type of <class 'builtin_function_or_method'>)"
    )
    assert numba_error_line("Failed in x\nUntyped global name 'sq'\nmore") == (
        "Untyped global name 'sq'"
    )
    # an ordinary exception, or one the original raised too, is not a compile failure
    assert (
        numba_compile_failure(reference, {"results": [Raised("builtins.ValueError", "")]}) is None
    )
    same = {"results": [Raised("numba.core.errors.TypingError", "x")]}
    assert numba_compile_failure(same, same) is None


def test_validation_reports_a_candidate_that_does_not_compile(tmp_path: Path) -> None:
    from greenopt.optimizer.validation import check_equivalence, original_outputs

    original = textwrap.dedent(
        """\
        def apply(f, x):
            s = 0.0
            for i in range(len(x)):
                s += f(x[i])
            return s
        """
    )
    (tmp_path / "orig").mkdir()
    (tmp_path / "cand").mkdir()
    orig_path = tmp_path / "orig" / "kern.py"
    cand_path = tmp_path / "cand" / "kern.py"
    orig_path.write_text(original)
    cand_path.write_text("import numba\n\n\n@numba.njit(cache=False)\n" + original)
    limits = ChildLimits(timeout_s=120.0, memory_mb=None)
    workload = Workload(
        "import math\nimport numpy as np\nx = np.linspace(0.0, 1.0, 50)",
        ("apply(math.sin, x)",),
        module_path=str(orig_path),
    )
    reference = original_outputs(workload, limits, 0.0)
    _, reason = check_equivalence(str(cand_path), [], [reference], Tolerance(), limits)
    assert reason is not None and reason.startswith("Numba cannot compile it: "), reason
    assert "outputs differ" not in reason and "\n" not in reason


# -- 6 (PASS_BUGS). Static GO103 with builtin min/max --------------------------------------

CLIP = """def clip_img(img, lo, hi):
    img = np.asarray(img, dtype=np.float64)
    out = np.zeros_like(img)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            out[i, j] = min(max(img[i, j], lo), hi)
    return out
"""


def _static(code: str) -> tuple[str, list[str]]:
    result = rewrite_static(SourceModule.parse(HEADER + code, "m.py"), passes=["vectorize"])
    return result.new_code, [reason for _, reason in result.skipped]


def test_minmax_of_unproven_rank_or_bounds_is_not_static() -> None:
    (opp,) = [o for o in _find(VectorizePass(), HEADER + CLIP) if o.code == "GO103"]
    assert opp.fixable and not opp.static_safe
    assert "builtin min/max raise on `hi`, `img[i, j]`, `lo`" in opp.rationale
    new_code, _ = _static(CLIP)
    assert new_code == HEADER + CLIP


def test_minmax_traps_the_loop_raises_where_np_where_returns() -> None:
    """The inputs that made `rewrite --static` change a raising call into a result."""
    forced, _ = rewrite(VectorizePass(), HEADER + CLIP, ["GO103"])
    assert "np.where" in forced
    rng = np.random.default_rng(3)
    for img, lo, hi in (
        (rng.random((3, 4, 2)), 0.2, 0.8),  # an element is a vector
        (rng.random((3, 4)), [0.2], 0.8),  # a list bound
    ):
        assert outcome(HEADER + CLIP, img, lo, hi, name="clip_img")[0] == "raises"
        assert outcome(forced, img, lo, hi, name="clip_img")[0] == "returns"


PROVEN_CLIP = """def clip_img(src, lo, hi):
    n, m = src.shape
    img = np.zeros((n, m))
    img[:, :] = src
    lo = float(lo)
    out = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            out[i, j] = min(max(img[i, j], lo), hi - 0.5)
    return out
"""


def test_minmax_with_proven_rank_and_bounds_stays_static_and_equal() -> None:
    code = PROVEN_CLIP.replace("def clip_img(src, lo, hi):", "def clip_img(src, lo, hi):\n"
                               "    hi = float(hi)")  # fmt: skip
    new_code, skipped = _static(code)
    assert "np.where" in new_code, skipped
    rng = np.random.default_rng(4)
    src = rng.random((5, 7))
    src[0, 0], src[1, 1], src[2, 2] = np.nan, -0.0, np.inf
    for lo, hi in ((0.2, 1.3), (0, 1), (-1.0, 0.4)):
        want = load(HEADER + code)["clip_img"](src, lo, hi)
        got = load(new_code)["clip_img"](src, lo, hi)
        assert np.array_equal(want, got, equal_nan=True)
        assert np.array_equal(np.signbit(want), np.signbit(got))
    # without `hi = float(hi)` the bound `hi - 0.5` is not proven a number
    _, skipped = _static(PROVEN_CLIP)
    assert any("builtin min/max raise on `hi - 0.5`" in s for s in skipped), skipped


# -- 3 (PASS_BUGS). The explicit time-stepping stencil ---------------------------------------

FTCS = """def solve(u, r, nt):
    for _ in range(nt):
        u_new = u.copy()
        for i in range(1, len(u) - 1):
            u_new[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1])
        u = u_new
    return u
"""


def test_the_ftcs_stencil_is_vectorised_and_bit_identical_over_many_steps() -> None:
    new_code, found = rewrite(VectorizePass(), HEADER + FTCS, ["GO104"])
    codes = [o.code for o in found]
    assert "GO104" in codes, [o.message for o in found]
    assert "u_new[1:len(u) - 1] = u[1:len(u) - 1] + r * (" in new_code
    rng = np.random.default_rng(5)
    for n, nt in ((50, 1), (50, 7), (3, 4), (2, 3), (1, 2), (200, 25)):
        u0 = rng.random(n)
        want = load(HEADER + FTCS)["solve"](u0.copy(), 0.25, nt)
        got = load(new_code)["solve"](u0.copy(), 0.25, nt)
        assert np.array_equal(want, got), (n, nt)


FTCS_TRAPS = {
    "no copy: u_new is u": FTCS.replace("u_new = u.copy()", "u_new = u"),
    "copy made once, before the outer loop": FTCS.replace(
        "    for _ in range(nt):\n        u_new = u.copy()\n",
        "    u_new = u.copy()\n    for _ in range(nt):\n",
    ),
    "copy made in a branch": FTCS.replace(
        "        u_new = u.copy()\n", "        if nt:\n            u_new = u.copy()\n"
    ),
    "rebound in between": FTCS.replace(
        "        u_new = u.copy()\n", "        u_new = u.copy()\n        u_new = u\n"
    ),
    "a view taken in between": FTCS.replace(
        "        u_new = u.copy()\n", "        u_new = u.copy()\n        u = u_new[:]\n"
    ),
    "a view of the other array": FTCS.replace("u_new = u.copy()", "u_new = u[:]"),
}


@pytest.mark.parametrize("code", list(FTCS_TRAPS.values()), ids=list(FTCS_TRAPS))
def test_ftcs_traps_where_the_arrays_do_alias_are_left_alone(code: str) -> None:
    found = _find(VectorizePass(), HEADER + code)
    inner = [o for o in found if o.site.line == 7 or o.site.line == 8]
    assert inner and all(o.code == "GO190" for o in inner), [o.message for o in found]
    # `u_new = u` is one array (SAME): refused as the recurrence it then is
    why = ("may share memory", "loop-carried flow dependence on u_new")
    assert any(w in o.message for o in inner for w in why), [o.message for o in inner]


def test_an_aliasing_trap_really_differs_when_forced() -> None:
    """`u_new = u` (no copy): the loop reads updated elements, the slice reads old ones."""
    code = FTCS_TRAPS["no copy: u_new is u"]
    forced = HEADER + code.replace(
        "        for i in range(1, len(u) - 1):\n"
        "            u_new[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1])\n",
        "        u_new[1:len(u) - 1] = u[1:len(u) - 1] + r * (u[:len(u) - 2] - 2 * "
        "u[1:len(u) - 1] + u[2:])\n",
    )
    u0 = np.random.default_rng(6).random(20)
    want = load(HEADER + code)["solve"](u0.copy(), 0.25, 3)
    got = load(forced)["solve"](u0.copy(), 0.25, 3)
    assert not np.array_equal(want, got)


# -- 5 (PASS_BUGS). Scan with a constant term ------------------------------------------------

GRID = """def grid(x0, dx, n):
    x = np.zeros(n)
    x[0] = x0
    for i in range(n - 1):
        x[i + 1] = x[i] + dx
    return x
"""


def test_a_constant_term_scan_is_found_and_static_only_when_proven() -> None:
    (opp,) = [o for o in _find(VectorizePass(), HEADER + GRID) if o.site.line == 7]
    assert opp.code == "GO105" and not opp.static_safe
    assert "np.cumsum(np.concatenate((x[0:1], np.full(n - 1, dx))))[1:]" in opp.message
    proven = GRID.replace("    x = np.zeros(n)\n", "    dx = float(dx)\n    x = np.zeros(n)\n")
    (opp,) = [o for o in _find(VectorizePass(), HEADER + proven) if o.code == "GO105"]
    assert opp.static_safe
    # a float32 array rounds each step in float32: never static
    f32 = proven.replace("np.zeros(n)", "np.zeros(n, dtype=np.float32)")
    (opp,) = [o for o in _find(VectorizePass(), HEADER + f32) if o.code == "GO105"]
    assert not opp.static_safe


@pytest.mark.parametrize("op", ["+", "*"])
def test_a_constant_term_scan_is_bit_identical(op: str) -> None:
    code = GRID.replace("x[i] + dx", f"x[i] {op} dx").replace(
        "    x = np.zeros(n)\n", "    dx = float(dx)\n    x = np.zeros(n)\n"
    )
    new_code, _ = _static(code)
    assert "np.cum" in new_code and "np.full(n - 1, dx)" in new_code
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 300))
        x0 = float(rng.normal() * 10.0 ** int(rng.integers(-5, 5)))
        dx = float(rng.normal() * 10.0 ** int(rng.integers(-8, 3)))
        if op == "*":
            dx = 1.0 + dx * 1e-3
        want = load(HEADER + code)["grid"](x0, dx, n)
        got = load(new_code)["grid"](x0, dx, n)
        assert np.array_equal(want.view(np.int64), got.view(np.int64)), (n, x0, dx)


def test_x0_plus_cumsum_would_not_be_bit_identical() -> None:
    """Why the rewrite seeds cumsum with x[0] instead of adding x[0] afterwards."""
    x = np.zeros(1000)
    x[0] = 0.1
    for i in range(999):
        x[i + 1] = x[i] + 0.01
    assert not np.array_equal(x[1:], x[0] + np.cumsum(np.full(999, 0.01)))
    seeded = np.cumsum(np.concatenate((x[0:1], np.full(999, 0.01))))[1:]
    assert np.array_equal(x[1:], seeded)


# -- 7 (PASS_BUGS). Wording ------------------------------------------------------------------


def test_go190_wording() -> None:
    code = HEADER + FTCS.replace("u_new = u.copy()", "u_new = u")
    notes = [o for o in _find(VectorizePass(), code) if o.code == "GO190"]
    assert notes and all("this one" not in o.rationale for o in notes)
    assert any("this loop is left alone: the body mixes statements" in o.rationale for o in notes)
    copyto = HEADER + (
        "def f(a, b, n):\n    for i in range(n):\n        np.copyto(a, b)\n    return a\n"
    )
    (note,) = _find(VectorizePass(), copyto)
    assert note.message == (
        "loop left alone: calls numpy.copyto() as a statement, for its side effects"
    )
    method = copyto.replace("np.copyto(a, b)", "a.fill(0.0)")
    assert "calls method .fill()" in _find(VectorizePass(), method)[0].message
    py2 = "def f(x, n):\n    for i in xrange(n):\n        x[i] = 0.0\n"
    (note,) = _find(VectorizePass(), py2)
    assert note.message == "loop left alone: the loop iterates over xrange (Python 2; use range)"
