"""loop-fusion: legality traps, static safety, and fused code computing the same results."""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.passes.loop_fusion import LoopFusionPass

from .helpers import load, rewrite

HEADER = "import numpy as np\n\n\n"


def fusion(code: str) -> tuple[str, list]:
    return rewrite(LoopFusionPass(), HEADER + code)


TRAPS = {
    "carried dependence a[i+1] read after a[i] written": (
        "def f(a, b, n):\n"
        "    for i in range(n - 1):\n"
        "        a[i] = a[i] * 2.0\n"
        "    for i in range(n - 1):\n"
        "        b[i] = a[i + 1]\n"
    ),
    "backward read a[i-1] also refused (try_fuse is strict)": (
        "def f(a, b, n):\n"
        "    for i in range(1, n):\n"
        "        a[i] = a[i] * 2.0\n"
        "    for i in range(1, n):\n"
        "        b[i] = a[i - 1]\n"
    ),
    "different bounds": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        a[i] = 1.0\n"
        "    for i in range(1, n):\n"
        "        b[i] = a[i]\n"
    ),
    "bounds changed by the first loop": (
        "def f(a, b, n):\n"
        "    m = n\n"
        "    for i in range(m):\n"
        "        a[i] = 1.0\n"
        "        m = 3\n"
        "    for i in range(m):\n"
        "        b[i] = a[i]\n"
    ),
    "print is a side effect": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        a[i] = 1.0\n"
        "    for i in range(n):\n"
        "        print(a[i])\n"
    ),
    "unknown call may have side effects": (
        "def f(a, b, n, g):\n"
        "    for i in range(n):\n"
        "        a[i] = g(i)\n"
        "    for i in range(n):\n"
        "        b[i] = a[i]\n"
    ),
    "random draws change order": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        a[i] = np.random.rand()\n"
        "    for i in range(n):\n"
        "        b[i] = np.random.rand()\n"
    ),
    "second loop needs the finished reduction": (
        "def f(a, b, n):\n"
        "    s = 0.0\n"
        "    for i in range(n):\n"
        "        s += a[i]\n"
        "    for i in range(n):\n"
        "        b[i] = a[i] / s\n"
    ),
    "first loop uses a value the second defines": (
        "def f(a, b, n):\n"
        "    t = 0.0\n"
        "    for i in range(n):\n"
        "        a[i] = t\n"
        "    for i in range(n):\n"
        "        t = b[i]\n"
    ),
    "whole-array use of an array the other loop writes": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        a[i] = 1.0\n"
        "    for i in range(n):\n"
        "        b[i] = np.sum(a)\n"
    ),
    "early exit": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        if a[i] < 0:\n"
        "            break\n"
        "        a[i] = 1.0\n"
        "    for i in range(n):\n"
        "        b[i] = a[i]\n"
    ),
    "loop else": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        a[i] = 1.0\n"
        "    else:\n"
        "        pass\n"
        "    for i in range(n):\n"
        "        b[i] = a[i]\n"
    ),
    "a view of a fresh array read at a shifted index": (
        "def f(b, n):\n"
        "    a = np.zeros(n + 1)\n"
        "    v = a[1:]\n"
        "    for i in range(n):\n"
        "        a[i] = 1.0\n"
        "    for i in range(n):\n"
        "        b[i] = v[i]\n"
    ),
    "renaming would clash with a later use": (
        "def f(a, b, n):\n"
        "    for i in range(n):\n"
        "        a[i] = 1.0\n"
        "    for j in range(n):\n"
        "        b[j] = a[j]\n"
        "    return j\n"
    ),
}


@pytest.mark.parametrize("code", list(TRAPS.values()), ids=list(TRAPS))
def test_illegal_fusion_is_not_proposed(code: str) -> None:
    new_code, found = fusion(code)
    assert [o for o in found if o.code == "GO201"] == []
    assert new_code == HEADER + code


def test_fresh_arrays_fusion_is_static_safe_and_params_are_not() -> None:
    fresh = (
        "def f(x, n):\n"
        "    a = np.empty(n)\n"
        "    b = np.empty(n)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i] * 2.0\n"
        "    for i in range(n):\n"
        "        b[i] = a[i] + x[i]\n"
        "    return b\n"
    )
    _, found = fusion(fresh)
    (opp,) = found
    assert opp.code == "GO201" and opp.static_safe and opp.site.function == "f"
    params = (
        "def g(a, b, c, n):\n"
        "    for i in range(n):\n"
        "        a[i] = b[i] * 2.0\n"
        "    for i in range(n):\n"
        "        c[i] = a[i + 1] if i + 1 < n else 0.0\n"
    )
    _, found = fusion(params)
    # a[i] written, a[i + 1] read: refused (fusion-preventing dependence)
    assert found == []
    # (both loops storing into parameters would be refused: a store into an array of
    # unknown dtype may raise, and then the caller would see other partial results)
    # (hunt 18: not `a[i] = c[i] * 2.0` then `t[i] = a[i] + c[i]`: a 2-D `a` makes the
    # second loop raise at once, after the fused loop wrote only `a[0]`)
    same_index = (
        "def h(a, c, n):\n"
        "    t = np.empty(n)\n"
        "    u = np.empty(n)\n"
        "    for i in range(n):\n"
        "        t[i] = c[i] * 2.0\n"
        "        a[i] = t[i]\n"
        "    for i in range(n):\n"
        "        u[i] = c[i] + t[i]\n"
        "    return u\n"
    )
    _, found = fusion(same_index)
    (opp,) = found
    # the caller may pass overlapping slices (c = a[1:]): legal only if they do not overlap
    assert not opp.static_safe and "`a` and `c` do not overlap" in opp.rationale
    shifted_other = (
        "def k(a, b, c, n):\n"
        "    for i in range(n - 1):\n"
        "        a[i] = 2.0\n"
        "    for i in range(n - 1):\n"
        "        c[i] = b[i + 1] + a[i]\n"
    )
    _, found = fusion(shifted_other)
    # `b` may be `a` (`k(a, a, c, n)`): then the second loop reads `a[i + 1]` before the
    # fused loop wrote it; as if they were one array, that is a fusion-preventing dependence
    assert found == []


def _random_args(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.random(n), rng.random(n)


FUSABLE = (
    "def f(x, y):\n"
    "    n = len(x)\n"
    "    a = np.empty(n)\n"
    "    b = np.empty(n)\n"
    "    s = 0.0\n"
    "    for i in range(n):\n"
    "        t = x[i] * 2.0\n"
    "        a[i] = t + y[i]\n"
    "    for k in range(0, n, 1):\n"
    "        t = a[k] * a[k]\n"
    "        b[k] = t - x[k]\n"
    "    for i in range(n):\n"
    "        s += b[i] * y[i]\n"
    "    return a, b, s\n"
)


def test_fused_code_computes_the_same_results() -> None:
    new_code, found = fusion(FUSABLE)
    assert len([o for o in found if o.code == "GO201"]) == 2
    assert new_code.count("for ") == 1  # three loops became one
    before, after = load(HEADER + FUSABLE)["f"], load(new_code)["f"]
    rng = np.random.default_rng(7)
    for n in (0, 1, 17, 1000):
        x, y = _random_args(rng, n)
        for got, want in zip(after(x.copy(), y.copy()), before(x.copy(), y.copy()), strict=True):
            assert np.allclose(got, want, rtol=0, atol=0)


def test_nested_loops_fuse_outer_then_inner() -> None:
    code = (
        "def f(u):\n"
        "    n, m = u.shape\n"
        "    v = np.zeros((n, m))\n"
        "    w = np.zeros((n, m))\n"
        "    for i in range(n):\n"
        "        for j in range(m):\n"
        "            v[i, j] = u[i, j] * 2.0\n"
        "    for i in range(n):\n"
        "        for j in range(m):\n"
        "            w[i, j] = v[i, j] + u[i, j]\n"
        "    return w\n"
    )
    new_code, _ = fusion(code)
    assert new_code.count("for i") == 1 and new_code.count("for j") == 1
    u = np.random.default_rng(3).random((9, 5))
    assert np.array_equal(load(new_code)["f"](u), load(HEADER + code)["f"](u))
    again, _ = rewrite(LoopFusionPass(), new_code)
    assert again == new_code


def test_comments_and_untouched_code_are_kept() -> None:
    code = (
        "def f(x):  # keep me\n"
        "    n = len(x)\n"
        "    a = np.empty(n)   # odd   spacing kept\n"
        "    for i in range(n):\n"
        "        a[i] = x[i]\n"
        "    # about the second loop\n"
        "    for i in range(n):  # header comment\n"
        "        a[i] = a[i] + 1.0\n"
        "    return a\n"
    )
    new_code, _ = fusion(code)
    assert "def f(x):  # keep me" in new_code
    assert "a = np.empty(n)   # odd   spacing kept" in new_code
    assert "        # about the second loop\n" in new_code
    assert "        # header comment\n" in new_code


CHAIN = "def f(a, b, c):\n    t = a * b\n    u = t + a\n    v = u / 2.0\n    w = np.sqrt(v)\n    return w * c\n"


def test_temporaries_chain_is_rewritten_in_place_and_equal() -> None:
    new_code, found = fusion(CHAIN)
    (opp,) = found
    assert opp.code == "GO202" and not opp.static_safe  # parameter shapes are unknown
    assert "u = np.add(t, a, out=t)" in new_code
    assert "v = np.divide(u, 2.0, out=u)" in new_code
    assert "w = np.sqrt(v, out=v)" in new_code
    assert "return w * c" in new_code  # c may be wider than the buffer: the chain stops
    rng = np.random.default_rng(11)
    a, b, c = rng.random(500), rng.random(500), rng.random(500)
    assert np.allclose(load(new_code)["f"](a, b, c), load(HEADER + CHAIN)["f"](a, b, c))


def test_temporaries_chain_static_safe_only_when_shapes_and_dtypes_are_known() -> None:
    code = (
        "def f(n):\n"
        "    x = np.linspace(0.0, 1.0, n)\n"
        "    y = np.ones(n)\n"
        "    t = x * y\n"
        "    u = t + 1.5\n"
        "    return np.exp(u)\n"
    )
    _, found = fusion(code)
    (opp,) = found
    assert opp.static_safe
    broadcast = code.replace("y = np.ones(n)", "y = np.ones((n, n))")
    _, found = fusion(broadcast)
    assert found and not found[0].static_safe


CHAIN_TRAPS = {
    "temporary used again later": (
        "def f(a, b, c):\n    t = a * b\n    u = t + c\n    return u, t\n"
    ),
    "temporary is a parameter": "def f(t, c):\n    return np.sqrt(t) + c\n",
    "temporary is a view": "def f(a, c):\n    t = a[::2]\n    u = t + c\n    return u\n",
    "temporary rebound": "def f(a, b, c):\n    t = a * b\n    t = t + c\n    return t\n",
    "not an elementwise op": "def f(a, b):\n    t = a * b\n    u = t @ b\n    return u\n",
    "scalars from single elements": (
        "def f(u, g, n):\n    s = 0.0\n    for i in range(1, n):\n"
        "        lap = (u[i - 1] - 2.0 * u[i]) / 4.0\n        r = g[i] + lap\n"
        "        s += r * r\n    return s\n"
    ),
    "scalar arithmetic": (
        "def f(amp, f0, f1, fs):\n    n = len(amp)\n    duration = n / fs\n"
        "    rate = (f1 - f0) / duration\n    return amp * rate\n"
    ),
    "scalar from shape": (
        "def f(a):\n    h = a.shape[0] // 2\n    t = h * 0.5\n    u = t + 1.0\n"
        "    return a[:h] * u\n"
    ),
    "numpy scalar": (
        "def f(a):\n    t = np.float64(3.0) * 2.0\n    u = t + 1.0\n    return np.sqrt(u)\n"
    ),
}


def test_chains_on_arrays_next_to_scalars_are_still_found() -> None:
    """A named scalar operand does not hide an operand used as an array (`len(x)`)."""
    code = "def f(x, y):\n    n = len(x)\n    t = x * n\n    u = t + x\n    return u\n"
    _, found = fusion(code)
    assert [o.code for o in found] == ["GO202"]


@pytest.mark.parametrize("code", list(CHAIN_TRAPS.values()), ids=list(CHAIN_TRAPS))
def test_temporaries_chain_traps(code: str) -> None:
    new_code, found = fusion(code)
    assert not [o for o in found if o.code == "GO202"]
    assert new_code == HEADER + code


def test_parameters_are_never_written_in_place() -> None:
    code = "def f(t, c):\n    u = t + c\n    return np.sqrt(u)\n"
    new_code, _ = fusion(code)
    assert "return np.sqrt(u, out=u)" in new_code  # u is fresh: reused
    assert "out=t" not in new_code and "out=c" not in new_code


def test_a_chain_of_pairs_is_rechecked_against_the_merged_loop() -> None:
    # (A, B) and (B, C) are each legal, but C reads x[i + 1], which A writes
    code = (
        "def f(n):\n"
        "    x = np.zeros(n + 1)\n"
        "    y = np.zeros(n)\n"
        "    z = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        x[i] = 1.0 + i\n"
        "    for i in range(n):\n"
        "        y[i] = 2.0 * i\n"
        "    for i in range(n):\n"
        "        z[i] = x[i + 1] + y[i]\n"
        "    return z\n"
    )
    new_code, found = fusion(code)
    assert len(found) == 2
    assert new_code.count("for i in range(n):") == 2
    assert np.array_equal(load(new_code)["f"](10), load(HEADER + code)["f"](10))


def test_apply_only_the_chosen_pair() -> None:
    code = (
        "def f(x, n):\n"
        "    a = np.empty(n)\n"
        "    b = np.empty(n)\n"
        "    c = np.empty(n)\n"
        "    for i in range(n):\n"
        "        a[i] = x[i]\n"
        "    for i in range(n):\n"
        "        b[i] = a[i]\n"
        "    for i in range(n):\n"
        "        c[i] = b[i]\n"
        "    return c\n"
    )
    from greenopt.optimizer.source import SourceModule

    module = SourceModule.parse(HEADER + code)
    pass_ = LoopFusionPass()
    found = pass_.find(module)
    assert len(found) == 2
    new_code = pass_.apply(module, [found[1]]).code
    assert new_code.count("for i in range(n):") == 2
    assert "        b[i] = a[i]\n        c[i] = b[i]\n" in new_code
