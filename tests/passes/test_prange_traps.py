"""jit GO402: loops whose iterations are NOT independent must not become numba.prange.

Each trap below was found by running the rewritten function with its prange loop in
reversed / shuffled order (pure Python) and comparing with the original; most of them
also give silently wrong values under real `@numba.njit(parallel=True)` on 2 threads
(hunt13). The LEGAL kernels pin loops that must keep their prange.
"""

from __future__ import annotations

import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.jit import JitPass

HEADER = "import numpy as np\n\n\n"


def prange_loops(code: str, function: str = "f") -> list[int]:
    """Loop indices the GO402 (parallel) opportunity of `function` turns into prange."""
    module = SourceModule.parse(HEADER + code, "mod.py")
    loops: list[int] = []
    for o in JitPass().find(module):
        if o.data.get("variant") == "parallel" and o.data.get("function") == function:
            loops.extend(o.data.get("prange_loops", ()))
    return loops


def jitted_plain(code: str, function: str = "f") -> bool:
    module = SourceModule.parse(HEADER + code, "mod.py")
    return any(
        o.data.get("variant") == "plain" and o.data.get("function") == function
        for o in JitPass().find(module)
    )


TRAPS = {
    # Python wraps negative indices: i - n over range(2 * n) writes out[k] twice
    # (i = k and i = k + n); sequentially the second write wins.
    "negative-index-wraps": (
        "def f(x, n):\n"
        "    out = np.zeros(n)\n"
        "    for i in range(2 * n):\n"
        "        out[i - n] = x[i]\n"
        "    return out\n"
    ),
    # 2 * i - n for i in range(n): i = 0 and i = n / 2 both write out[0]
    "negative-index-wraps-2i": (
        "def f(x, n):\n"
        "    out = np.zeros(n)\n"
        "    for i in range(n):\n"
        "        out[2 * i - n] = x[i]\n"
        "    return out\n"
    ),
    # the offset is an integer ARRAY: out[i + offs] writes out[i] and out[i + 1]
    # (fancy index), so neighbouring iterations write the same element
    "array-valued-offset-param": (
        "def f(x, offs):\n"
        "    out = np.zeros(len(x) + 1)\n"
        "    for i in range(len(x)):\n"
        "        out[i + offs] = x[i]\n"
        "    return out\n"
    ),
    "array-valued-offset-local": (
        "def f(x, idx):\n"
        "    sh = idx[0:2]\n"
        "    out = np.zeros(len(x) + 8)\n"
        "    for i in range(len(x)):\n"
        "        out[i + sh] = x[i]\n"
        "    return out\n"
    ),
    # the loop variable is rebound in the body: out[i] is no longer injective
    "loop-variable-rebound": (
        "def f(x):\n"
        "    out = np.zeros(3)\n"
        "    for i in range(len(x)):\n"
        "        v = x[i]\n"
        "        i = i % 3\n"
        "        out[i] = v\n"
        "    return out\n"
    ),
    # odd iterations run an empty inner loop and read the `j` an earlier iteration left
    "stale-inner-loop-target": (
        "def f(x):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        for j in range(i, i + 1 - i % 2):\n"
        "            pass\n"
        "        out[i] = x[j]\n"
        "    return out\n"
    ),
    # `j` is read before the inner loop binds it: the previous iteration's value
    "inner-loop-target-read-before-loop": (
        "def f(x):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        if i > 0:\n"
        "            out[i] = x[j]\n"
        "        for j in range(i + 1):\n"
        "            pass\n"
        "    return out\n"
    ),
    # the comprehension's own `i` makes `out[i]` inside it look like the loop's out[i]:
    # it reads out[0..i-1], a prefix-sum dependence
    "comprehension-shadows-loop-variable": (
        "def f(x):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        out[i] = x[i] + sum([out[i] for i in range(i)])\n"
        "    return out\n"
    ),
    # same, through a caller passing one array twice: f(x, x) reads all of x while writing it
    "comprehension-shadows-loop-variable-alias": (
        "def f(x, y):\n"
        "    for i in range(len(x)):\n"
        "        y[i] = sum([x[i] for i in range(len(x))])\n"
        "    return y\n"
    ),
    # for-else of a later loop reads the loop variable when that loop runs zero times:
    # it is then the prange loop's last `i`
    "loop-variable-read-in-later-for-else": (
        "def f(x, m):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        out[i] = x[i]\n"
        "    for i in range(m):\n"
        "        pass\n"
        "    else:\n"
        "        last = i\n"
        "    return out, last\n"
    ),
    # list concatenation is not commutative: `+=` on a list is no reduction
    # (Numba refuses it at compile time, so this one only costs a failed compile)
    "list-concatenation-reduction": (
        "def f(x):\n"
        "    acc = [0.0]\n"
        "    for i in range(len(x)):\n"
        "        acc += [x[i]]\n"
        "    return acc\n"
    ),
    # Numba's prange rejects a negative step (UnsupportedRewriteError): a wasted compile
    "negative-step": (
        "def f(x):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x) - 1, -1, -1):\n"
        "        out[i] = x[i] * 2.0\n"
        "    return out\n"
    ),
}


@pytest.mark.parametrize("name", sorted(TRAPS))
def test_dependent_iterations_are_not_prange(name: str) -> None:
    code = TRAPS[name]
    assert jitted_plain(code), "the plain variant should stay offered"
    assert 0 not in prange_loops(code), f"GO402 offered prange for the {name} trap"


LEGAL = {
    "params": "def f(x, y):\n    for i in range(len(x)):\n        y[i] = 2.0 * x[i]\n    return y\n",
    "fresh": (
        "def f(x, a):\n    out = np.empty_like(x)\n    for i in range(len(x)):\n"
        "        out[i] = a * x[i]\n    return out\n"
    ),
    "shifted-write-fresh": (
        "def f(x):\n    out = np.zeros(len(x) + 1)\n    for i in range(len(x)):\n"
        "        out[i + 1] = x[i]\n    return out\n"
    ),
    "reduction": (
        "def f(x):\n    s = 0.0\n    for i in range(len(x)):\n        if x[i] > 0:\n"
        "            s += x[i]\n    return s\n"
    ),
    "inner-loop-private": (
        "def f(a):\n    n, m = a.shape\n    out = np.zeros(n)\n    for i in range(n):\n"
        "        for j in range(m):\n            t = a[i, j] * 2.0\n            out[i] += t\n"
        "    return out\n"
    ),
    "row-slices": (
        "def f(a):\n    out = np.zeros_like(a)\n    for i in range(a.shape[0]):\n"
        "        out[i, :] = a[i, :] * 2.0\n    return out\n"
    ),
    # corpus/ai/layernorm.py: `j` rebound by three inner loops, read only inside them
    "inner-loops-sharing-a-target": (
        "def f(x):\n    rows, cols = x.shape\n    out = np.empty((rows, cols))\n"
        "    for i in range(rows):\n        mean = 0.0\n        for j in range(cols):\n"
        "            mean += x[i, j]\n        mean = mean / cols\n        for j in range(cols):\n"
        "            out[i, j] = x[i, j] - mean\n    return out\n"
    ),
    # corpus/signal/moving_average.py: a symbolic range start
    "symbolic-start": (
        "def f(x, half):\n    n = len(x)\n    out = np.zeros(n)\n"
        "    for i in range(half, n - half):\n        s = 0.0\n"
        "        for j in range(i - half, i + half + 1):\n            s += x[j]\n"
        "        out[i] = s\n    return out\n"
    ),
    "reversed-write": (
        "def f(x):\n    n = len(x)\n    out = np.zeros(n)\n    for i in range(n):\n"
        "        out[n - 1 - i] = x[i]\n    return out\n"
    ),
    "reversed-write-len": (
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        out[len(x) - i - 1] = x[i]\n    return out\n"
    ),
    "shifted-from-one": (
        "def f(x):\n    n = len(x)\n    out = np.zeros(n)\n    for i in range(1, n):\n"
        "        out[i - 1] = x[i] - x[i - 1]\n    return out\n"
    ),
    "strided-write": (
        "def f(x):\n    out = np.zeros(2 * len(x) + 1)\n    for i in range(len(x)):\n"
        "        out[2 * i + 1] = x[i]\n    return out\n"
    ),
    "private-scalar": (
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        t = x[i] * x[i]\n        out[i] = t + 1.0\n    return out\n"
    ),
}


@pytest.mark.parametrize("name", sorted(LEGAL))
def test_independent_iterations_stay_prange(name: str) -> None:
    assert prange_loops(LEGAL[name]) == [0]


REDUCTION_TRAPS = {
    # `acc` IS `x`: each iteration adds x[i] as left by the earlier ones (silently wrong
    # under Numba: private partial sums start from zero)
    "reduction-on-local-alias": (
        "def f(x):\n    acc = x\n    for i in range(len(x)):\n        acc += x[i]\n    return acc\n"
    ),
    # the caller may pass one array twice: f(x, x)
    "reduction-on-parameter-array": (
        "def f(x, acc):\n    for i in range(len(x)):\n        acc += x[i]\n    return acc\n"
    ),
    # `acc` is row 0 of `A`: iteration 0 doubles it, later rows add to the doubled row
    "reduction-on-view-of-read-array": (
        "def f(A):\n"
        "    acc = A[0]\n"
        "    for i in range(A.shape[0]):\n"
        "        acc += A[i]\n"
        "    return acc\n"
    ),
}


@pytest.mark.parametrize("name", sorted(REDUCTION_TRAPS))
def test_reduction_on_memory_the_loop_reads_is_not_prange(name: str) -> None:
    assert 0 not in prange_loops(REDUCTION_TRAPS[name])


def test_array_reduction_on_a_fresh_accumulator_stays_prange() -> None:
    code = (
        "def f(A):\n"
        "    acc = np.zeros(A.shape[1])\n"
        "    for i in range(A.shape[0]):\n"
        "        acc += A[i]\n"
        "    return acc\n"
    )
    assert prange_loops(code) == [0]


@pytest.mark.parametrize("expr", ["x[i] / max(x)", "x[i] - min(x)", "abs(x)[i + 1]"])
def test_builtin_of_a_whole_possible_alias_is_a_whole_read(expr: str) -> None:
    # f(x, x) normalises in place: sequentially later iterations see the updated maximum
    code = f"def f(x, y):\n    for i in range(len(x) - 1):\n        y[i] = {expr}\n    return y\n"
    assert 0 not in prange_loops(code)


def test_builtin_max_of_scalars_stays_prange() -> None:
    code = (
        "def f(x, y, lo):\n"
        "    for i in range(len(x)):\n"
        "        y[i] = max(x[i], lo)\n"
        "    return y\n"
    )
    assert prange_loops(code) == [0]


@pytest.mark.parametrize(
    "call",
    [
        "np.add(A[i], A[i - 1], A[i])",  # ufunc output by position: a row prefix sum
        "np.multiply(A[i - 1], 2.0, A[i])",
        "np.cumsum(A[i - 1], 0, None, A[i])",  # `out` is cumsum's fourth parameter
        "np.clip(A[i - 1], 0.0, 100.0, A[i])",
        "np.round(A[i - 1], 0, A[i])",
        "A[i - 1].clip(0.0, 100.0, A[i])",  # methods: by position...
        "A[i - 1].clip(0.0, 100.0, out=A[i])",  # ...or by keyword
        "A[i - 1].sum(0, None, A[i, 0:1])",
    ],
)
def test_output_array_passed_by_position_is_a_write(call: str) -> None:
    code = f"def f(A):\n    for i in range(1, A.shape[0]):\n        {call}\n    return A\n"
    assert 0 not in prange_loops(code)


def test_numpy_calls_without_an_output_stay_prange() -> None:
    code = (
        "def f(A):\n"
        "    out = np.zeros(A.shape[0])\n"
        "    for i in range(A.shape[0]):\n"
        "        out[i] = np.sum(np.add(A[i], 1.0)) + np.clip(A[i, 0], 0.0, 1.0)\n"
        "    return out\n"
    )
    assert prange_loops(code) == [0]


def test_bare_annotation_is_not_a_binding() -> None:
    # `t: float` binds nothing: where x[i] <= 0, out[i] is the previous iteration's t
    code = (
        "def f(x):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        t: float\n"
        "        if x[i] > 0:\n"
        "            t = x[i]\n"
        "        out[i] = t\n"
        "    return out\n"
    )
    assert 0 not in prange_loops(code)


def test_annotated_private_scalar_stays_prange() -> None:
    code = (
        "def f(x):\n"
        "    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        t: float = x[i] * 2.0\n"
        "        out[i] = t\n"
        "    return out\n"
    )
    assert prange_loops(code) == [0]


# privates bound in every branch of an if/else, or as tuple elements, are private too
PRIVATE_LEGAL = {
    "if-else": (
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        if x[i] > 0:\n            t = x[i]\n        else:\n            t = -x[i]\n"
        "        out[i] = t * 2.0\n    return out\n"
    ),
    "if-elif-else": (
        "def f(x):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        if x[i] > 1:\n            t = 1.0\n        elif x[i] < -1:\n            t = -1.0\n"
        "        else:\n            t = x[i]\n        out[i] = t\n    return out\n"
    ),
    "tuple": (
        "def f(x, y):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        a, b = x[i], y[i]\n        out[i] = a * b\n    return out\n"
    ),
}

PRIVATE_TRAPS = {
    "if-without-else": (
        "def f(x):\n    out = np.zeros(len(x))\n    t = 0.0\n    for i in range(len(x)):\n"
        "        if x[i] > 0:\n            t = x[i]\n        out[i] = t\n    return out\n"
    ),
    "elif-without-else": (
        "def f(x):\n    out = np.zeros(len(x))\n    t = 0.0\n    for i in range(len(x)):\n"
        "        if x[i] > 1:\n            t = 1.0\n        elif x[i] < -1:\n            t = -1.0\n"
        "        out[i] = t\n    return out\n"
    ),
    "test-reads-it": (
        "def f(x):\n    out = np.zeros(len(x))\n    t = 0.0\n    for i in range(len(x)):\n"
        "        if t > 0:\n            t = x[i]\n        else:\n            t = -x[i]\n"
        "        out[i] = t\n    return out\n"
    ),
    "branch-reads-it-first": (
        "def f(x):\n    out = np.zeros(len(x))\n    t = 0.0\n    for i in range(len(x)):\n"
        "        if x[i] > 0:\n            t = t + x[i]\n        else:\n            t = -x[i]\n"
        "        out[i] = t\n    return out\n"
    ),
    "branch-binds-in-inner-loop": (
        "def f(x, k):\n    out = np.zeros(len(x))\n    t = 0.0\n    for i in range(len(x)):\n"
        "        if x[i] > 0:\n            for t in range(k):\n                pass\n"
        "        else:\n            t = 1\n        out[i] = x[i] * t\n    return out\n"
    ),
    "tuple-reads-old-value": (
        "def f(x, y):\n    out = np.zeros(len(x))\n    t = 0\n    for i in range(len(x)):\n"
        "        a, t = t * 2.0, x[i]\n        out[i] = a + t\n    return out\n"
    ),
    "tuple-swap": (
        "def f(x):\n    out = np.zeros(len(x))\n    a = 0.0\n    b = 1.0\n"
        "    for i in range(len(x)):\n        a, b = b, a\n        out[i] = a * x[i]\n    return out\n"
    ),
}


@pytest.mark.parametrize("name", sorted(PRIVATE_LEGAL))
def test_private_bound_in_every_branch_or_tuple_stays_prange(name: str) -> None:
    assert prange_loops(PRIVATE_LEGAL[name]) == [0]


@pytest.mark.parametrize("name", sorted(PRIVATE_TRAPS))
def test_private_not_bound_in_every_iteration_is_not_prange(name: str) -> None:
    assert prange_loops(PRIVATE_TRAPS[name]) == []


# an index may add locals that are provably non-negative ints (`half = len(w) // 2`)
OFFSET_LEGAL = {
    "len-half": (
        "def f(x, w):\n    half = len(w) // 2\n    out = np.zeros(len(x) + 2 * half)\n"
        "    for i in range(len(x)):\n        out[i + half] = x[i]\n    return out\n"
    ),
    "shape-product": (
        "def f(x, a):\n    m = a.shape[1] * 2 + 1\n    out = np.zeros(len(x) + m)\n"
        "    for i in range(len(x)):\n        out[i + m] = x[i]\n    return out\n"
    ),
}

OFFSET_TRAPS = {
    "parameter-offset": (
        "def f(x, c):\n    out = np.zeros(len(x) + 4)\n    for i in range(len(x)):\n"
        "        out[i + c] = x[i]\n    return out\n"
    ),
    "difference-offset": (
        "def f(x, n):\n    sh = len(x) - n\n    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n        out[i + sh] = x[i]\n    return out\n"
    ),
    "element-offset": (
        "def f(x, idx):\n    sh = idx[1]\n    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n        out[i + sh] = x[i]\n    return out\n"
    ),
    "negated-offset": (
        "def f(x, w):\n    half = len(w) // 2\n    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n        out[i - half] = x[i]\n    return out\n"
    ),
    "rebound-offset": (
        "def f(x, w):\n    half = len(w) // 2\n    half = half - len(x)\n    out = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n        out[i + half] = x[i]\n    return out\n"
    ),
}


@pytest.mark.parametrize("name", sorted(OFFSET_LEGAL))
def test_offset_by_a_nonnegative_int_local_stays_prange(name: str) -> None:
    assert prange_loops(OFFSET_LEGAL[name]) == [0]


@pytest.mark.parametrize("name", sorted(OFFSET_TRAPS))
def test_offset_that_may_be_negative_or_an_array_is_not_prange(name: str) -> None:
    assert prange_loops(OFFSET_TRAPS[name]) == []
