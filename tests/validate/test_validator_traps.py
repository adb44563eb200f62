"""Traps for the equivalence validator (greenopt.optimizer.validation.check_equivalence).

Each test writes an original module and a candidate module with the same function
names, runs the original on one workload through `original_outputs` (the reference,
with its determinism and second-seed checks) and the candidate through
`check_equivalence`, exactly as `greenopt rewrite` does, and checks the verdict.

`BUG`-marked tests fail on the current code (a candidate that differs observably is
judged equivalent, or a correct original is refused); the others pin behaviour that
is already right.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from greenopt.errors import WorkloadError
from greenopt.measure.workload import Workload
from greenopt.optimizer.equivalence import Tolerance
from greenopt.optimizer.executor import ChildLimits
from greenopt.optimizer.validation import check_equivalence, original_outputs
from greenopt.optimizer.workloads import from_workload_file

LIMITS = ChildLimits(timeout_s=120.0, memory_mb=None)
NP = "import numpy as np\n"


def _modules(tmp_path: Path, orig: str, cand: str) -> tuple[Path, Path]:
    (tmp_path / "orig").mkdir()
    (tmp_path / "cand").mkdir()
    op, cp = tmp_path / "orig" / "kern.py", tmp_path / "cand" / "kern.py"
    op.write_text(textwrap.dedent(orig))
    cp.write_text(textwrap.dedent(cand))
    return op, cp


def _verdict(wl: Workload, cand_path: Path) -> str | None:
    """check_equivalence's rejection reason (None: judged equivalent)."""
    ref = original_outputs(wl, LIMITS, 0.0)
    return check_equivalence(str(cand_path), [], [ref], Tolerance(), LIMITS)[1]


def verdict(tmp_path: Path, orig: str, cand: str, setup: str, calls) -> str | None:
    op, cp = _modules(tmp_path, orig, cand)
    calls = (calls,) if isinstance(calls, str) else tuple(calls)
    return _verdict(Workload(textwrap.dedent(setup), calls, module_path=str(op)), cp)


def wf_verdict(tmp_path: Path, orig: str, cand: str, workload_src: str) -> str | None:
    op, cp = _modules(tmp_path, orig, cand)
    wf = tmp_path / "wl_kern.py"
    wf.write_text(textwrap.dedent(workload_src))
    return _verdict(from_workload_file(op, wf), cp)


# ---------------------------------------------------------------------------------------
# Bugs: an observably different candidate judged equivalent (must be rejected)
# ---------------------------------------------------------------------------------------

# (id, original module, candidate module, setup, calls)
MUST_REJECT = [
    pytest.param(  # HIGH: results of call 1 silently overwritten by call 2
        NP + "def f(x):\n    return x * 2\n",
        NP + "def f(x, _buf={}):\n    b = _buf.get(x.shape)\n    if b is None:\n"
        "        b = _buf[x.shape] = np.empty_like(x)\n    np.multiply(x, 2, out=b)\n    return b\n",
        NP + "x = np.arange(4.0); y = np.ones(4)",
        ("f(x)", "f(y)"),
        id="BUG-result-buffer-reused-across-calls",
    ),
    pytest.param(  # MEDIUM: caller mutating the result now mutates x
        NP + "def f(x):\n    return x[:2].copy()\n",
        NP + "def f(x):\n    return x[:2]\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
        id="BUG-returns-view-of-input-instead-of-copy",
    ),
    pytest.param(
        NP + "def f(x):\n    return x.copy()\n",
        NP + "def f(x):\n    return x\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
        id="BUG-returns-input-itself-instead-of-copy",
    ),
    pytest.param(  # HIGH: dict subclasses have a __dict__: only vars() compared, not items
        "from collections import OrderedDict\ndef f():\n    return OrderedDict(a=1.0)\n",
        "from collections import OrderedDict\ndef f():\n    return OrderedDict(a=99.0, b=5)\n",
        "",
        "f()",
        id="BUG-OrderedDict-contents-ignored",
    ),
    pytest.param(
        "from collections import Counter\ndef f():\n    return Counter('aab')\n",
        "from collections import Counter\ndef f():\n    return Counter('zzz')\n",
        "",
        "f()",
        id="BUG-Counter-contents-ignored",
    ),
    pytest.param(
        "class L(list):\n    pass\ndef f():\n    return L([1, 2])\n",
        "class L(list):\n    pass\ndef f():\n    return L([7])\n",
        "",
        "f()",
        id="BUG-list-subclass-contents-ignored",
    ),
    pytest.param(
        NP + "def f(d):\n    return 0\n",
        NP + "def f(d):\n    d['a'][0] = 5\n    return 0\n",
        NP + "from collections import OrderedDict\nd = OrderedDict(a=np.zeros(2))",
        "f(d)",
        id="BUG-OrderedDict-argument-mutation-ignored",
    ),
    pytest.param(  # HIGH: namedtuple compared by repr: numpy summarises >1000 elements
        NP + "from collections import namedtuple\nR = namedtuple('R', 'y')\n"
        "def f(x):\n    return R(x * 2)\n",
        NP + "from collections import namedtuple\nR = namedtuple('R', 'y')\n"
        "def f(x):\n    y = x * 2\n    y[5000] = -7.0\n    return R(y)\n",
        NP + "x = np.arange(10000.0)",
        "f(x)",
        id="BUG-namedtuple-large-array-compared-by-repr",
    ),
    pytest.param(
        NP + "from collections import defaultdict\ndef f(x):\n"
        "    d = defaultdict(list); d['a'] = x * 2\n    return d\n",
        NP + "from collections import defaultdict\ndef f(x):\n"
        "    d = defaultdict(list); y = x * 2; y[5000] = -7.0; d['a'] = y\n    return d\n",
        NP + "x = np.arange(10000.0)",
        "f(x)",
        id="BUG-defaultdict-large-array-compared-by-repr",
    ),
    pytest.param(  # HIGH: __slots__ objects compared by default repr (same for all)
        NP
        + "class S:\n    __slots__ = ('w',)\n    def __init__(self):\n        self.w = np.zeros(3)\n"
        "def f(m, x):\n    m.w += 1\n    return x\n",
        NP
        + "class S:\n    __slots__ = ('w',)\n    def __init__(self):\n        self.w = np.zeros(3)\n"
        "def f(m, x):\n    return x\n",
        NP + "m = S(); x = np.arange(3.0)",
        "f(m, x)",
        id="BUG-slots-object-mutation-ignored",
    ),
    pytest.param(
        NP
        + "from dataclasses import dataclass\n@dataclass(slots=True)\nclass P:\n    a: np.ndarray\n"
        "def f(x):\n    return P(x * 2)\n",
        NP
        + "from dataclasses import dataclass\n@dataclass(slots=True)\nclass P:\n    a: np.ndarray\n"
        "def f(x):\n    y = x * 2; y[5000] = -1\n    return P(y)\n",
        NP + "x = np.arange(10000.0)",
        "f(x)",
        id="BUG-slots-dataclass-large-array-compared-by-repr",
    ),
    pytest.param(  # HIGH: ndarray subclasses flattened to ndarray: mask dropped
        NP + "def f(x):\n    return np.ma.masked_array(x, mask=[0, 1, 0, 0])\n",
        NP + "def f(x):\n    return np.ma.masked_array(x, mask=[0, 0, 0, 0])\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
        id="BUG-masked-array-mask-ignored",
    ),
    pytest.param(
        NP + "def f(m):\n    return 0\n",
        NP + "def f(m):\n    m[0] = np.ma.masked\n    return 0\n",
        NP + "m = np.ma.masked_array(np.arange(3.0))",
        "f(m)",
        id="BUG-masked-array-mask-mutation-ignored",
    ),
    pytest.param(
        NP + "def f(x):\n    return np.matrix(x)\n",
        NP + "def f(x):\n    return np.asarray(x)\n",
        NP + "x = np.eye(2)",
        "f(x)",
        id="BUG-matrix-vs-ndarray",
    ),
    pytest.param(  # __array__ objects: only the array is kept, other attributes dropped
        NP + "class A:\n    def __init__(self, v):\n        self.v = v; self.unit = 'm'\n"
        "    def __array__(self, dtype=None, copy=None):\n        return self.v\n"
        "def f(x):\n    return A(x)\n",
        NP + "class A:\n    def __init__(self, v):\n        self.v = v; self.unit = 'm'\n"
        "    def __array__(self, dtype=None, copy=None):\n        return self.v\n"
        "def f(x):\n    a = A(x); a.unit = 'km'\n    return a\n",
        NP + "x = np.arange(3.0)",
        "f(x)",
        id="BUG-array-like-attributes-ignored",
    ),
    pytest.param(  # MEDIUM: callable objects are never data (is_data)
        NP + "class M:\n    def __init__(self):\n        self.w = np.zeros(3)\n"
        "    def __call__(self, x):\n        return x\ndef f(m, x):\n    m.w += 1\n    return x\n",
        NP + "class M:\n    def __init__(self):\n        self.w = np.zeros(3)\n"
        "    def __call__(self, x):\n        return x\ndef f(m, x):\n    return x\n",
        NP + "m = M(); x = np.arange(3.0)",
        "f(m, x)",
        id="BUG-callable-object-state-ignored",
    ),
    pytest.param(  # MEDIUM: the namespace holds the module's globals as of import time
        NP + "calls = 0\ndef f(x):\n    global calls\n    calls += 1\n    return x * 2\n",
        NP + "calls = 0\ndef f(x):\n    return x * 2\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
        id="BUG-module-global-rebinding-ignored",
    ),
    pytest.param(  # complex with NaN in one part: the other part is never compared
        NP + "def f():\n    return np.array([complex(np.nan, 1.0)])\n",
        NP + "def f():\n    return np.array([complex(5.0, np.nan)])\n",
        "",
        "f()",
        id="BUG-complex-nan-other-part-ignored",
    ),
    pytest.param(
        "def f():\n    return complex(float('nan'), 1.0)\n",
        "def f():\n    return complex(2.0, float('nan'))\n",
        "",
        "f()",
        id="BUG-complex-scalar-nan-other-part-ignored",
    ),
    pytest.param(  # longdouble beyond float64's range: inf - inf = nan, and nan > tol is False
        NP + "def f():\n    return np.longdouble('1e400')\n",
        NP + "def f():\n    return -np.longdouble('1e400')\n",
        "",
        "f()",
        id="BUG-longdouble-overflow-accepted",
    ),
    pytest.param(  # generators/memoryviews compared by address-free repr: always equal
        "def f(n):\n    return (i for i in range(n))\n",
        "def f(n):\n    return (i * 5 for i in range(n))\n",
        "",
        "f(4)",
        id="BUG-generator-values-never-compared",
    ),
    pytest.param(
        NP + "def f(x):\n    return memoryview(x * 2)\n",
        NP + "def f(x):\n    return memoryview(x * 3)\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
        id="BUG-memoryview-contents-never-compared",
    ),
    pytest.param(  # LOW: the global RNG state after the calls is an output
        NP + "def f(x):\n    np.random.rand(3)\n    return x\n",
        NP + "def f(x):\n    return x\n",
        NP + "x = np.arange(3.0)",
        "f(x)",
        id="BUG-LOW-global-rng-state-after-calls",
    ),
    pytest.param(  # LOW: dict insertion order is observable
        "def f():\n    return {'a': 1, 'b': 2}\n",
        "def f():\n    return {'b': 2, 'a': 1}\n",
        "",
        "f()",
        id="BUG-LOW-dict-order",
    ),
    # ---- already handled (pinned) ----
    pytest.param(
        "def f():\n    return [1, 2]\n",
        "def f():\n    return (1, 2)\n",
        "",
        "f()",
        id="ok-list-vs-tuple",
    ),
    pytest.param(
        "def f():\n    return None\n", "def f():\n    return 0\n", "", "f()", id="ok-None-vs-0"
    ),
    pytest.param(
        "def f():\n    return 0.0\n",
        "def f():\n    return 1e-300\n",
        "",
        "f()",
        id="ok-zero-vs-1e-300",
    ),
    pytest.param(
        NP + "def f(x):\n    return np.float64(x.sum())\n",
        NP + "def f(x):\n    return np.array(x.sum())\n",
        NP + "x = np.arange(6.0)",
        "f(x)",
        id="ok-0d-array-vs-scalar",
    ),
    pytest.param(
        NP + "def f():\n    return np.ones(2)\n",
        NP + "def f():\n    return np.ones(2, np.float32)\n",
        "",
        "f()",
        id="ok-float32-vs-float64",
    ),
    pytest.param(
        NP + "def f():\n    return np.ones(2)\n",
        NP + "def f():\n    return np.ones(2, complex)\n",
        "",
        "f()",
        id="ok-complex-vs-float",
    ),
    pytest.param(
        NP + "def f():\n    return np.ones(2)\n",
        NP + "def f():\n    return np.ones((2, 1))\n",
        "",
        "f()",
        id="ok-shape-n-vs-n1",
    ),
    pytest.param(
        NP + "def f():\n    return np.ones(0)\n",
        NP + "def f():\n    return np.ones((0, 3))\n",
        "",
        "f()",
        id="ok-empty-shapes",
    ),
    pytest.param(
        NP + "def f(x):\n    return x * 2\n",
        NP + "def f(x):\n    y = x * 2\n    y[500001] += 1e-6\n    return y\n",
        NP + "x = np.random.rand(10**6)",
        "f(x)",
        id="ok-one-element-of-a-million",
    ),
    pytest.param(
        NP + "def f(x):\n    return x\n",
        NP + "def f(x):\n    x[0] = np.nan\n    return x\n",
        NP + "x = np.arange(3.0)",
        "f(x)",
        id="ok-nan-in-different-place",
    ),
    pytest.param(
        NP + "def f(L):\n    return 0\n",
        NP + "def f(L):\n    L[1][0] = 5\n    return 0\n",
        NP + "L = [np.zeros(2), np.zeros(2)]",
        "f(L)",
        id="ok-nested-list-of-arrays-mutation",
    ),
    pytest.param(
        NP + "def f(t):\n    return 0\n",
        NP + "def f(t):\n    t[0][0] = 5\n    return 0\n",
        NP + "t = (np.zeros(2),)",
        "f(t)",
        id="ok-array-in-tuple-mutation",
    ),
    pytest.param(
        NP + "from dataclasses import dataclass\n@dataclass\nclass P:\n    a: np.ndarray\n"
        "def f(p):\n    return 0\n",
        NP + "from dataclasses import dataclass\n@dataclass\nclass P:\n    a: np.ndarray\n"
        "def f(p):\n    p.a[0] = 3\n    return 0\n",
        NP + "p = P(np.zeros(2))",
        "f(p)",
        id="ok-dataclass-attribute-mutation",
    ),
    pytest.param(
        NP + "G = np.zeros(3)\ndef f(x):\n    G[:] += 1\n    return x * 2\n",
        NP + "G = np.zeros(3)\ndef f(x):\n    return x * 2\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
        id="ok-module-global-array-in-place",
    ),
    pytest.param(
        "def f(x):\n    raise ValueError('bad x')\n",
        "def f(x):\n    raise TypeError('bad x')\n",
        "",
        "r = None\ntry:\n    f(1)\nexcept Exception as e:\n    r = type(e).__name__",
        id="ok-different-exception-type",
    ),
    pytest.param(
        NP
        + "def f(x):\n    np.random.rand(3)\n    return x\ndef g():\n    return np.random.rand()\n",
        NP + "def f(x):\n    return x\ndef g():\n    return np.random.rand()\n",
        NP + "x = np.arange(3.0)",
        ("f(x)", "g()"),
        id="ok-global-rng-draws-visible-in-later-call",
    ),
    pytest.param(
        "def f():\n    return 2**100\n",
        "def f():\n    return 2**100 + 1\n",
        "",
        "f()",
        id="ok-huge-int",
    ),
]


@pytest.mark.parametrize(("orig", "cand", "setup", "calls"), MUST_REJECT)
def test_candidate_is_rejected(tmp_path: Path, orig, cand, setup, calls) -> None:
    reason = verdict(tmp_path, orig, cand, setup, calls)
    assert reason is not None, "observably different candidate judged equivalent"


def test_BUG_workload_file_module_level_array_mutation_is_compared(tmp_path: Path) -> None:
    """HIGH: a workload file's module-level inputs are never snapshotted."""
    reason = wf_verdict(
        tmp_path,
        "def scale(x):\n    x *= 2.0\n",
        "def scale(x):\n    x *= 3.0\n",
        "import numpy as np\nimport kern\nX = np.ones(5)\ndef workload_a():\n    kern.scale(X)\n",
    )
    assert reason is not None


def test_BUG_workload_file_module_level_result_list_is_compared(tmp_path: Path) -> None:
    reason = wf_verdict(
        tmp_path,
        "def f(x):\n    return x * 2\n",
        "def f(x):\n    return x * 3\n",
        "import numpy as np\nimport kern\nOUT = []\ndef workload_a():\n    OUT.append(kern.f(np.ones(3)))\n",
    )
    assert reason is not None


def test_ok_workload_file_local_mutation_is_compared(tmp_path: Path) -> None:
    reason = wf_verdict(
        tmp_path,
        "def scale(x):\n    x *= 2.0\n",
        "def scale(x):\n    x *= 3.0\n",
        "import numpy as np\nimport kern\ndef workload_a():\n    x = np.ones(5)\n    kern.scale(x)\n",
    )
    assert reason is not None and "local 'x'" in reason


# ---------------------------------------------------------------------------------------
# Bugs: a correct candidate (identical to the original) rejected, or the original refused
# ---------------------------------------------------------------------------------------

SAME = [
    pytest.param(  # NaT != NaT: "workload is not deterministic"
        NP + "def f():\n    return np.array(['2020-01-01', 'NaT'], dtype='datetime64[D]')\n",
        "f()",
        id="BUG-NaT-array-original-refused",
    ),
    pytest.param(
        NP + "def f():\n    return np.timedelta64('NaT')\n",
        "f()",
        id="BUG-NaT-scalar-original-refused",
    ),
    pytest.param(  # structured dtypes compared with ==: NaN in a float field never equal
        NP + "def f():\n    a = np.zeros(2, dtype=[('a', 'f8'), ('b', 'i4')])\n"
        "    a['a'][0] = np.nan\n    return a\n",
        "f()",
        id="BUG-structured-nan-original-refused",
    ),
    pytest.param(  # builtins iterators are pickled raw and compared by identity
        "def f(n):\n    return iter(list(range(n)))\n", "f(4)", id="BUG-iterator-original-refused"
    ),
    pytest.param(  # a module function is pickled by reference, the parent cannot import it
        "def g():\n    return 1\ndef f():\n    return g\n",
        "f()",
        id="BUG-returned-module-function-original-refused",
    ),
]


@pytest.mark.parametrize(("src", "calls"), SAME)
def test_identical_candidate_is_accepted(tmp_path: Path, src, calls) -> None:
    try:
        reason = verdict(tmp_path, src, src, "", calls)
    except WorkloadError as exc:
        pytest.fail(f"original refused: {exc}")
    assert reason is None


def test_BUG_candidate_adding_module_level_constant_is_not_a_difference(tmp_path: Path) -> None:
    """compare_outputs takes module_names from the original only, so a module-level
    data global that only the candidate defines reads as a new setup variable."""
    reason = verdict(
        tmp_path,
        NP + "def f(x):\n    return x * 2.0\n",
        NP + "_TWO = 2.0\ndef f(x):\n    return x * _TWO\n",
        NP + "x = np.arange(4.0)",
        "f(x)",
    )
    assert reason is None, reason


def test_ok_nondeterministic_original_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="not deterministic"):
        verdict(
            tmp_path,
            "import time\ndef f():\n    return time.perf_counter()\n",
            "def f():\n    return 0.0\n",
            "",
            "f()",
        )


def test_ok_reassociated_sum_is_accepted(tmp_path: Path) -> None:
    reason = verdict(
        tmp_path,
        NP + "def f(x):\n    s = 0.0\n    for v in x:\n        s += v\n    return s\n",
        NP + "def f(x):\n    return float(np.sum(x))\n",
        NP + "x = np.random.rand(10000)",
        "f(x)",
    )
    assert reason is None, reason


def test_parallel_candidates_run_twice_per_seed(tmp_path: Path) -> None:
    """The original is run twice with the same seed to prove it deterministic. A
    candidate whose output varies between runs (a data race in a `parallel=True`
    prange) passes when its one run happens to match; with `repeat` (what rewrite
    passes for GO402 candidates) it runs twice. Here the candidate is right in its
    first process and wrong in every later one (a counter file stands in for the race)."""
    counter = tmp_path / "runs"
    cand = NP + (
        "def f(x):\n"
        "    import os\n"
        f"    n = int(open({str(counter)!r}).read()) if os.path.exists({str(counter)!r}) else 0\n"
        f"    open({str(counter)!r}, 'w').write(str(n + 1))\n"
        "    return x * 2 if n == 0 else x * 3\n"
    )
    op, cp = _modules(tmp_path, NP + "def f(x):\n    return x * 2\n", cand)
    wl = Workload(NP + "x = np.arange(4.0)", ("f(x)",), module_path=str(op))
    ref = original_outputs(wl, LIMITS, 0.0)
    reason = check_equivalence(str(cp), [], [ref], Tolerance(), LIMITS, repeat=True)[1]
    assert reason is not None and "outputs differ" in reason, reason
    steady = tmp_path / "steady.py"
    steady.write_text(NP + "def f(x):\n    return x + x\n")
    assert check_equivalence(str(steady), [], [ref], Tolerance(), LIMITS, repeat=True)[1] is None


# Design choice: a Python int or bool equals the NumPy scalar of the same value. Numba
# returns Python scalars where the interpreter returns NumPy ones (`s += x[i]` over an
# int64 array), so telling them apart would refuse every such jit rewrite.
SAME_BY_DESIGN = [
    pytest.param(  # MEDIUM: Python int and np.int64 judged identical
        "def f(x):\n    return int(x.sum())\n",
        "def f(x):\n    return x.sum()\n",
        NP + "x = np.arange(6)",
        "f(x)",
        id="design-python-int-vs-np-int64",
    ),
    pytest.param(  # ~r is -2 for True, False for np.True_; json.dumps fails on np.bool_
        "def f(x):\n    return bool(x.any())\n",
        "def f(x):\n    return x.any()\n",
        NP + "x = np.arange(6)",
        "f(x)",
        id="design-python-bool-vs-np-bool",
    ),
]


@pytest.mark.parametrize(("orig", "cand", "setup", "calls"), SAME_BY_DESIGN)
def test_python_and_numpy_scalars_of_equal_value_are_equal(
    tmp_path: Path, orig: str, cand: str, setup: str, calls
) -> None:
    assert verdict(tmp_path, orig, cand, setup, calls) is None
