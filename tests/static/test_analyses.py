"""The shared analyses: name resolution, affine forms, loops, dependences, aliasing, effects."""

from __future__ import annotations

import libcst as cst
import pytest

from greenopt.optimizer.accesses import statement_accesses
from greenopt.optimizer.affine import Affine, to_affine
from greenopt.optimizer.aliasing import ArrayFacts, Relation
from greenopt.optimizer.dependences import distance, vectorization_blocker
from greenopt.optimizer.effects import early_exit, expression_effect
from greenopt.optimizer.loops import bound_atom, loop_nest, range_loop
from greenopt.optimizer.name_facts import function_facts, iter_functions, nonneg_names
from greenopt.optimizer.numpy_names import (
    NameResolver,
    alias_for_rewrite,
    ensure_numpy_import,
    numpy_alias,
)
from greenopt.optimizer.source import SourceModule


def _module(code: str) -> tuple[SourceModule, NameResolver]:
    module = SourceModule.parse(code, "m.py")
    return module, NameResolver(module.metadata())


def _find(tree: cst.CSTNode, kind: type) -> list:
    from greenopt.optimizer.cst_nodes import walk

    return [n for n in walk(tree) if isinstance(n, kind)]


def test_numpy_spellings_all_resolve() -> None:
    code = (
        "import numpy as xp\nimport numpy\nfrom numpy import sqrt, zeros\n"
        "def f(x):\n    return xp.sum(x) + numpy.sum(x) + sqrt(x) + zeros(3)\n"
    )
    module, resolver = _module(code)
    calls = _find(module.tree.body[3], cst.Call)
    assert sorted(resolver.numpy_name(c.func) for c in calls) == ["sqrt", "sum", "sum", "zeros"]


def test_local_shadowing_is_not_numpy_or_builtin() -> None:
    code = "import numpy as np\ndef f(np, len):\n    return np.sum(1) + len(2)\n"
    module, resolver = _module(code)
    calls = _find(module.tree.body[1], cst.Call)
    assert all(resolver.numpy_name(c.func) is None for c in calls)
    assert not any(resolver.is_builtin(c.func, "len") for c in calls)


def test_loop_resolver_positions_match_full_module() -> None:
    code = "# header\n\nimport numpy as np\n\ndef a():\n    pass\n\n\ndef b(x):\n    for i in range(3):\n        x[i] = 1\n"
    module = SourceModule.parse(code)
    fast = module.loop_resolver()
    full = NameResolver(module.metadata())
    loop = _find(module.tree, cst.For)[0]
    assert fast.position(loop) == full.position(loop) == (10, 4, 11, 16)


def test_alias_choice_and_import_added_once() -> None:
    assert numpy_alias(cst.parse_module("import numpy as xp\n")) == "xp"
    assert alias_for_rewrite(cst.parse_module("np = 3\n")) == "numpy"
    tree = cst.parse_module('"""doc"""\nfrom __future__ import annotations\nimport os\n')
    once = ensure_numpy_import(tree, "np")
    assert (
        once.code
        == '"""doc"""\nfrom __future__ import annotations\nimport numpy as np\nimport os\n'
    )
    assert ensure_numpy_import(once, "np").code == once.code


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2*i + 1", Affine((("i", 2),), 1)),
        ("i - 1", Affine((("i", 1),), -1)),
        ("n - 1 - i", Affine((("i", -1), ("n", 1)), -1)),
        ("-(i + 3)", Affine((("i", -1),), -3)),
    ],
)
def test_affine_forms(text: str, expected: Affine) -> None:
    assert (
        to_affine(
            cst.parse_expression(text), lambda n: n.value if isinstance(n, cst.Name) else None
        )
        == expected
    )


def test_affine_rejects_products_of_variables() -> None:
    assert to_affine(cst.parse_expression("i * j"), lambda n: getattr(n, "value", None)) is None


def test_affine_code_and_nonneg() -> None:
    a = Affine((("len(x)", 1),), -2)
    assert a.code() == "len(x) - 2"
    assert not a.nonneg(lambda atom: True)
    assert Affine((("len(x)", 1),), 0).nonneg(lambda atom: atom.startswith("len("))


@pytest.mark.parametrize(
    "header,start,stop,step",
    [
        ("for i in range(n):", "0", "n", 1),
        ("for i in range(1, len(x) - 1):", "1", "len(x) - 1", 1),
        ("for i in range(0, x.shape[1], 2):", "0", "x.shape[1]", 2),
    ],
)
def test_range_loops(header: str, start: str, stop: str, step: int) -> None:
    module, resolver = _module(f"def f(x, n):\n    {header}\n        pass\n")
    loop = range_loop(_find(module.tree, cst.For)[0], resolver)
    assert not isinstance(loop, str)
    assert (loop.start.code(), loop.stop.code(), loop.step) == (start, stop, step)


@pytest.mark.parametrize(
    "header,reason",
    [
        ("for i in range(n, 0, -1):", "step"),
        ("for x_ in x:", "range"),
        ("for i in range(f(n)):", "affine"),
    ],
)
def test_not_range_loops(header: str, reason: str) -> None:
    module, resolver = _module(f"def f(x, n):\n    {header}\n        pass\n")
    assert reason in range_loop(_find(module.tree, cst.For)[0], resolver)


def test_triangular_nest_is_refused() -> None:
    code = "def f(a, n):\n    for i in range(n):\n        for j in range(i):\n            a[i, j] = 0\n"
    module, resolver = _module(code)
    assert "triangular" in loop_nest(_find(module.tree, cst.For)[0], resolver)


def _accesses(code: str):
    module, resolver = _module(code)
    stmts = [s for line in _find(module.tree, cst.SimpleStatementLine) for s in line.body]
    atom = bound_atom(resolver)
    out = []
    for k, s in enumerate(stmts):
        out.extend(statement_accesses(s, k, atom) or [])
    return out


def test_distance_of_recurrence_and_anti_dependence() -> None:
    acc = _accesses("u[i] = u[i - 1] + u[i + 1]\n")
    write = next(a for a in acc if a.write)
    prev, nxt = (a for a in acc if not a.write)
    assert distance(write, prev, ["i"]) == (1,)
    assert distance(write, nxt, ["i"]) == (-1,)


def test_different_constants_never_meet() -> None:
    acc = _accesses("a[0] = a[1]\n")
    assert distance(acc[1], acc[0], ["i"]) is None


def test_blocker_detects_recurrence_but_not_anti_dependence() -> None:
    same = lambda a, b: Relation.SAME  # noqa: E731
    assert "recurrence" in vectorization_blocker(_accesses("u[i] = u[i - 1] * 2\n"), ["i"], same)
    assert vectorization_blocker(_accesses("u[i] = u[i + 1] * 2\n"), ["i"], same) is None


def test_blocker_checks_statement_order() -> None:
    same = lambda a, b: Relation.SAME  # noqa: E731
    # S1 reads b[i+1] which S2 writes in a later iteration: fine; S2 reads a[i-1] written by S1 earlier
    ok = _accesses("a[i] = b[i + 1]\nb[i] = 2\n")
    assert vectorization_blocker(ok, ["i"], same) is None
    bad = _accesses("a[i] = 1\nb[i] = a[i + 1]\n")
    assert vectorization_blocker(bad, ["i"], same) is not None


def test_indirect_and_unknown_alias_block() -> None:
    assert "indirect" in vectorization_blocker(
        _accesses("h[idx[i]] = h[i]\n"), ["i"], lambda a, b: Relation.SAME
    )
    assert "share memory" in vectorization_blocker(
        _accesses("y[i] = x[i]\n"), ["i"], lambda a, b: Relation.UNKNOWN
    )


def _facts(code: str) -> ArrayFacts:
    module, resolver = _module(code)
    func, qual = next(iter_functions(module.tree))
    return ArrayFacts.build(function_facts(func, qual), resolver)


def test_aliasing_relations() -> None:
    facts = _facts(
        "import numpy as np\n"
        "def f(a, b):\n    c = a\n    v = a[1:]\n    t = a.T\n    z = np.zeros(3)\n"
        "    w = a.copy()\n    r = np.asarray(b)\n"
    )
    assert facts.relation("a", "c") is Relation.SAME
    assert facts.relation("a", "v") is Relation.UNKNOWN
    assert facts.relation("a", "t") is Relation.UNKNOWN
    assert facts.relation("a", "b") is Relation.UNKNOWN  # two parameters may be one array
    assert facts.relation("z", "a") is Relation.DISJOINT
    assert facts.relation("w", "a") is Relation.DISJOINT
    assert facts.relation("r", "b") is Relation.UNKNOWN


def test_ranks_and_float64() -> None:
    facts = _facts(
        "import numpy as np\n"
        "def f(x, n):\n    a = np.zeros((n, 3))\n    b = np.empty(len(x))\n"
        "    c = np.zeros(4, dtype=np.float32)\n    d = np.zeros_like(a)\n"
    )
    assert facts.rank("a") == 2 and facts.rank("b") == 1 and facts.rank("d") == 2
    assert facts.is_float64("a") and facts.is_float64("b") and not facts.is_float64("c")
    assert facts.rank("x") is None and not facts.is_float64("x")


def test_nonneg_names() -> None:
    module, resolver = _module("def f(x, k):\n    n = len(x)\n    r, c = x.shape\n    m = k - 1\n")
    func, qual = next(iter_functions(module.tree))
    assert nonneg_names(function_facts(func, qual), resolver) == {"n", "r", "c"}


@pytest.mark.parametrize(
    "body,reason",
    [
        ("break", "break"),
        ("continue", "continue"),
        ("return 1", "return"),
        ("raise ValueError", "raise"),
        ("assert x", "assert"),
    ],
)
def test_early_exits(body: str, reason: str) -> None:
    stmt = cst.parse_statement(f"for i in range(3):\n    {body}\n")
    assert reason in early_exit(stmt.body)


@pytest.mark.parametrize(
    "expr,reason",
    [
        ("print(x)", "I/O"),
        ("lst.append(x)", "method"),
        ("g(x)", "side effects"),
        ("obj.attr", "attribute"),
        ("np.sqrt(x) + abs(x) + np.pi", None),
        ("np.sum(x)", "not an elementwise"),
    ],
)
def test_expression_effects(expr: str, reason: str | None) -> None:
    module, resolver = _module(f"import numpy as np\ndef f(x, lst, obj):\n    y = {expr}\n")
    value = _find(module.tree, cst.Assign)[0].value
    result = expression_effect(value, resolver)
    assert result is None if reason is None else reason in result


def test_ast_positions_match_libcst_positions() -> None:
    from libcst.metadata import PositionProvider

    code = (
        "s = 'é'; t = 'ü'  # note\n\n@decorator\ndef f(x):\n    for i in range(3):\n"
        "        x[i] = 'ü' + 'é'\n"
        "    async def g():\n        async for k in h():\n            pass\n"
        "    if x:\n        for j in range(2):  # note\n            pass\n"
        "    elif x: y = 1; z = 2\n    else:\n        try:\n            del y\n"
        "        except (ValueError, KeyError) as e:\n            raise\n"
        "        finally:\n            pass\n"
        "    match x:\n        case [a, *rest]:\n            return a\n"
        "    with open('p') as fh, open('q'):\n        assert fh\n"
        "    while True:\n        break\n    else:\n        global gg\n"
        "class C(Base):\n    z: int = 3\n"
    )
    module = SourceModule.parse(code)
    fast = module.statement_positions()
    full = module.metadata().resolve(PositionProvider)
    statements = [
        n
        for n in _find(module.tree, cst.CSTNode)
        if isinstance(n, (cst.BaseStatement, cst.BaseSmallStatement))
    ]
    assert len(statements) > 25
    for node in statements:
        if getattr(node, "decorators", ()):
            assert id(node) not in fast  # libcst starts a decorated def at its `@`
            continue
        rng = full[node]
        assert fast[id(node)] == (rng.start.line, rng.start.column, rng.end.line, rng.end.column)


def test_statement_positions_fall_back_when_ast_refuses_the_text() -> None:
    module = SourceModule.parse("x = 1\n")
    assert module.statement_positions()
    broken = SourceModule(code="def f(:\n", tree=module.tree)
    assert broken.statement_positions() == {}
