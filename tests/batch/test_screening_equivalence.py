"""Screening must not change results: screened analysis == whole-module analysis.

Checked on every kernel of the training corpus and on every registered pass's own
examples (before texts and must-not-change texts), with all available passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source
from greenopt.optimizer.findings import available_passes
from greenopt.passes.registry import pass_class

ROOT = Path(__file__).resolve().parents[2]
PASSES = tuple(available_passes())


def _sources() -> list[tuple[str, str]]:
    out = [
        (str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / "corpus").rglob("*.py"))
    ]
    for name in PASSES:
        cls = pass_class(name)
        for i, ex in enumerate(cls.EXAMPLES):
            out.append((f"{name}-example-{i}", ex.before))
        for i, text in enumerate(cls.UNCHANGED):
            out.append((f"{name}-unchanged-{i}", text))
    return out


#: dtype-reduction findings that a too-narrow screen misses (each was missed once):
#: parameters as `*args`/`**kwargs`, calls in a def's header (the pass counts them as
#: the function's), array use inside a nested function, numpy names imported under
#: another name, and the `dtype` forms the screen reads
DTYPE_TRAPS: dict[str, str] = {
    "star-args": "import numpy as np\n\ndef f(*arrays):\n    return np.sum(arrays[0])\n",
    "star-kwargs": "def g(**options):\n    return options['x'] + 1\n",
    "decorator-call": (
        "import numpy as np\nimport pytest\n\n"
        "@pytest.mark.parametrize('a', [np.random.rand(2)])\n"
        "def test_a(a):\n    assert a is not None\n"
    ),
    "default-call": "import numpy as np\n\ndef h(out=np.zeros(3)):\n    return out\n",
    "nested-use": (
        "def outer(a, n):\n    def inner(i):\n        return a[i] * 2.0\n"
        "    return [inner(i) for i in range(n)]\n"
    ),
    "from-import-alias": "from numpy import zeros as z\n\ndef k(n):\n    return z(n)\n",
    "astype-alias": "from numpy import float64 as F\n\ndef c(x):\n    return x.astype(F) + 1\n",
    "astype-string": "def c2(x):\n    return x.astype('f8') + 1\n",
    "float-literals": (
        "import numpy as np\n\ndef lits(n):\n"
        "    return np.array([[1.0, -2], [3, 4]]), np.full(n, 0.5), np.arange(0, 1, 0.1)\n"
    ),
    "int-literals": "import numpy as np\n\ndef ints(n):\n    return np.array([1, 2]), np.full(n, 2)\n",
    "dtype-forms": (
        "import numpy as np\n\ndef forms(n, t):\n"
        "    return np.ones(n, dtype=t), np.empty(n, 'd'), np.asarray(n, np.double),"
        " np.eye(n, n, 0, float), np.zeros(n, dtype=int)\n"
    ),
    "method-evidence": "def m(values):\n    return values.sum() / 3.0\n",
    "submodule-call": "from numpy import random\n\ndef r(n):\n    return random.rand(n)\n",
    # parameters the pass disqualifies (stored through, rebound, scalar-annotated) next
    # to ones it keeps
    "stored-and-read": "def s(a, b):\n    b[0] = a[0] * 2.0\n    return b\n",
    "rebound": "def rb(a, c):\n    a = a + 1\n    return a[0] + c[0]\n",
    "rebound-in-nested": (
        "def rn(a, c):\n    def g():\n        for a in range(3):\n            pass\n"
        "    g()\n    return a[0] + c.sum()\n"
    ),
    "scalar-annotation": "def sa(i: int, x):\n    return x[i] * 1.5\n",
    "aug-store": "def au(a, i):\n    a[i] += 1.0\n    return a\n",
    "only-disqualified": "def od(a: int, b):\n    b[a] = 1.0\n    b.x = 2\n",
    # parameters passed to numpy: evidence only for the functions that consume arrays
    "ufunc-consumer": "import numpy as np\n\ndef uc(x):\n    return np.sqrt(x) + 1.0\n",
    "aliased-consumer": (
        "from numpy.linalg import norm as nrm\n\ndef ac(v):\n    return nrm(v) * 2.0\n"
    ),
    "submodule-consumer": "from numpy import linalg\n\ndef sc(v):\n    return linalg.norm(v)\n",
    "not-a-consumer": "import numpy as np\n\ndef nc(x):\n    return np.asarray(x) + 1\n",
}

#: loop-fusion findings the screen must keep: adjacent range loops written differently,
#: and loops inside a `match` case
FUSION_TRAPS: dict[str, str] = {
    # local arrays of length n: a loop that may raise (an index past a parameter's end)
    # must not be fused with one writing a parameter (docs/passes.md, loop-fusion)
    "range-forms": (
        "import numpy as np\n\ndef rf(n):\n    a = np.zeros(n)\n    b = np.zeros(n)\n"
        "    for i in range(n):\n        a[i] = 1.0\n"
        "    for j in range(0, n):\n        b[j] = 2.0\n    return a, b\n"
    ),
    "match-case": (
        "import numpy as np\n\ndef mc(n, k):\n    a = np.zeros(n)\n    b = np.zeros(n)\n"
        "    match k:\n        case 1:\n"
        "            for i in range(n):\n                a[i] = 1.0\n"
        "            for i in range(n):\n                b[i] = a[i] * 2.0\n    return b\n"
    ),
}

#: jit: decorated functions are left out of the jit screen (they only get notes), but
#: a decorated helper of a candidate must still reach the pass
JIT_TRAPS: dict[str, str] = {
    "decorated-helper": (
        "import functools\n\n@functools.lru_cache\ndef scale(k):\n    return 2.0 * k\n\n"
        "def f(a, n):\n    for i in range(n):\n        a[i] = a[i] * scale(3)\n    return a\n"
    ),
    "plain-helper": (
        "def scale(k):\n    return 2.0 * k\n\n"
        "def g(a, n):\n    for i in range(n):\n        a[i] = a[i] * scale(3)\n    return a\n"
    ),
    "decorated-candidate": (
        "import functools\n\n@functools.wraps(print)\ndef h(a, n):\n"
        "    for i in range(n):\n        a[i] = a[i] * 2.0\n    return a\n"
    ),
    # a function defined in a `match` case: every pass sees it (as vectorize always did)
    "def-in-match-case": (
        "import sys\n\nmatch sys.platform:\n    case 'linux':\n        def scale(x):\n"
        "            out = x.copy()\n            for i in range(len(x)):\n"
        "                out[i] = 2.0 * x[i]\n            return out\n"
        "    case _:\n        def scale(x):\n            return 2.0 * x\n"
    ),
}

SOURCES = (
    _sources()
    + [(f"dtype-trap-{k}", v) for k, v in DTYPE_TRAPS.items()]
    + [(f"fusion-trap-{k}", v) for k, v in FUSION_TRAPS.items()]
    + [(f"jit-trap-{k}", v) for k, v in JIT_TRAPS.items()]
)


@pytest.fixture(autouse=True)
def report_quiet_opportunities(monkeypatch: pytest.MonkeyPatch) -> None:
    """Screening decides which functions the passes see: compare everything they find,
    also what the report shows only as a note (a dtype-reduction of a function with
    too little float64 work, GO390), or the one-line dtype traps would compare nothing."""
    monkeypatch.setattr("greenopt.optimizer.findings.quiet_note", lambda opportunity: opportunity)


def _opportunities(path: str, text: str, screen: bool) -> list[tuple[object, ...]]:
    options = AnalysisOptions(passes=PASSES, screen=screen, predict=False, file_timeout_s=None)
    r = analyze_source(path, text.encode(), options)
    assert r.status == "ok", r.message
    return [
        (f.qualname, o.pass_name, o.code, o.line, o.col, o.end_line, o.end_col, o.message)
        for f in r.functions
        for o in f.opportunities
    ]


@pytest.mark.parametrize(("path", "text"), SOURCES, ids=[p for p, _ in SOURCES])
def test_screened_analysis_equals_whole_module_analysis(path: str, text: str) -> None:
    assert _opportunities(path, text, screen=True) == _opportunities(path, text, screen=False)


def test_the_check_covers_real_findings() -> None:
    """Guard against a vacuous comparison: the sources do produce opportunities."""
    found = {
        o[1]
        for p, t in SOURCES
        if p.endswith(("relu_naive.py", "matmul_naive.py"))
        for o in _opportunities(p, t, True)
    }
    assert {"vectorize", "jit"} <= found


def test_dtype_traps_have_findings() -> None:
    """The dtype traps are not vacuous: the unscreened pass finds something in most."""
    found = {
        name
        for name, text in DTYPE_TRAPS.items()
        if any(o[1] == "dtype-reduction" for o in _opportunities(name, text, False))
    }
    assert found >= set(DTYPE_TRAPS) - {
        "int-literals",
        "star-args",  # the pass never casts packed parameters (a tuple, a dict)
        "star-kwargs",
        "aug-store",
        "only-disqualified",
        "not-a-consumer",
        "decorator-call",  # header calls run at definition time: not the function's
        "default-call",
    }


def test_fusion_traps_have_findings() -> None:
    """The loop-fusion traps are not vacuous: the unscreened pass fuses each pair."""
    for name, text in FUSION_TRAPS.items():
        codes = [o[2] for o in _opportunities(name, text, False)]
        assert "GO201" in codes, name


def test_jit_traps_are_not_vacuous() -> None:
    """The plain helper's caller gets a jit finding; the decorated-helper case is
    decided by the pass with the helper in sight (whatever it decides)."""
    codes = [o[2] for o in _opportunities("plain", JIT_TRAPS["plain-helper"], False)]
    assert "GO401" in codes
    in_case = _opportunities("case", JIT_TRAPS["def-in-match-case"], False)
    assert {"GO401", "GO101"} <= {o[2] for o in in_case}
    assert {o[0] for o in in_case if o[2] in ("GO401", "GO101")} == {"scale"}
