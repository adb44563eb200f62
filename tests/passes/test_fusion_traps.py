"""loop-fusion miscompilation traps under `rewrite --static` (and, for traps a workload
would not show, under every offered fusion): the rewrite must compute what the original
computes, raising where (and only where) the original raises, and leave the same state
behind an exception for whoever catches it.

Each trap runs the original and the statically rewritten function on inputs that
exposed a wrong rewrite (aliasing through chained, conditional or second bindings for
GO201; shapes that change or collapse to 0-d for GO202). Proven cases are checked to
stay rewritten, so the traps cannot pass by the pass doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst
import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import array_relations, whole_alias_reads
from greenopt.passes.loop_fusion import LoopFusionPass

from .helpers import load

HEADER = "import numpy as np\n\n\n"

Args = Callable[[], tuple[Any, ...]]


def _static(code: str) -> str:
    """The module text after `rewrite --static --passes loop-fusion`."""
    result = rewrite_static(SourceModule.parse(code, "m.py"), passes=["loop-fusion"])
    return result.new_code


def _outcome(code: str, args: Args) -> tuple[str, Any]:
    """("ok", result) or ("raise", exception type) of calling `f` of `code` on fresh args."""
    function = load(code)["f"]
    try:
        return "ok", function(*args())
    except Exception as error:  # the rewrite must raise exactly where the original does
        return "raise", type(error)


def _assert_same_behaviour(code: str, args: Args) -> None:
    original = HEADER + code
    want = _outcome(original, args)
    got = _outcome(_static(original), args)
    assert got[0] == want[0], (want, got)
    if want[0] == "raise":
        assert got[1] is want[1]
        return
    assert type(got[1]) is type(want[1])
    assert np.shape(got[1]) == np.shape(want[1])
    assert np.asarray(got[1]).dtype == np.asarray(want[1]).dtype
    assert np.array_equal(got[1], want[1])


def _reversed_copy(alias_setup: str) -> str:
    """Two fusable loops: the second reads `e` backwards, `e` possibly aliasing `c`."""
    return (
        "def f(a, flag=True):\n"
        "    n = len(a)\n"
        f"{alias_setup}"
        "    d = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        c[i] = a[i]\n"
        "    for i in range(n):\n"
        "        d[i] = e[n - 1 - i]\n"
        "    return d\n"
    )


def _five() -> tuple[np.ndarray]:
    return (np.arange(1.0, 6.0),)


ALIAS_TRAPS: dict[str, tuple[str, Args]] = {
    "chained assignment": (_reversed_copy("    c = e = np.zeros(n)\n"), _five),
    "conditional second binding": (
        _reversed_copy("    c = np.zeros(n)\n    e = np.zeros(n)\n    if flag:\n        e = c\n"),
        _five,
    ),
    "walrus": (_reversed_copy("    c = (e := np.zeros(n))\n"), _five),
    "np.array(copy=False)": (
        _reversed_copy("    c = np.zeros(n)\n    e = np.array(c, copy=False)\n"),
        _five,
    ),
    "np.asarray": (_reversed_copy("    c = np.zeros(n)\n    e = np.asarray(c)\n"), _five),
    "call with out=": (
        _reversed_copy("    c = np.zeros(n)\n    e = np.multiply(c, 1.0, out=c)\n"),
        _five,
    ),
    "for target": (
        _reversed_copy("    c = np.zeros(n)\n    for e in [c]:\n        pass\n"),
        _five,
    ),
    "tuple unpacking": (_reversed_copy("    c = np.zeros(n)\n    e, _ = c, 0\n"), _five),
    "augmented then rebound": (
        _reversed_copy(
            "    c = np.zeros(n)\n    e = np.zeros(n)\n    e += 0.0\n    e = c if n else e\n"
        ),
        _five,
    ),
    "except as": (
        _reversed_copy(
            "    c = np.zeros(n)\n    e = np.zeros(n)\n    try:\n        raise ValueError(c)\n"
            "    except ValueError as err:\n        e = err.args[0]\n"
        ),
        _five,
    ),
    "match capture": (
        _reversed_copy(
            "    c = np.zeros(n)\n    e = np.zeros(n)\n    match c:\n"
            "        case e:\n            pass\n"
        ),
        _five,
    ),
    "alias bound inside the second loop": (
        "def f(a, c, d):\n"
        "    n = len(a)\n"
        "    x = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        c[i] = a[i]\n"
        "    for i in range(n):\n"
        "        e = d\n"
        "        x[i] = e[n - 1 - i]\n"
        "    return x\n",
        lambda: (lambda shared: (np.arange(1.0, 6.0), shared, shared))(np.zeros(5)),
    ),
}


@pytest.mark.parametrize("name", list(ALIAS_TRAPS))
def test_loops_over_possibly_aliased_arrays_keep_their_results(name: str) -> None:
    code, args = ALIAS_TRAPS[name]
    _assert_same_behaviour(code, args)


CHAIN_TRAPS: dict[str, tuple[str, Args]] = {
    "size rebound between the allocations": (
        "def f(n):\n"
        "    a = np.ones(n)\n"
        "    n = n + 1\n"
        "    b = np.ones(n)\n"
        "    t = a * 2.0\n"
        "    u = t + b\n"
        "    return u\n",
        lambda: (1,),
    ),
    "0-d shape from an opaque variable": (
        "def f(shape):\n"
        "    a = np.ones(shape)\n"
        "    b = np.ones(shape)\n"
        "    t = a - b\n"
        "    u = t * 2.0\n"
        "    return u\n",
        lambda: ((),),
    ),
    "scalars unpacked from an array": (
        "def f(n):\n"
        "    a, z = np.ones(2)\n"
        "    b, w = np.ones(2)\n"
        "    t = a * 2.0\n"
        "    u = t + b\n"
        "    return u\n",
        lambda: (1,),
    ),
    "shape changed in place": (
        "def f(n):\n"
        "    a = np.ones(n)\n"
        "    b = np.ones(n)\n"
        "    a.shape = (n, 1)\n"
        "    t = a * 2.0\n"
        "    u = t + b\n"
        "    return u\n",
        lambda: (3,),
    ),
    "shape changed through an alias": (
        "def f(n):\n"
        "    a = np.ones(n)\n"
        "    b = np.ones(n)\n"
        "    c = a\n"
        "    c.shape = (n, 1)\n"
        "    t = a * 2.0\n"
        "    u = t + b\n"
        "    return u\n",
        lambda: (3,),
    ),
    "linspace with an array start adds a dimension": (
        "def f(n):\n"
        "    z = np.zeros(1)\n"
        "    x = np.linspace(z, 1.0, n)\n"
        "    y = np.ones(n)\n"
        "    t = y * 2.0\n"
        "    u = t + x\n"
        "    return u\n",
        lambda: (3,),
    ),
    "shape from a list that grows": (
        "def f(xs):\n"
        "    a = np.ones(len(xs))\n"
        "    xs.append(1.0)\n"
        "    b = np.ones(len(xs))\n"
        "    t = a * 2.0\n"
        "    u = t + b\n"
        "    return u\n",
        lambda: ([1.0],),
    ),
}


@pytest.mark.parametrize("name", list(CHAIN_TRAPS))
def test_temporaries_chains_never_change_shape_or_type(name: str) -> None:
    code, args = CHAIN_TRAPS[name]
    _assert_same_behaviour(code, args)


def test_unprovable_chains_are_not_offered_as_static() -> None:
    for code, _ in CHAIN_TRAPS.values():
        result = rewrite_static(SourceModule.parse(HEADER + code, "m.py"), ["loop-fusion"])
        assert not result.changed, code
        assert all(o.code != "GO202" for o in result.applied)


PROVEN_CHAINS: dict[str, tuple[str, Args]] = {
    "size from len, bound once": (
        "def f(x):\n"
        "    n = len(x)\n"
        "    a = np.ones(n)\n"
        "    b = np.full(n, 2.0)\n"
        "    t = a * b\n"
        "    u = t + 1.0\n"
        "    return np.sqrt(u)\n",
        lambda: ([1.0, 2.0, 3.0],),
    ),
    "literal tuple shape": (
        "def f(m):\n"
        "    a = np.zeros((m, 3))\n"
        "    b = np.ones((m, 3))\n"
        "    t = a + b\n"
        "    return t * 2.0\n",
        lambda: (4,),
    ),
}


@pytest.mark.parametrize("name", list(PROVEN_CHAINS))
def test_proven_chains_are_still_rewritten_statically(name: str) -> None:
    code, args = PROVEN_CHAINS[name]
    assert "out=t" in _static(HEADER + code)
    _assert_same_behaviour(code, args)


def test_fresh_arrays_bound_once_still_fuse_statically() -> None:
    code = _reversed_copy("    c = np.zeros(n)\n    e = np.ones(n)\n")
    new_code = _static(HEADER + code)
    assert new_code.count("for i in range(n)") == 1
    _assert_same_behaviour(code, _five)


def test_a_chain_of_safe_pairs_does_not_fuse_on_an_unproven_assumption() -> None:
    # (A, B) and (B, C) are each statically safe, but merging C into A+B would assume
    # that the parameters `x` (written by A) and `y` (read backwards by C) do not overlap
    code = (
        "def f(x, y, n):\n"
        "    z = np.zeros(n)\n"
        "    w = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        x[i] = 1.0\n"
        "    for i in range(n):\n"
        "        z[i] = 2.0\n"
        "    for i in range(n):\n"
        "        w[i] = y[n - 1 - i]\n"
        "    return w\n"
    )
    new_code = _static(HEADER + code)
    assert new_code.count("for i in range(n)") == 2  # A and B fused, C kept apart

    def shared() -> tuple[np.ndarray, np.ndarray, int]:
        x = np.arange(5.0)
        return x, x, 5

    _assert_same_behaviour(code, shared)


# --- exceptions raised part-way (B1) ------------------------------------------------------


def _outcome_with_state(code: str, args: Args) -> tuple[Any, ...]:
    """(kind, result or exception type, what the caller holds) for `f(*args(), log)`."""
    function = load(code)["f"]
    log: list[Any] = []
    holder = {}
    try:
        result: Any = ("ok", function(*args(), log, holder))
    except Exception as error:
        result = ("raise", type(error))
    state = [repr(np.asarray(v).tolist()) for v in log] + [
        repr(np.asarray(v).tolist()) for v in holder.values() if not callable(v)
    ]
    if result[0] == "ok":
        value = result[1]
        parts = value if isinstance(value, tuple) else (value,)
        return ("ok", [repr(np.asarray(p).tolist()) for p in parts], state)
    return (*result, state)


def _every_fusion(code: str) -> str:
    """The module after applying every loop-fusion opportunity, static or not (what a
    validator would run: its workload usually raises nothing, so it cannot object)."""
    module = SourceModule.parse(code, "m.py")
    found = LoopFusionPass().find(module)
    return LoopFusionPass().apply(module, found).code


RAISE_TRAPS: dict[str, tuple[str, Args]] = {
    "loops inside try/except": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    try:\n"
        "        for i in range(n):\n"
        "            a[i] = x[i] * 2.0\n"
        "        for i in range(n):\n"
        "            b[i] = 1.0 / float(x[i])\n"
        "    except ZeroDivisionError:\n"
        "        pass\n"
        "    return a, b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
    "assert inside try": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    try:\n"
        "        for i in range(n):\n"
        "            a[i] = x[i] * 2.0\n"
        "        for i in range(n):\n"
        "            assert x[i] < 10.0\n"
        "            b[i] = x[i]\n"
        "    except AssertionError:\n"
        "        pass\n"
        "    return a, b\n",
        lambda: ([1.0, 20.0, 3.0],),
    ),
    "array appended to a list before the loops": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    log.append(a)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = 1.0 / float(x[i])\n"
        "    return b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
    "array stored in a dict": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    holder['a'] = a\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = 1.0 / x[i]\n"
        "    return b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
    "view of the array escapes": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    v = a[:]\n"
        "    log.append(v)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = 1.0 / x[i]\n"
        "    return b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
    "int store of nan, array escaped": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n, dtype=np.int64)\n"
        "    log.append(a)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = x[i]\n"
        "    return b\n",
        lambda: (np.array([1.0, np.nan, 3.0]),),
    ),
    "parameter written by the quiet loop": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    b = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        x[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = 1.0 / x[i]\n"
        "    log.append(x)\n"
        "    return b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
    "both loops may raise: the exception type would change": (
        "def f(x, log, holder):\n"
        "    n = 2\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = 1.0 / float(x[0])\n"
        "    return b\n",
        lambda: ([0.0],),
    ),
    "bitwise not of a float raises: the exception type would change": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        a[i] = int(x[i])\n"
        "    for i in range(n):\n"
        "        b[i] = ~x[i]\n"
        "    return a, b\n",
        lambda: (np.array([1.0, np.nan, 3.0]),),
    ),
    "with statement swallows the exception": (
        "import contextlib\n\n\n"
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    with contextlib.suppress(ZeroDivisionError):\n"
        "        for i in range(n):\n"
        "            a[i] = x[i] * 2.0\n"
        "        for i in range(n):\n"
        "            b[i] = 1.0 / x[i]\n"
        "    return a, b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
    "closure sees the array": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    holder['peek'] = lambda: a\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = 1.0 / x[i]\n"
        "    return b\n",
        lambda: ([1.0, 0.0, 3.0],),
    ),
}


def _assert_same_state(original: str, rewritten: str, args: Args) -> None:
    want = _outcome_with_state(original, args)
    got = _outcome_with_state(rewritten, args)
    assert got == want


@pytest.mark.parametrize("name", list(RAISE_TRAPS))
def test_an_exception_part_way_leaves_the_same_state(name: str) -> None:
    code, args = RAISE_TRAPS[name]
    original = HEADER + code
    for rewritten in (_static(original), _every_fusion(original)):
        assert rewritten.count("for i in range(n)") == 2, rewritten  # refused
        _assert_same_state(original, rewritten, args)


RAISE_SAFE: dict[str, tuple[str, Args]] = {
    "only the second loop may raise, the first writes a private local": (
        "def f(x, log, holder):\n"
        "    n = len(x)\n"
        "    a = np.zeros(n)\n"
        "    b = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        assert a[i] < 5\n"
        "        b[i] = a[i]\n"
        "    return a, b\n",
        lambda: ([1.0, 2.0, 3.0],),
    ),
    "both read x[i]: an IndexError surfaces from the first loop alike": (
        "def f(x, log, holder, n=3):\n"
        "    a = np.empty(n)\n"
        "    b = np.empty(n)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = a[i] + x[i]\n"
        "    return b\n",
        lambda: ([1.0, 2.0],),
    ),
}


@pytest.mark.parametrize("name", list(RAISE_SAFE))
def test_fusions_that_no_exception_can_expose_still_happen(name: str) -> None:
    code, args = RAISE_SAFE[name]
    original = HEADER + code
    rewritten = _static(original)
    assert rewritten.count("for i in range(n)") == 1, rewritten
    _assert_same_state(original, rewritten, args)


# --- parameters that may be one array (B5) ------------------------------------------------


def test_validated_fusion_does_not_assume_parameters_are_distinct() -> None:
    code = (
        "def f(x, out):\n"
        "    n = x.shape[0]\n"
        "    t = np.zeros(n)\n"
        "    for i in range(1, n):\n"
        "        t[i] = 0.5 * (x[i] + x[i - 1])\n"
        "    for i in range(1, n):\n"
        "        out[i] = 2.0 * t[i]\n"
        "    return t\n"
    )
    original = HEADER + code
    rewritten = _every_fusion(original)
    assert rewritten.count("for i in range(1, n)") == 2, rewritten

    def run(source: str) -> np.ndarray:
        x = np.arange(6.0)
        load(source)["f"](x, x)
        return x

    assert np.array_equal(run(rewritten), run(original))


def test_a_whole_array_read_of_a_possible_alias_blocks_fusion() -> None:
    code = (
        "def f(x, y, out, n):\n"
        "    t = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        out[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        t[i] = x[i] * np.sum(y)\n"
        "    return t\n"
    )
    rewritten = _every_fusion(HEADER + code)
    assert rewritten.count("for i in range(n)") == 2, rewritten
    module = cst.parse_module(HEADER + code)
    func = module.body[-1]
    assert isinstance(func, cst.FunctionDef)
    first, second = (s for s in func.body.body if isinstance(s, cst.For))
    imports = ImportedNames.of(module)
    relation = array_relations(module, func, "f", imports)
    assert "`y` may be the same array as `out`" in (
        whole_alias_reads(first, second, relation, imports) or ""
    )


def test_independent_locals_still_fuse_statically() -> None:
    code = (
        "def f(x):\n"
        "    n = len(x)\n"
        "    t = np.zeros(n)\n"
        "    u = np.zeros(n)\n"
        "    for i in range(1, n):\n"
        "        t[i] = 0.5 * (x[i] + x[i - 1])\n"
        "    for i in range(1, n):\n"
        "        u[i] = 2.0 * t[i]\n"
        "    return u\n"
    )
    rewritten = _static(HEADER + code)
    assert rewritten.count("for i in range(1, n)") == 1, rewritten
    _assert_same_behaviour(code, lambda: (np.arange(6.0),))


# --- GO202 on integer and float32 buffers -------------------------------------------------

DTYPE_CHAINS: dict[str, tuple[str, Args]] = {
    "true division of an arange": (
        "def f(n):\n    t = np.arange(n) * 2\n    u = t / 3\n    v = u + 1\n    return v\n",
        lambda: (5,),
    ),
    "sqrt of an int allocation": (
        "def f(n):\n    t = np.ones(n, dtype=int) + 1\n    return np.sqrt(t)\n",
        lambda: (4,),
    ),
    "float literal on astype(int)": (
        "def f(x):\n    t = x.astype(int) * 2\n    u = t + 0.5\n    return u\n",
        lambda: (np.arange(4.0),),
    ),
    "float64 operand on a float32 buffer": (
        "def f(n, y):\n"
        "    a = np.ones(n, dtype=np.float32)\n"
        "    t = a * 3.0\n"
        "    u = t + y\n"
        "    return u\n",
        lambda: (3, np.array([1e-9, 2e-9, 3e-9])),
    ),
    # the buffer's dtype is unknown: a float64 parameter, temporary or scaled operand
    # meeting a float32 buffer would be rounded by out= (the workload may pass float64)
    "float64 parameter on a float32 parameter product": (
        "def f(a, b, c):\n    t = a * b\n    u = t + c\n    return np.sqrt(u)\n",
        lambda: (np.float32([0.1, 0.2]), np.float32([0.3, 0.4]), np.array([1e-9, 2e-9])),
    ),
    "two temporaries of different dtypes": (
        "def f(u, v):\n    u2 = u * u\n    v2 = v * v\n    s = u2 + v2\n    return np.sqrt(s)\n",
        lambda: (np.float32([0.1, 0.2]), np.array([1e-5, 2e-5])),
    ),
    "scaled float64 operand": (
        "def f(a, c):\n    t = a * 2.0\n    u = t + 0.5 * c\n    return u\n",
        lambda: (np.float32([0.1, 0.2]), np.array([1e-9, 2e-9])),
    ),
    "numpy float64 scalar": (
        "def f(a):\n    t = a * 2.0\n    u = t * np.float64(1.0000001)\n    return u\n",
        lambda: (np.float32([0.1, 0.2]),),
    ),
    "float64 parameter meeting a proven float64 buffer": (
        "def f(n, y):\n    a = np.ones(n)\n    t = a * 3.0\n    u = t + y\n    return u\n",
        lambda: (2, np.float32([1e-9, 2e-9])),
    ),
    "the chain's own first operand": (
        "def f(a, b):\n    t = a * b\n    u = t + a\n    return u\n",
        lambda: (np.array([1e-9, 2e-9]), np.float32([0.1, 0.2])),
    ),
}


@pytest.mark.parametrize("name", list(DTYPE_CHAINS))
def test_temporaries_chains_keep_the_result_dtype(name: str) -> None:
    code, args = DTYPE_CHAINS[name]
    original = HEADER + code
    rewritten = _every_fusion(original)
    want, got = _outcome(original, args), _outcome(rewritten, args)
    assert got[0] == want[0] == "ok", (got, rewritten)
    assert got[1].dtype == want[1].dtype
    assert np.array_equal(got[1], want[1])


def test_integer_chains_still_use_out_for_integer_steps() -> None:
    code = "def f(n):\n    t = np.arange(n) * 2\n    u = t + 3\n    v = u / 2\n    return v\n"
    rewritten = _every_fusion(HEADER + code)
    assert "np.add(t, 3, out=t)" in rewritten and "out=u" not in rewritten
    assert np.array_equal(load(rewritten)["f"](5), load(HEADER + code)["f"](5))


def test_chains_stop_before_operands_that_may_widen_the_buffer() -> None:
    """hunt8 B1: validated chains too, since the workload shows only its own dtypes."""
    for code in (
        "def f(a, b, c):\n    t = a * b\n    return t + c\n",
        "def f(u, v):\n    u2 = u * u\n    v2 = v * v\n    return u2 + v2\n",
        "def f(a, c):\n    t = a * 2.0\n    return t + 0.5 * c\n",
    ):
        assert _every_fusion(HEADER + code) == HEADER + code, code
    kept = "def f(n, y):\n    a = np.ones(n)\n    t = a * 3.0\n    return t + y\n"
    assert "np.add(t, y, out=t)" in _every_fusion(HEADER + kept)
    own = "def f(a, b):\n    t = a * b\n    return t + a\n"
    assert "np.add(t, a, out=t)" in _every_fusion(HEADER + own)
