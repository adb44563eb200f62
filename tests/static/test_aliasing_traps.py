"""Aliasing traps: names that look like fresh allocations but may share memory.

Each case is a function whose loop a careless alias analysis would vectorise or
fuse although two of its array names may be one array (a conditional rebinding,
a chained assignment, `np.array(x, copy=False)`, an allocator with `out=`, a
global, a walrus, unpacking, `with`, `for`, `match`, `except`, a closure's
`nonlocal`, `del` + rebind, `import ... as`, augmented assignment). For each
the rewritten module must compute exactly what the original computes on the
inputs that expose the alias (or leave the loop alone); unit tests pin the
answers of `ArrayFacts.relation` itself.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst
import numpy as np
import pytest
from libcst.metadata import MetadataWrapper

from greenopt.optimizer.aliasing import ArrayFacts, Relation
from greenopt.optimizer.cst_nodes import walk
from greenopt.optimizer.name_facts import function_facts
from greenopt.optimizer.numpy_names import NameResolver
from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static

from .modules import exec_module

# the recurrence a[i] = b[i-1]*2+1 when b is a: [0, 1, 3, 7, 15] for n=5
_LOOP = """
    for i in range(1, n):
        a[i] = b[i - 1] * 2.0 + 1.0
    return a
"""

VECTORIZE_TRAPS: dict[str, str] = {
    "conditional_rebind": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        b = a
""",
    "chained": """
def f(n, flag):
    a = b = np.arange(n) * 1.0
""",
    "chained_reversed": """
def f(n, flag):
    b = a = np.arange(n) * 1.0
""",
    "array_copy_false": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.array(a, copy=False)
""",
    "array_copy_none": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.array(a, copy=None)
""",
    "asarray": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.asarray(a)
""",
    "asanyarray": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.asanyarray(a)
""",
    "ascontiguousarray": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.ascontiguousarray(a)
""",
    "astype_copy_false": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = a.astype(np.float64, copy=False)
""",
    "cumsum_out": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.cumsum(np.zeros(n), out=a)
    a[:] = np.arange(n)
""",
    "cumsum_positional_out": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.cumsum(np.zeros(n), 0, None, a)
    a[:] = np.arange(n)
""",
    "dot_out": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.dot(np.eye(n), np.arange(n) * 1.0, out=a)
""",
    "dot_positional_out": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.dot(np.eye(n), np.arange(n) * 1.0, a)
""",
    "concatenate_out": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.concatenate([np.arange(n) * 1.0], out=a)
""",
    "add_out": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.add(np.arange(n) * 1.0, 0.0, out=a)
""",
    "global": """
def f(n, flag):
    global b
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        b = a
""",
    "walrus": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag and (b := a) is not None:
        pass
""",
    "walrus_only": """
def f(n, flag):
    a = np.arange(n) * 1.0
    if (b := a) is None:
        b = np.zeros(n)
""",
    "tuple_unpack": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        b, c = a, 0
""",
    "star_unpack": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        *b, = [a]
        b = b[0]
""",
    "with_as": """
import contextlib
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        with contextlib.nullcontext(a) as b:
            pass
""",
    "for_target": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        for b in [a]:
            pass
""",
    "match_case": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        match a:
            case b:
                pass
""",
    "except_as": """
class _Box(Exception):
    pass
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        try:
            raise _Box(a)
        except _Box as b:
            c = b
        b = c.args[0]
""",
    "nonlocal_closure": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    def g():
        nonlocal b
        b = a
    if flag:
        g()
""",
    "del_rebind": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        del b
        b = a
""",
    "import_as": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        import sys as b
        b = a
""",
    "augmented": """
def f(n, flag):
    a = np.arange(n) * 1.0
    b = np.zeros(n)
    if flag:
        b = a
        b += 0.0
""",
    "copy_of_param_rebound": """
def f(n, flag, x=None):
    a = np.arange(n) * 1.0
    x = np.zeros(n)
    b = x
    if flag:
        b = a
""",
    "param_rebound_to_local": """
def f(n, flag, b=None):
    a = np.arange(n) * 1.0
    b = a
""",
}

FUSION_TRAPS: dict[str, str] = {
    "chained": """
def f(n, flag):
    c = e = np.zeros(n)
    for i in range(n):
        c[i] = i + 1.0
    for i in range(n):
        e[i] = e[(i + 1) % n] * 2.0
    return c
""",
    "conditional_rebind": """
def f(n, flag):
    c = np.zeros(n)
    e = np.zeros(n)
    if flag:
        e = c
    for i in range(n):
        c[i] = i + 1.0
    for i in range(n):
        e[i] = e[(i + 1) % n] * 2.0
    return c
""",
    "array_copy_false": """
def f(n, flag):
    c = np.zeros(n)
    e = np.array(c, copy=False)
    for i in range(n):
        c[i] = i + 1.0
    for i in range(n):
        e[i] = e[(i + 1) % n] * 2.0
    return c
""",
    "cumsum_out": """
def f(n, flag):
    c = np.zeros(n)
    e = np.cumsum(np.ones(n), out=c)
    for i in range(n):
        c[i] = i + 1.0
    for i in range(n):
        e[i] = e[(i + 1) % n] * 2.0
    return c
""",
    "nonlocal_closure": """
def f(n, flag):
    c = np.zeros(n)
    e = np.zeros(n)
    def g():
        nonlocal e
        e = c
    if flag:
        g()
    for i in range(n):
        c[i] = i + 1.0
    for i in range(n):
        e[i] = e[(i + 1) % n] * 2.0
    return c
""",
}

_INPUTS = [(5, True), (6, True), (1, True), (0, True), (5, False)]


def _assert_same(expected: object, got: object) -> None:
    exp, res = np.asarray(expected), np.asarray(got)
    assert res.dtype == exp.dtype
    assert res.shape == exp.shape
    assert np.allclose(res, exp, equal_nan=True), (exp, res)


def _check(code: str, pass_name: str, label: str) -> str:
    """Rewrite `code` with one pass; the rewrite must agree with the original."""
    rewritten = rewrite_static(SourceModule.parse(code, "m.py"), passes=[pass_name]).new_code
    for n, flag in _INPUTS:
        original = exec_module(code, f"orig_{label}").f
        new = exec_module(rewritten, f"new_{label}").f
        _assert_same(original(n, flag), new(n, flag))
    return rewritten


@pytest.mark.parametrize("trap", sorted(VECTORIZE_TRAPS))
@pytest.mark.parametrize("pass_name", ["vectorize", "loop-fusion"])
def test_vectorize_traps_keep_results(trap: str, pass_name: str) -> None:
    code = "import numpy as np\n" + VECTORIZE_TRAPS[trap].lstrip("\n") + _LOOP.lstrip("\n")
    rewritten = _check(code, pass_name, trap)
    if pass_name == "vectorize":
        # the recurrence may not become a slice assignment while b may be a
        assert "a[1:n]" not in rewritten and "for i in range(1, n)" in rewritten


def test_conditional_rebind_is_the_reported_bug() -> None:
    code = "import numpy as np\n" + VECTORIZE_TRAPS["conditional_rebind"].lstrip("\n")
    code += _LOOP.lstrip("\n")
    assert exec_module(code, "orig_bug").f(5, True).tolist() == [0.0, 1.0, 3.0, 7.0, 15.0]
    rewritten = rewrite_static(SourceModule.parse(code, "m.py"), passes=["vectorize"])
    assert not rewritten.changed


@pytest.mark.parametrize("trap", sorted(FUSION_TRAPS))
@pytest.mark.parametrize("pass_name", ["vectorize", "loop-fusion"])
def test_fusion_traps_keep_results(trap: str, pass_name: str) -> None:
    code = "import numpy as np\n" + FUSION_TRAPS[trap].lstrip("\n")
    rewritten = _check(code, pass_name, f"fusion_{trap}")
    if pass_name == "loop-fusion":
        assert rewritten.count("for i in range(n)") == 2


def test_disjoint_fresh_arrays_still_vectorise() -> None:
    """Control: two arrays each allocated once are disjoint, so the loop is rewritten."""
    code = "import numpy as np\ndef f(n, flag):\n    a = np.arange(n) * 1.0\n"
    code += "    b = np.zeros(n)\n" + _LOOP.lstrip("\n")
    rewritten = _check(code, "vectorize", "control")
    assert "for i in range(1, n)" not in rewritten


# -- ArrayFacts.relation ---------------------------------------------------------------------


def _facts(code: str) -> ArrayFacts:
    module = cst.parse_module(code)
    func = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    resolver = NameResolver(MetadataWrapper(module, unsafe_skip_copy=True))
    return ArrayFacts.build(function_facts(func, func.name.value), resolver)


def _relation(body: str, params: str = "x, y, n") -> Callable[[str, str], Relation]:
    facts = _facts(f"import numpy as np\ndef f({params}):\n" + body)

    def both(a: str, b: str) -> Relation:
        forward, backward = facts.relation(a, b), facts.relation(b, a)
        assert forward is backward
        return forward

    return both


def test_relation_two_fresh_names_bound_once_are_disjoint() -> None:
    rel = _relation("    a = np.zeros(n)\n    b = np.empty_like(x)\n    c = x.copy()\n")
    assert rel("a", "b") is Relation.DISJOINT
    assert rel("a", "c") is Relation.DISJOINT
    assert rel("a", "x") is Relation.DISJOINT
    assert rel("x", "y") is Relation.UNKNOWN


def test_relation_astype_copies_unless_told_not_to() -> None:
    """`(np.arange(n) % 3).astype(np.int64)` is a new array; `copy=False` may not be."""
    rel = _relation(
        "    h = np.zeros(3)\n    idx = (np.arange(n) % 3).astype(np.int64)\n"
        "    same = x.astype(np.float64, copy=False)\n    kw = x.astype(**y)\n"
    )
    assert rel("h", "idx") is Relation.DISJOINT
    assert rel("idx", "x") is Relation.DISJOINT
    assert rel("same", "x") is not Relation.DISJOINT
    assert rel("kw", "x") is not Relation.DISJOINT


def test_relation_fresh_against_unknown_is_unknown() -> None:
    rel = _relation("    a = np.zeros(n)\n    b = np.zeros(n)\n    if n:\n        b = a\n")
    assert rel("a", "b") is Relation.UNKNOWN
    rel = _relation("    a = np.zeros(n)\n    b = g(x)\n")
    assert rel("a", "b") is Relation.UNKNOWN
    rel = _relation("    a = np.zeros(n)\n")
    assert rel("a", "undefined_global") is Relation.UNKNOWN


def test_relation_chained_assignment_is_one_array() -> None:
    rel = _relation("    a = b = np.zeros(n)\n    c = np.zeros(n)\n")
    assert rel("a", "b") is Relation.SAME
    assert rel("a", "c") is Relation.DISJOINT
    assert rel("b", "c") is Relation.DISJOINT
    facts = _facts("import numpy as np\ndef f(n):\n    a = b = np.zeros(n)\n")
    assert facts.is_local_fresh("a") and facts.is_local_fresh("b")
    # a second binding of one target: the other target may hold either array
    rel = _relation("    a = b = np.zeros(n)\n    a = np.ones(n)\n    c = np.zeros(n)\n")
    assert rel("a", "b") is Relation.UNKNOWN
    assert rel("b", "c") is Relation.UNKNOWN


@pytest.mark.parametrize(
    "value",
    [
        "np.array(a, copy=False)",
        "np.array(a, copy=None)",
        "np.array(a, copy=flag)",
        "np.asarray(a)",
        "np.asanyarray(a)",
        "np.ascontiguousarray(a)",
        "a.astype(float, copy=False)",
        "np.cumsum(x, out=a)",
        "np.cumsum(x, 0, None, a)",
        "np.dot(x, y, out=a)",
        "np.dot(x, y, a)",
        "np.concatenate([x], out=a)",
        "np.concatenate([x], 0, a)",
        "np.add(x, y, out=a)",
        "np.zeros(n, like=a)",
        "np.zeros(*args)",
        "np.zeros(n, **kwargs)",
    ],
)
def test_relation_allocator_that_may_return_an_argument(value: str) -> None:
    rel = _relation(f"    a = np.zeros(n)\n    b = {value}\n", "x, y, n, flag, *args, **kwargs")
    assert rel("a", "b") is not Relation.DISJOINT


@pytest.mark.parametrize(
    "rebind",
    [
        "    global b\n    b = np.zeros(n)\n",
        "    b = np.zeros(n)\n    (b := a)\n",
        "    b = np.zeros(n)\n    b, c = a, 1\n",
        "    b = np.zeros(n)\n    *b, = [a]\n",
        "    b = np.zeros(n)\n    with ctx(a) as b:\n        pass\n",
        "    b = np.zeros(n)\n    for b in [a]:\n        pass\n",
        "    b = np.zeros(n)\n    match a:\n        case b:\n            pass\n",
        "    b = np.zeros(n)\n    match x:\n        case [*b]:\n            pass\n",
        "    b = np.zeros(n)\n    match x:\n        case {**b}:\n            pass\n",
        "    b = np.zeros(n)\n    try:\n        pass\n    except E as b:\n        pass\n",
        "    b = np.zeros(n)\n    try:\n        pass\n    except* E as b:\n        pass\n",
        "    b = np.zeros(n)\n    def g():\n        nonlocal b\n        b = a\n",
        "    b = np.zeros(n)\n    def g(k=(b := a)):\n        pass\n",
        "    b = np.zeros(n)\n    [(b := a) for _ in x]\n",
        "    b = np.zeros(n)\n    import sys as b\n",
        "    b = np.zeros(n)\n    from os import path as b\n",
        "    b = np.zeros(n)\n    b += a\n",
        "    b = np.zeros(n)\n    class b:\n        pass\n",
        "    b = np.zeros(n)\n    x[0] = b = a\n",
    ],
)
def test_relation_non_plain_binding_makes_origin_unknown(rebind: str) -> None:
    rel = _relation("    a = np.zeros(n)\n" + rebind)
    assert rel("a", "b") is Relation.UNKNOWN
    assert rel("b", "x") is Relation.UNKNOWN


def test_relation_rebound_parameter() -> None:
    rel = _relation("    a = np.zeros(n)\n    x = a\n")
    assert rel("a", "x") is not Relation.DISJOINT
    rel = _relation("    a = np.zeros(n)\n    x = np.asarray(x)\n    y = y.copy()\n")
    assert rel("a", "x") is Relation.DISJOINT
    assert rel("a", "y") is Relation.DISJOINT
    assert rel("x", "y") is Relation.UNKNOWN


def test_relation_views_need_a_numeric_fresh_base() -> None:
    # a subscript of a list/object array may be any object stored in it
    rel = _relation("    a = np.zeros(n)\n    x[0] = a\n    b = x[0]\n")
    assert rel("a", "b") is Relation.UNKNOWN
    rel = _relation("    a = np.zeros(n)\n    c = np.zeros(n, dtype=object)\n    b = c[0]\n")
    assert rel("a", "b") is Relation.UNKNOWN
    rel = _relation("    q = x.copy()\n    b = q[0]\n")
    assert rel("b", "x") is Relation.UNKNOWN
    # a view of a numeric allocation stays inside its buffer
    rel = _relation("    a = np.zeros(n)\n    c = np.empty(n)\n    v = c[1:]\n    w = a.T\n")
    assert rel("a", "v") is Relation.DISJOINT
    assert rel("v", "x") is Relation.DISJOINT
    assert rel("w", "v") is Relation.DISJOINT
    assert rel("c", "v") is Relation.UNKNOWN
    assert rel("a", "w") is Relation.UNKNOWN


# -- ArrayFacts.relation_at ------------------------------------------------------------------

_STEPPER = """import numpy as np
def f(u, steps, n):
    cur = u.copy()
    for _ in range(steps):
{before}        nxt = {alloc}
{between}        for i in range(1, n - 1):
            nxt[i] = cur[i - 1] + cur[i + 1]{extra}
        cur = nxt
    return cur
"""


def _stepper_relation(
    before: str = "", alloc: str = "cur.copy()", between: str = "", extra: str = ""
) -> Relation:
    code = _STEPPER.format(before=before, alloc=alloc, between=between, extra=extra)
    facts = _facts(code)
    loops = [n for n in walk(facts.facts.node.body) if isinstance(n, cst.For)]
    inner = loops[1]
    forward = facts.relation_at("nxt", "cur", inner)
    assert facts.relation_at("cur", "nxt", inner) is forward
    assert facts.relation("nxt", "cur") is Relation.UNKNOWN  # flow-insensitively: cur = nxt
    return forward


def test_relation_at_array_allocated_just_before_the_loop_is_disjoint() -> None:
    assert _stepper_relation() is Relation.DISJOINT
    assert _stepper_relation(alloc="np.zeros(n)") is Relation.DISJOINT
    assert _stepper_relation(between="        k = n + 1\n") is Relation.DISJOINT


@pytest.mark.parametrize(
    "kwargs",
    [
        {"between": "        cur = nxt\n"},
        {"between": "        keep = nxt\n"},
        {"between": "        g(nxt)\n"},
        {"alloc": "np.array(cur, copy=False)"},
        {"alloc": "np.cumsum(u, out=cur)"},
        {"alloc": "g(cur)"},
        {"extra": "\n            cur = nxt"},
        {"extra": "\n            g(nxt[0:2])"},
        {"extra": " + np.sqrt(nxt[i], out=cur[0:1])[0]"},
        {"before": "        def g():\n            nonlocal cur\n            cur = nxt\n"},
    ],
)
def test_relation_at_refuses_when_the_new_array_may_reach_the_other_name(
    kwargs: dict[str, str],
) -> None:
    assert _stepper_relation(**kwargs) is Relation.UNKNOWN


def test_relation_at_needs_the_allocation_in_the_loops_own_block() -> None:
    code = _STEPPER.format(before="        if steps:\n", alloc="cur.copy()", between="", extra="")
    code = code.replace("        nxt = cur.copy()", "            nxt = cur.copy()")
    facts = _facts(code)
    inner = [n for n in walk(facts.facts.node.body) if isinstance(n, cst.For)][1]
    assert facts.relation_at("nxt", "cur", inner) is Relation.UNKNOWN


def test_relation_at_keeps_flow_insensitive_answers() -> None:
    facts = _facts("import numpy as np\ndef f(x, n):\n    a = np.zeros(n)\n    for i in range(n):\n"
                   "        a[i] = x[i]\n")  # fmt: skip
    loop = next(n for n in walk(facts.facts.node.body) if isinstance(n, cst.For))
    assert facts.relation_at("a", "x", loop) is Relation.DISJOINT
    assert facts.relation_at("a", "a", loop) is Relation.SAME
