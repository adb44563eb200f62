"""The fast scope analysis answers as libcst's QualifiedNameProvider does (or stricter).

Each case is parsed once; every Name/Attribute/Call the analysis has seen is asked for
its qualified names, and the numpy/builtin answers are compared with libcst's. The
documented departures (stricter) are tested on their own.
"""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, QualifiedNameProvider, QualifiedNameSource

from greenopt.optimizer.cst_nodes import walk
from greenopt.optimizer.numpy_names import NameResolver
from greenopt.optimizer.scopes import ScopeIndex

CASES = {
    "aliases": (
        "import numpy as np\nimport numpy\nimport numpy as xp\nfrom numpy import sqrt, zeros as z\n"
        "from numpy.linalg import norm\nimport numpy.random\n"
        "def f(x):\n    return np.sum(x) + numpy.abs(x) + xp.exp(x) + sqrt(x) + z(3)"
        " + norm(x) + numpy.random.rand(3) + np.random.default_rng(0).random()\n"
    ),
    "shadowing": (
        "import numpy as np\n"
        "def f(np, len):\n    return np.sum(1) + len(2)\n"
        "def g(x):\n    sum = 3\n    return sum + abs(x) + max(x)\n"
        "def h(x):\n    for range in x:\n        pass\n    return range(3)\n"
    ),
    "module_rebinding": (
        "import numpy as np\nabs = lambda v: v\n"
        "def f(x):\n    return abs(x) + np.sqrt(x) + len(x)\n"
    ),
    "class_scope": (
        "import numpy as np\n"
        "class C:\n    len = 3\n    np = None\n"
        "    def m(self, x):\n        return len(x) + np.sum(x)\n"
        "    y = len\n"
    ),
    "closures": (
        "import numpy as np\n"
        "def outer(x):\n    sum = np.sum\n"
        "    def inner(y):\n        return sum(y) + min(y)\n"
        "    return inner(x) + (lambda v, m=max: m(v))(x)\n"
    ),
    "comprehensions": (
        "import numpy as np\n"
        "def f(xs):\n    a = [len(x) for x in xs]\n    b = {k: np.abs(v) for k, v in xs}\n"
        "    c = [np for np in range(3)]\n    return a, b, c, np.zeros(2)\n"
    ),
    "try_and_conditional_imports": (
        "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n"
        "if True:\n    from numpy import exp\n"
        "def f(x):\n    return np.sum(x) + exp(x)\n"
    ),
    "function_imports": (
        "def f(x):\n    import numpy as np\n    from math import sqrt\n"
        "    return np.mean(x) + sqrt(2) + float(x)\n"
    ),
    "global": (
        "import numpy as np\n"
        "def setup():\n    global len\n    len = 4\n"
        "def f(x):\n    return len(x) + np.sum(x)\n"
    ),
    "nonlocal": (
        "def f(x):\n    total = 0\n"
        "    def add(v):\n        nonlocal total\n        total = total + abs(v)\n"
        "    add(x)\n    return total\n"
    ),
    "stores_of_every_kind": (
        "import numpy as np\n"
        "def f(x, *args, y=len, **kw):\n"
        "    with open('p') as fh:\n        pass\n"
        "    try:\n        pass\n    except ValueError as err:\n        pass\n"
        "    (a, *rest), b = x\n    c: int = 3\n    d += 1\n"
        "    return fh, err, a, rest, b, c, d, np.dtype('f8'), x.astype(np.float32)\n"
    ),
    "attribute_chains": (
        "import numpy as np\n"
        "def f(x):\n    return np.linalg.norm(x).sum() + x[0].mean() + np.zeros(3).shape[0]\n"
    ),
}


def _interesting(names: object) -> set[tuple[str, str]]:
    out = set()
    for q in names:  # type: ignore[attr-defined]
        if q.source is QualifiedNameSource.BUILTIN or (
            q.source is QualifiedNameSource.IMPORT
            and (q.name == "numpy" or q.name.startswith("numpy."))
        ):
            out.add((q.name, q.source.name))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_and_builtin_answers_match_libcst(name: str) -> None:
    module = cst.parse_module(CASES[name])
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(QualifiedNameProvider)
    index = ScopeIndex(module)
    asked = 0
    for node in walk(module):
        if not isinstance(node, (cst.Name, cst.Attribute, cst.Call)):
            continue
        if index.scope_of(node) is None or node not in reference:
            continue
        expected = reference[node]
        if callable(expected):
            expected = expected()
        assert _interesting(index.qualified(node)) == _interesting(expected), module.code_for_node(
            node
        )
        asked += 1
    assert asked > 5


def _calls(code: str) -> tuple[NameResolver, dict[str, cst.Call]]:
    module = cst.parse_module(code)
    calls = {module.code_for_node(n.func): n for n in walk(module) if isinstance(n, cst.Call)}
    return NameResolver(module), calls


def test_resolver_answers() -> None:
    resolver, calls = _calls(CASES["aliases"])
    assert resolver.numpy_name(calls["np.sum"].func) == "sum"
    assert resolver.numpy_name(calls["z"].func) == "zeros"
    assert resolver.numpy_name(calls["norm"].func) == "linalg.norm"
    assert resolver.numpy_name(calls["numpy.random.rand"].func) == "random.rand"
    resolver, calls = _calls(CASES["shadowing"])
    assert resolver.numpy_name(calls["np.sum"].func) is None
    assert not resolver.is_builtin(calls["len"].func, "len")
    assert resolver.builtin_name(calls["abs"].func) == "abs"
    assert resolver.builtin_name(calls["range"].func) is None  # the loop target rebinds it


def test_a_later_local_binding_makes_the_name_local_for_the_whole_function() -> None:
    """Python's rule (libcst looks past a local assigned only later)."""
    resolver, calls = _calls("def f(x):\n    y = len(x)\n    len = 3\n    return y\n")
    assert resolver.builtin_name(calls["len"].func) is None


def test_del_makes_a_name_local() -> None:
    resolver, calls = _calls("def f(x):\n    y = abs(x)\n    del abs\n    return y\n")
    assert resolver.builtin_name(calls["abs"].func) is None


def test_walrus_in_a_comprehension_binds_in_the_function() -> None:
    code = "def f(xs):\n    ys = [(sum := v) for v in xs]\n    return sum(ys)\n"
    resolver, calls = _calls(code)
    assert resolver.builtin_name(calls["sum"].func) is None


def test_star_import_makes_numpy_shadowed_builtins_unknown() -> None:
    code = "from numpy import *\ndef f(x):\n    return sum(x) + abs(x) + len(x) + range(3)\n"
    resolver, calls = _calls(code)
    assert resolver.builtin_name(calls["sum"].func) is None
    assert resolver.builtin_name(calls["abs"].func) is None
    assert resolver.builtin_name(calls["len"].func) == "len"
    assert resolver.builtin_name(calls["range"].func) == "range"


def test_star_shadow_list_covers_numpy() -> None:
    import builtins

    numpy = pytest.importorskip("numpy")
    from greenopt.optimizer.scopes import NUMPY_STAR_SHADOWS

    exported = {n for n in numpy.__all__ if hasattr(builtins, n)}
    assert exported <= NUMPY_STAR_SHADOWS


def test_global_in_a_nested_function_skips_the_enclosing_local() -> None:
    code = (
        "def outer(x):\n    abs = None\n"
        "    def inner(v):\n        global abs\n        return abs(v)\n    return inner(x)\n"
    )
    resolver, calls = _calls(code)
    assert resolver.builtin_name(calls["abs"].func) == "abs"


def test_for_loops_skips_bodies_without_loops_but_keeps_their_names() -> None:
    code = (
        "import numpy as np\n"
        "def sum(x):\n    return 0\n"
        "def f(x):\n    for i in range(3):\n        x[i] = sum(x)\n"
    )
    module = cst.parse_module(code)
    resolver = NameResolver.for_loops(module)
    calls = {module.code_for_node(n.func): n for n in walk(module) if isinstance(n, cst.Call)}
    # `sum` is the module's own function, not the builtin, although its body is skipped
    assert resolver.builtin_name(calls["sum"].func) is None
    assert resolver.builtin_name(calls["range"].func) == "range"
