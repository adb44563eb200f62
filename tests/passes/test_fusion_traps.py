"""loop-fusion miscompilation traps under `rewrite --static`: the rewrite must compute
what the original computes, raising where (and only where) the original raises.

Each trap runs the original and the statically rewritten function on inputs that
exposed a wrong rewrite (aliasing through chained, conditional or second bindings for
GO201; shapes that change or collapse to 0-d for GO202). Proven cases are checked to
stay rewritten, so the traps cannot pass by the pass doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static

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
