"""The `loop-fusion` pass (GO2xx): fewer passes over memory.

GO201 — adjacent loops. Two `for` loops that follow each other in the same block
(hence at the same depth) become one loop whose body is the first body followed by
the second, so each element is loaded once while it is still in cache. Legal when
(`legality.fusion_blockers`, after Numba parfors' `try_fuse`):

- both are `for x in range(...)` without `else`, with the same normalised bounds
  (`range(n)` == `range(0, n, 1)`), and the first loop does not change a name used
  in the second loop's bounds; the second loop's variable is renamed to the first's
  only if it is not used anywhere else; neither body rebinds its loop variable
  (`i += 1`, an inner `for i in ...`: `rebound_loop_variable`);
- neither body has side effects or leaves early (`break`, `continue`, `return`,
  `raise`, `yield`, calls not known to be pure, attribute stores...);
- no scalar written by one loop is mentioned by the other (no use in the first loop
  of values the second defines, no partial values seen by the second), unless it is
  bound afresh in each iteration of both; a name bound by an inner `for` loop is not
  when it is read after that loop (an empty inner range leaves the other loop's value),
  and a name read after the loops must be bound unconditionally by the second loop;
- no fusion-preventing dependence: every array written by either loop and touched
  by both is accessed, in both loops, at one index component that is the same
  affine, injective function of the loop variable (`a[i]`, `a[i, j]`, `a[2*i+1, :]`),
  so iteration i of the second loop touches only what iteration i of the first
  loop wrote; `a[i] = ...` then `b[i] = a[i + 1]` is refused; and that component is
  provably never negative over the range (`wrap_around`): `a[i]` over `range(lo, n)`
  with `lo < 0` touches `a[-2]` and `a[n - 2]`, one element, in two iterations;
- arrays written by one loop are not used as whole arrays by the other; two
  different names that may be the same memory (two parameters) are either accessed
  at the same index or the opportunity is not statically safe (the rationale names
  the assumption and the validator decides). Two names are known to be different
  memory only when one is bound exactly once in the whole function, by a plain
  `x = np.<allocator>(...)` (no chained target, no `out=`, not `np.asarray` or
  `np.array(..., copy=False)`), and the other is such an array too or a parameter
  never rebound (`legality.BindingFacts`); names bound inside the loops count.
  Names that may be one array are checked as one array: all their accesses share
  one affine, injective index component and neither is read whole by the other
  loop (`legality.possible_alias_dependence`, `legality.whole_alias_reads`), else
  the pair is refused even for validation (the workload does not call `f(x, x)`);
- when a loop may raise part-way (`exceptions.loop_may_raise`: division, `assert`,
  calls, subscripts not provably in range, stores into non-float arrays...), the
  loops are not inside a `try`/`with`, at most one of them may raise, and what the
  other one writes is a private local (`exceptions.exception_blockers`). An element
  `y[i]` of an array of unproven rank may be a row, which raises where a number is
  needed (stored into an element, tested, `min`/`max`); that counts for the state left
  behind (not for which exception surfaces), except when the first loop stores the same
  parts into an element at every iteration: then it raised at its first iteration. Under
  the function's own `np.errstate(...="raise")`/`np.seterr`, arithmetic may raise too.

GO202 — temporaries chain. `t = a * x; u = np.exp(t); return np.log(u + 1.0)`-style
chains allocate one array per step; with in-place ufuncs (`u = np.exp(t, out=t)`)
they allocate one, and write each result into memory that is already in cache.
Legal when each temporary is the fresh result of an arithmetic operation or ufunc
(never a parameter or a view; `np.exp(a, b)` returns its output `b`), is bound once, and
is read exactly once, by the next statement of the chain, and when no step's operand can widen the buffer's dtype
within its kind (`_may_widen`): in `t = a * b; u = t + c`, a float64 `c` meeting a
float32 `t` gives a float64 result that `out=t` rounds silently, and the workload
shows only the dtypes it passes, so a step's other operand must be a number literal,
a direct operand of the chain's first operation (`t + a`), or an array of the
buffer's proven shape and dtype (any real operand when the buffer is a proven
float64 array). Statically safe only when
the shape and dtype of the in-place target provably do not change (operands are
arrays allocated in the function with the same shape text and dtype, or Python
number literals with a float array) and the target is an array of rank >= 1 (a 0-d
result is a NumPy scalar, which `out=` rejects); otherwise it is offered for
validation only (broadcasting or type promotion would make `out=` wrong, and the
validator's equality check would reject it). Equal shape texts prove equal shapes
only when every name in them has one value per call (a parameter never rebound, or
a local bound once by a top-level statement) and the text has no calls; the rank is
proven by a non-empty literal tuple, an integer expression (`n = len(x)`), or a
`np.linspace(<number>, <number>, num)` of the same shape. Arrays whose object may be
reached by other code (`c = a`, `g(a)`, `a.shape = ...`) prove nothing.

A chain, validated or static, never starts at a value that is a number, which has no
buffer (`out=` into a NumPy scalar always raises TypeError): literals (complex too),
`np.pi`/`math.pi`, names used as counts (`range(n)`, `np.arange(n)`, the `num` of
`np.linspace`) and never as arrays, ufuncs of numbers (`np.exp(-2j * np.pi / n)`),
whole-array reductions without an axis (`np.sum(x)`, `x.mean()`, `x.item()`), numpy
scalar types (`np.float64(...)`), an element of an array of proven rank (`a[0]` of a
1-D allocation), names bound once to any of these, and arithmetic of them.

A function that reads its own frame (`locals()`, `vars()`, `eval`, `exec`,
`sys._getframe`...) gets no GO202 chain (`locals()["t"]` reads the temporary after `out=`
reused it) and no GO201 pair that renames the second loop's variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from greenopt.optimizer.aliasing import reads_own_frame
from greenopt.optimizer.cst_nodes import int_literal, walk_statements
from greenopt.optimizer.numpy_names import OUT_POSITION, alias_for_rewrite, ensure_numpy_import
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Example, Opportunity, Pass, Site
from greenopt.passes.exceptions import ExceptionFacts, exception_blockers
from greenopt.passes.function_defs import FunctionInfo, Positions, iter_functions, positions
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import (
    PURE_METHODS,
    FastVisitor,
    FusionVerdict,
    Memory,
    Relation_fn,
    RenameName,
    array_relations,
    binding_sites,
    block_binding_sites,
    code_of,
    fusion_blockers,
    injective_dims,
    lazy_array_relations,
    names_in,
    names_outside,
    nonnegative_int_names,
    ordered_children,
    own_scope_statements,
    parameter_names,
    possible_alias_dependence,
    range_args,
    scan_loop_body,
    top_level_statements,
    whole_alias_reads,
)

#: binary operators with an in-place ufunc spelling
UFUNC_OF_OPERATOR: dict[type[cst.BaseBinaryOp], str] = {
    cst.Add: "add",
    cst.Subtract: "subtract",
    cst.Multiply: "multiply",
    cst.Divide: "divide",
    cst.Power: "power",
}
#: numpy ufuncs whose float result has the dtype of their float inputs (usable with out=)
FLOAT_UFUNCS = frozenset(
    {"absolute", "fabs", "negative", "sqrt", "cbrt", "square", "exp", "exp2", "expm1", "log",
     "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
     "sinh", "cosh", "tanh", "hypot", "floor", "ceil", "trunc", "rint", "minimum", "maximum",
     "fmin", "fmax", "add", "subtract", "multiply", "divide", "true_divide", "power",
     "reciprocal"}
)  # fmt: skip
_ALLOCATORS = frozenset({"zeros", "ones", "empty", "full"})


def _blocks(node: cst.CSTNode) -> list[cst.IndentedBlock]:
    """Every indented block of a function (its body, loop and if bodies), not nested defs."""
    return [
        n  # type: ignore[misc]
        for n in walk_statements(node, into_scopes=False)
        if type(n) is cst.IndentedBlock
    ]


@dataclass(frozen=True)
class _PairChoice:
    """A chosen GO201 pair: the renaming of the second loop's variable, and the
    pairs of names whose memory the pair's legality assumed not to overlap."""

    rename: tuple[str, str] | None
    assumes_no_overlap: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class _Step:
    """One consumer of a temporaries chain: statement `stmt` uses `temp` once."""

    stmt: cst.SimpleStatementLine
    temp: str


class LoopFusionPass(Pass):
    """Loop fusion and in-place temporaries chains (see the module docstring)."""

    name = "loop-fusion"
    codes = {
        "GO201": "adjacent loops over the same range can be fused into one pass over memory",
        "GO202": "chain of array temporaries can reuse one buffer with in-place ufuncs (out=)",
    }

    EXAMPLES = (
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def f(a, b):\n"
                "    n = len(a)\n"
                "    c = np.empty(n)\n"
                "    d = np.empty(n)\n"
                "    for i in range(n):\n"
                "        c[i] = a[i] * 2.0\n"
                "    # second sweep\n"
                "    for j in range(0, n):\n"
                "        d[j] = c[j] + b[j]  # uses c\n"
                "    return d\n"
            ),
            after=(
                "import numpy as np\n\n\n"
                "def f(a, b):\n"
                "    n = len(a)\n"
                "    c = np.empty(n)\n"
                "    d = np.empty(n)\n"
                "    for i in range(n):\n"
                "        c[i] = a[i] * 2.0\n"
                "        # second sweep\n"
                "        d[i] = c[i] + b[i]  # uses c\n"
                "    return d\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def softplus(x, a):\n"
                "    t = a * x\n"
                "    u = np.exp(t)\n"
                "    v = u + 1.0\n"
                "    return np.log(v)\n"
            ),
            after=(
                "import numpy as np\n\n\n"
                "def softplus(x, a):\n"
                "    t = a * x\n"
                "    u = np.exp(t, out=t)\n"
                "    v = np.add(u, 1.0, out=u)\n"
                "    return np.log(v, out=v)\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def energy(n):\n"
                "    x = np.linspace(0.0, 1.0, n)\n"
                "    y = np.linspace(1.0, 2.0, n)\n"
                "    s = 0.0\n"
                "    for i in range(n):\n"
                "        x[i] = x[i] * x[i]\n"
                "    for i in range(n):\n"
                "        s += x[i] * y[i]\n"
                "    return s\n"
            ),
            after=(
                "import numpy as np\n\n\n"
                "def energy(n):\n"
                "    x = np.linspace(0.0, 1.0, n)\n"
                "    y = np.linspace(1.0, 2.0, n)\n"
                "    s = 0.0\n"
                "    for i in range(n):\n"
                "        x[i] = x[i] * x[i]\n"
                "        s += x[i] * y[i]\n"
                "    return s\n"
            ),
        ),
    )
    UNCHANGED = (
        # fusion-preventing dependence: iteration i of the second loop reads a[i + 1]
        "def f(a, b, n):\n    for i in range(n - 1):\n        a[i] = a[i] * 2\n"
        "    for i in range(n - 1):\n        b[i] = a[i + 1]\n",
        # different bounds
        "def f(a, b, n):\n    for i in range(n):\n        a[i] = 1.0\n"
        "    for i in range(n - 1):\n        b[i] = a[i]\n",
        # side effect in a body
        "def f(a, b, n):\n    for i in range(n):\n        a[i] = 1.0\n"
        "    for i in range(n):\n        print(a[i])\n",
        # the second loop needs the first loop's finished reduction
        "def f(a, b, n):\n    s = 0.0\n    for i in range(n):\n        s += a[i]\n"
        "    for i in range(n):\n        b[i] = a[i] / s\n",
        # early exit
        "def f(a, b, n):\n    for i in range(n):\n        if a[i] < 0:\n            break\n"
        "        a[i] = 1.0\n    for i in range(n):\n        b[i] = a[i]\n",
        # the temporary is a parameter (the caller's array), not fresh
        "import numpy as np\n\n\ndef f(a, c):\n    u = a + c\n    v = u * 2.0\n    return v, u\n",
        # the temporary is a view
        "import numpy as np\n\n\ndef f(a, c):\n    t = a[1:]\n    u = t + c\n    return u\n",
        # c may be float64 where t is float32: out=t would round t + c silently
        "import numpy as np\n\n\ndef f(a, b, c):\n    t = a * b\n    return t + c\n",
    )

    # --- find --------------------------------------------------------------------------------

    def find(self, module: SourceModule) -> list[Opportunity]:
        """GO201 fusable loop pairs and GO202 temporaries chains."""
        tree = module.tree
        imports = ImportedNames.of(tree)
        where = positions(module)
        functions = iter_functions(tree)
        # a frozenset: `scan_loop_body` takes it as is (a set was copied for each loop)
        local_functions = frozenset(f.qualname for f in functions if f.top_level)
        path = module.path or "<string>"
        found: list[Opportunity] = []
        module_names = _ModuleNames(tree)
        for info in functions:
            relation = lazy_array_relations(tree, info.node, info.qualname, imports)
            exceptions: ExceptionFacts | None = None  # computed for the first legal pair
            blocks = _blocks(info.node)
            # `locals()["t"]`, `eval("j")`: names read without a Name node, which neither
            # a chain's load count nor a loop variable's renaming can see
            frame_read: list[bool] = []  # computed on first need (one more walk)

            def reads_frame(
                node: cst.FunctionDef = info.node, known: list[bool] = frame_read
            ) -> bool:
                if not known:
                    # a temporary read once in the text may be read again
                    # (`locals()["t"]` after `out=t` reused its buffer), and a renamed
                    # loop variable may still be looked up (`locals().get("j")`)
                    known.append(reads_own_frame(node))
                return known[0]

            for block in blocks:
                statements = list(block.body)
                for k in range(len(statements) - 1):
                    first, second = statements[k], statements[k + 1]
                    if not (isinstance(first, cst.For) and isinstance(second, cst.For)):
                        continue
                    verdict = fusion_blockers(
                        first,
                        second,
                        imports,
                        relation,
                        names_outside(info.node, [first, second]),
                        local_functions,
                    )
                    if verdict.reason is not None or (verdict.rename and reads_frame()):
                        continue
                    if exceptions is None:
                        exceptions = ExceptionFacts.of(info.node, imports)
                        nonneg = nonnegative_int_names(info.node)
                    if (
                        _extra_blockers(
                            first, second, first, verdict, imports, relation, exceptions,
                            local_functions, nonneg,
                        )
                        is not None
                    ):  # fmt: skip
                        continue
                    start, end = where[first], where[second]
                    site = Site(
                        path,
                        start.start.line,
                        start.start.column,
                        end.end.line,
                        end.end.column,
                        info.qualname,
                    )
                    note = ""
                    if verdict.assumes_no_overlap:
                        note = "; assumes " + ", ".join(
                            f"`{a}` and `{b}` do not overlap" for a, b in verdict.assumes_no_overlap
                        )
                    found.append(
                        Opportunity(
                            self.name,
                            "GO201",
                            f"fuse the loops at lines {start.start.line} and "
                            f"{end.start.line}: one pass over memory instead of two",
                            "same bounds, no fusion-preventing dependence, no side effects" + note,
                            site,
                            fixable=True,
                            static_safe=not verdict.assumes_no_overlap,
                            data={
                                "kind": "loops",
                                "function": info.qualname,
                                "first": (start.start.line, start.start.column),
                                "second": (end.start.line, end.start.column),
                                "rename": list(verdict.rename) if verdict.rename else None,
                                "assumes_no_overlap": [
                                    list(pair) for pair in verdict.assumes_no_overlap
                                ],
                            },
                        )
                    )
            chains = self._chains(module, info, imports, where, path, module_names, blocks)
            if chains and not reads_frame():
                found.extend(chains)
        return sorted(found, key=lambda o: (o.site.line, o.site.col, o.code))

    def _chains(
        self,
        module: SourceModule,
        info: FunctionInfo,
        imports: ImportedNames,
        where: Positions,
        path: str,
        module_names: _ModuleNames,
        blocks: list[cst.IndentedBlock],
    ) -> list[Opportunity]:
        """GO202: statement chains `t = <fresh>; u = op(t, x); ...` in one block.

        `blocks`: the function's `_blocks`. Binding sites and load counts (two walks of
        the function) are collected for the first statement that could start a chain:
        most functions have none.
        """
        facts: list[tuple[dict[str, list[cst.CSTNode]], dict[str, int]]] = []

        def sites_and_loads() -> tuple[dict[str, list[cst.CSTNode]], dict[str, int]]:
            if not facts:
                facts.append((binding_sites(info.node), _load_counts(info.node)))
            return facts[0]

        # (scalar names, array evidence, proven ranks)
        kinds: list[tuple[set[str], set[str], dict[str, int]]] = []

        def scalars_and_arrays() -> tuple[set[str], set[str], dict[str, int]]:
            if not kinds:
                sites = sites_and_loads()[0]
                arrays = _array_evidence(info.node) | set(known())
                scalars, ranks = _scalar_names(info.node, sites, arrays, imports)
                kinds.append((scalars, arrays, ranks))
            return kinds[0]

        known_arrays: list[dict[str, _ArrayInfo]] = []  # computed for the first candidate

        def known() -> dict[str, _ArrayInfo]:
            if not known_arrays:
                known_arrays.append(
                    _known_arrays(module.tree, info.node, imports, module_names.names())
                )
            return known_arrays[0]

        ints_found: list[set[str]] = []

        def int_names() -> set[str]:
            if not ints_found:
                ints_found.append(_int_array_names(info.node, sites_and_loads()[0], imports))
            return ints_found[0]

        found: list[Opportunity] = []
        for block in blocks:
            statements = list(block.body)
            k = 0
            while k < len(statements) - 1:
                temp = _fresh_temp(statements[k], imports)
                if temp is None:
                    k += 1
                    continue
                sites, loads = sites_and_loads()
                if len(sites.get(temp, ())) != 1 or loads.get(temp, 0) != 1:
                    k += 1
                    continue
                scalars, arrays, ranks = scalars_and_arrays()
                start_value = _single_assign(statements[k])[1]  # type: ignore[index]
                if temp in scalars or _scalar_start(start_value, scalars, arrays, imports, ranks):
                    k += 1  # a number has no buffer to reuse
                    continue
                steps: list[_Step] = []
                proven = known().get(temp) is not None
                current = temp
                # an integer buffer cannot take a true division or a float result with
                # out= (it raises), a float32 one would silently round a float64 result
                int_chain = _int_array(start_value, int_names(), imports)
                # names whose dtype and shape the buffer's already include
                start_names = {
                    o.value for o in _operands(start_value, imports) if isinstance(o, cst.Name)
                }
                j = k + 1
                while j < len(statements):
                    step = _consumer(statements[j], current, imports)
                    if step is None:
                        break
                    expr, target = step
                    if int_chain and not _stays_int(expr, current, int_names(), imports):
                        break
                    if _may_widen(expr, current, start_names, known(), imports):
                        break
                    kept = _keeps_shape_dtype(expr, current, known())
                    proven = proven and kept is not None
                    steps.append(_Step(statements[j], current))  # type: ignore[arg-type]
                    if (
                        target is None
                        or len(sites.get(target, ())) != 1
                        or loads.get(target, 0) != 1
                    ):
                        break
                    if kept is not None:
                        known()[target] = kept  # the step's result lives in the same buffer
                    current = target
                    j += 1
                if not steps:
                    k += 1
                    continue
                first = where[statements[k]]
                last = where[steps[-1].stmt]
                site = Site(
                    path,
                    first.start.line,
                    first.start.column,
                    last.end.line,
                    last.end.column,
                    info.qualname,
                )
                found.append(
                    Opportunity(
                        self.name,
                        "GO202",
                        f"reuse the buffer of `{temp}` for {len(steps)} more array "
                        f"operation(s) with out=: {len(steps)} fewer temporaries",
                        "each temporary is a fresh array read exactly once by the next step"
                        + (
                            ""
                            if proven
                            else "; shapes/dtypes not provable statically, needs validation"
                        ),
                        site,
                        fixable=True,
                        static_safe=proven,
                        data={
                            "kind": "chain",
                            "function": info.qualname,
                            "steps": [
                                [where[s.stmt].start.line, where[s.stmt].start.column, s.temp]
                                for s in steps
                            ],
                        },
                    )
                )
                k += len(steps) + 1
        return found

    # --- apply ------------------------------------------------------------------------------

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        """Fuse the chosen loop pairs (chains of pairs merge into one loop) and rewrite
        the chosen temporaries chains in place."""
        mine = [o for o in opportunities if o.pass_name == self.name and o.fixable]
        if not mine:
            return module
        where = positions(module)
        fuse_at: dict[tuple[int, int], _PairChoice] = {}
        chain_steps: dict[tuple[int, int], str] = {}
        for opp in mine:
            if opp.data.get("kind") == "loops":
                rename = opp.data.get("rename")
                line, col = opp.data["first"]
                fuse_at[(line, col)] = _PairChoice(
                    (rename[0], rename[1]) if rename else None,
                    frozenset((a, b) for a, b in opp.data.get("assumes_no_overlap") or ()),
                )
            elif opp.data.get("kind") == "chain":
                for line, col, temp in opp.data["steps"]:
                    chain_steps[(line, col)] = temp
        tree = module.tree
        alias = alias_for_rewrite(tree) or "np"
        transformer = _Rewrite(module, where, fuse_at, chain_steps, alias)
        new_tree = tree.visit(transformer)
        if not transformer.changed:
            return module
        if chain_steps and transformer.used_numpy:
            new_tree = ensure_numpy_import(new_tree, alias)
        return module.with_tree(new_tree)


def _extra_blockers(
    first: cst.For,
    second: cst.For,
    anchor: cst.CSTNode,
    verdict: FusionVerdict,
    imports: ImportedNames,
    relation: Relation_fn,
    exceptions: ExceptionFacts,
    local_functions: frozenset[str],
    nonneg: frozenset[str],
) -> str | None:
    """What `fusion_blockers` does not check: state left behind by an exception raised
    part-way (`exceptions.exception_blockers`), and names that may be one array accessed at
    different indices or read whole (`legality.possible_alias_dependence`,
    `legality.whole_alias_reads`): those would change results when the caller passes one
    array twice (`f(x, x)`), which the validator's workload does not show."""
    return (
        rebound_loop_variable(first, second)
        or exception_blockers(first, second, anchor, imports, exceptions)
        or possible_alias_dependence(first, second, verdict, imports, local_functions)
        or whole_alias_reads(first, second, relation, imports, local_functions)
        or wrap_around(first, second, relation, imports, local_functions, nonneg)
    )


def rebound_loop_variable(first: cst.For, second: cst.For) -> str | None:
    """Why a loop's body rebinds its own loop variable (`i = i + 1`, `i += 1`, an inner
    `for i in ...`, `(i := ...)`), or None: fused, the first body's new value would reach
    the second body, and the indices the dependence test reads as `i` are not."""
    for loop in (first, second):
        if not isinstance(loop.target, cst.Name):
            return "not a loop over a plain name"
        block = cst.IndentedBlock(body=_as_lines(loop.body))
        if loop.target.value in block_binding_sites(block):
            return f"the loop body rebinds its loop variable `{loop.target.value}`"
    return None


def wrap_around(
    first: cst.For,
    second: cst.For,
    relation: Relation_fn,
    imports: ImportedNames,
    local_functions: frozenset[str],
    nonneg: frozenset[str],
) -> str | None:
    """Why an array both loops touch may be indexed at one element by two iterations, or None.

    `a[i]` over `range(lo, n)` with `lo < 0` visits `a[-2]` and then `a[n - 2]`, the same
    element: an affine index is injective in memory only while it never takes both a
    negative and a non-negative value. Every array written by either loop and touched (it
    or a name that may be the same memory) by the other needs an injective index
    component that is provably never negative over the loop's range (`nonneg`: names
    bound once to a non-negative int, `legality.nonnegative_int_names`)."""
    bounds = range_args(first)
    if bounds is None or not isinstance(first.target, cst.Name):
        return "not a `range` loop"
    var = first.target.value
    if isinstance(second.target, cst.Name) and second.target.value != var:
        renamed = second.visit(RenameName(second.target.value, var))
        assert isinstance(renamed, cst.For)
        second = renamed
    s1 = scan_loop_body(first.body, imports, local_functions)
    s2 = scan_loop_body(second.body, imports, local_functions)
    variant = (s1.bound | s2.bound) - {var}
    names1 = {a.array for a in s1.accesses}
    names2 = {a.array for a in s2.accesses}
    for array in sorted(s1.arrays_written() | s2.arrays_written()):
        group = {
            other
            for other in names1 | names2
            if other == array or relation(array, other) is not Memory.DISJOINT
        }
        if not (group & names1 and group & names2):
            continue  # only one loop touches that memory
        accesses = [a for a in s1.accesses + s2.accesses if a.array in group]
        if not any(
            accesses[0].exprs[d] is not None
            and _never_negative(accesses[0].exprs[d], var, bounds, nonneg)  # type: ignore[arg-type]
            for d in injective_dims(accesses, var, variant)
        ):
            return (
                f"`{array}` is indexed by an expression that may be negative: two iterations "
                "may touch one element (a negative index wraps around)"
            )
    return None


def _never_negative(
    index: cst.BaseExpression, var: str, bounds: tuple[str, str, str], nonneg: frozenset[str]
) -> bool:
    """True if the affine `index` is >= 0 for every `var` in `range(*bounds)`: its value
    at the smallest `var` (coefficient > 0) or at the largest (coefficient < 0) is a sum of
    non-negative terms (`var` >= `start` and < `stop` for a positive step, <= `start` and
    > `stop` for a negative one)."""
    try:
        start, stop, step = (cst.parse_expression(text) for text in bounds)
    except Exception:  # noqa: BLE001 - not an expression: nothing proven
        return False
    step_value = int_literal(step)
    form, first, last = _linear(index), _linear(start), _linear(stop)
    if not step_value or form is None or first is None or last is None:
        return False
    coefficient = form.pop(var, 0)
    if coefficient == 0 or var in first or var in last:
        return False
    beyond = {**last, "": last.get("", 0) + (1 if step_value < 0 else -1)}
    lowest, highest = (first, beyond) if step_value > 0 else (beyond, first)
    extreme = lowest if coefficient > 0 else highest
    for atom, times in extreme.items():
        form[atom] = form.get(atom, 0) + coefficient * times
    if form.get("", 0) < 0:
        return False
    return all(
        times >= 0 and (atom in nonneg or _nonnegative_atom(atom))
        for atom, times in form.items()
        if atom and times
    )


def _linear(expr: cst.BaseExpression) -> dict[str, int] | None:
    """`expr` as {atom text: integer coefficient} ("" for the constant) when it is a sum of
    integer multiples of names, `len(...)`, `x.shape[k]`, `x.size` and integer literals."""
    value = int_literal(expr)
    if value is not None:
        return {"": value}
    if isinstance(expr, cst.Name) or _nonnegative_atom(code_of(expr)):
        return {code_of(expr): 1}
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = _linear(expr.expression)
        return None if inner is None else {k: -v for k, v in inner.items()}
    if not isinstance(expr, cst.BinaryOperation):
        return None
    left, right = _linear(expr.left), _linear(expr.right)
    if left is None or right is None:
        return None
    if isinstance(expr.operator, (cst.Add, cst.Subtract)):
        sign = 1 if isinstance(expr.operator, cst.Add) else -1
        total = dict(left)
        for atom, times in right.items():
            total[atom] = total.get(atom, 0) + sign * times
        return total
    if isinstance(expr.operator, cst.Multiply):
        for factor, other in ((left, right), (right, left)):
            if set(factor) <= {""}:
                return {atom: factor.get("", 0) * times for atom, times in other.items()}
    return None


def _nonnegative_atom(text: str) -> bool:
    """`len(x)`, `x.shape[k]`, `x.size`: never negative."""
    try:
        expr = cst.parse_expression(text)
    except Exception:  # noqa: BLE001 - not an expression
        return False
    if isinstance(expr, cst.Call):
        return (
            isinstance(expr.func, cst.Name)
            and expr.func.value == "len"
            and len(expr.args) == 1
            and not expr.args[0].star
            and expr.args[0].keyword is None
        )
    if isinstance(expr, cst.Attribute):
        return expr.attr.value == "size" and isinstance(expr.value, cst.Name)
    return (
        isinstance(expr, cst.Subscript)
        and isinstance(expr.value, cst.Attribute)
        and expr.value.attr.value == "shape"
        and isinstance(expr.value.value, cst.Name)
        and len(expr.slice) == 1
        and isinstance(expr.slice[0].slice, cst.Index)
        and int_literal(expr.slice[0].slice.value) is not None
    )


# --- chains -----------------------------------------------------------------------------------


def _load_counts(func: cst.FunctionDef) -> dict[str, int]:
    """How many times each name is read in `func` (attribute names and keywords excluded)."""
    counts: dict[str, int] = {}

    class Count(FastVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            counts[node.value] = counts.get(node.value, 0) + 1

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            self.visit(node.value)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            self.visit(node.value)
            return False

        def visit_Param(self, node: cst.Param) -> bool:
            return False

        def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
            if not isinstance(node.target, cst.Name):
                self.visit(node.target)
            return False

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            if node is not func:
                for name in names_in(node.body):
                    counts[name] = counts.get(name, 0) + 2  # a closure: never a temporary
                return False
            return True

    Count().visit(func.body)
    return counts


def _single_assign(stmt: cst.CSTNode) -> tuple[str, cst.BaseExpression] | None:
    """(name, value) of `name = value`, or None."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    small = stmt.body[0]
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
    ):
        return small.targets[0].target.value, small.value
    return None


def _ufunc_call(expr: cst.BaseExpression, imports: ImportedNames) -> str | None:
    """The ufunc name of `np.<ufunc>(args)` with positional arguments only, or None."""
    if not isinstance(expr, cst.Call):
        return None
    qualified = imports.qualify(expr.func)
    if qualified is None or not qualified.startswith("numpy."):
        return None
    name = qualified[len("numpy.") :]
    if name not in FLOAT_UFUNCS or not expr.args or len(expr.args) > _ufunc_inputs(name):
        return None  # `np.exp(a, b)`: `b` is the output (the result is `b`, not fresh)
    if any(arg.keyword is not None or arg.star for arg in expr.args):
        return None
    return name


def _ufunc_inputs(name: str) -> int:
    """How many inputs the numpy ufunc `name` takes: positional arguments past them are
    outputs (`np.exp(a, b)` writes `b` and returns it)."""
    return OUT_POSITION.get(name, 1)


def _element_access(expr: cst.CSTNode) -> bool:
    """True if `expr` reads a single element (`u[i, j]`): then it computes a scalar."""
    found = False

    class Look(FastVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            nonlocal found
            if not any(isinstance(e.slice, cst.Slice) for e in node.slice):
                found = True

    Look().visit(expr)
    return found


def _fresh_temp(stmt: cst.CSTNode, imports: ImportedNames) -> str | None:
    """`t` for `t = <binary arithmetic>` or `t = np.<ufunc>(...)`: a new array (or scalar).

    Expressions that read single elements (`u[i, j] + ...`) compute scalars, which
    have no buffer to reuse: they never start a chain.
    """
    assigned = _single_assign(stmt)
    if assigned is None or _element_access(assigned[1]):
        return None
    name, value = assigned
    if isinstance(value, cst.BinaryOperation) and type(value.operator) in UFUNC_OF_OPERATOR:
        return name
    if _ufunc_call(value, imports) is not None:
        return name
    return None


#: builtins whose result is a number (they raise, or iterate, on an array)
_SCALAR_BUILTINS = frozenset({"len", "int", "float", "min", "max"})
#: numpy scalar types: `np.float64(3.0)` is a number, which `out=` rejects
_NUMPY_SCALAR_TYPES = frozenset(
    {"float64", "float32", "float16", "double", "single", "half", "longdouble",
     "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "intp",
     "complex128", "complex64", "bool_"}
)  # fmt: skip
#: array attributes that are numbers
_SCALAR_ATTRIBUTES = frozenset({"size", "ndim", "itemsize", "nbytes"})
#: attributes that only arrays have: evidence that a name holds one
_ARRAY_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype", "T", "flat", "strides"})


def _is_scalar(
    expr: cst.BaseExpression,
    scalars: set[str],
    imports: ImportedNames,
    ranks: dict[str, int] | None = None,
) -> bool:
    """True if `expr` evaluates to a number, never an array (taking an array for a
    number only costs a GO202 finding): numeric literals (complex too), numpy/math
    constants (`np.pi`), names bound once to such a value, `len(...)`, `int(...)`,
    `x.size`, `x.shape[k]`, `math.*(...)`, numpy scalar types (`np.float64(...)`),
    ufuncs of numbers (`np.exp(-2j * np.pi / n)`), whole-array reductions without an
    axis (`np.sum(x)`, `x.mean()`, `x.item()`), an element of an array of proven rank
    (`a[0]` of a 1-D `ranks` entry), and arithmetic of these."""

    def scalar(e: cst.BaseExpression) -> bool:
        return _is_scalar(e, scalars, imports, ranks)

    if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(expr, cst.Name):
        return expr.value in scalars
    if isinstance(expr, cst.Attribute):
        qualified = imports.qualify(expr)
        if qualified is not None:
            module, _, attr = qualified.rpartition(".")
            return (module == "numpy" and attr in _NUMPY_CONSTANTS) or (
                module in ("math", "cmath") and attr in _MATH_CONSTANTS
            )
        return expr.attr.value in _SCALAR_ATTRIBUTES
    if isinstance(expr, cst.Subscript):
        if isinstance(expr.value, cst.Attribute) and expr.value.attr.value == "shape":
            return True
        return _element_of_ranked(expr, scalar, ranks or {})
    if isinstance(expr, cst.Call):
        if isinstance(expr.func, cst.Name):
            return expr.func.value in _SCALAR_BUILTINS
        if any(arg.star for arg in expr.args):
            return False
        qualified = imports.qualify(expr.func)
        if qualified is not None and qualified.startswith("numpy."):
            name = qualified[len("numpy.") :]
            if name in _NUMPY_SCALAR_TYPES:
                return True  # `np.float64(3.0)`: a number (even `np.float64(x)` is
                # not a buffer `out=` may reuse)
            if name in FLOAT_UFUNCS or name in _SCALAR_UFUNCS:
                return all(arg.keyword is None and scalar(arg.value) for arg in expr.args)
            return _whole_reduction(name, expr.args, numpy_function=True)
        if qualified is not None:
            return qualified.startswith(("math.", "cmath."))
        if isinstance(expr.func, cst.Attribute):
            return _whole_reduction(expr.func.attr.value, expr.args, numpy_function=False)
        return False
    if isinstance(expr, cst.UnaryOperation):
        return scalar(expr.expression)
    if isinstance(expr, cst.BinaryOperation):
        return scalar(expr.left) and scalar(expr.right)
    return False


#: numpy constants that are numbers
_NUMPY_CONSTANTS = frozenset({"pi", "e", "inf", "nan", "euler_gamma"})
#: math/cmath constants
_MATH_CONSTANTS = frozenset({"pi", "e", "tau", "inf", "nan", "infj", "nanj"})
#: numpy ufuncs beyond FLOAT_UFUNCS whose result for numbers is a number
_SCALAR_UFUNCS = frozenset({"sign", "conj", "conjugate", "real", "imag", "angle", "mod",
                            "fmod", "remainder", "floor_divide", "float_power", "arccosh",
                            "arcsinh", "arctanh", "deg2rad", "rad2deg", "radians", "degrees",
                            "copysign", "isnan", "isinf", "isfinite"})  # fmt: skip
#: reductions that give one number for a whole array when no axis is given
_REDUCTIONS = frozenset(
    {"sum", "mean", "prod", "std", "var", "max", "min", "amax", "amin", "median", "average",
     "ptp", "nansum", "nanmean", "nanprod", "nanstd", "nanvar", "nanmax", "nanmin",
     "nanmedian", "argmax", "argmin", "count_nonzero", "any", "all", "vdot", "linalg.norm"}
)  # fmt: skip
#: array methods that reduce the whole array to one number when called without an axis
_METHOD_REDUCTIONS = frozenset(
    {"sum", "mean", "prod", "std", "var", "max", "min", "ptp", "argmax", "argmin", "any",
     "all"}
)  # fmt: skip
#: keywords that keep a whole-array reduction a number (`axis=`, `keepdims=`, `out=` do not)
_REDUCTION_KEYWORDS = frozenset({"dtype", "ddof", "initial", "where", "weights"})


def _whole_reduction(name: str, args: Sequence[cst.Arg], *, numpy_function: bool) -> bool:
    """True for `np.sum(x)` / `x.sum()`-style reductions over the whole array (no axis,
    positional or keyword), and `x.item()`: they return a number."""
    if not numpy_function and name == "item":
        return True
    if name not in (_REDUCTIONS if numpy_function else _METHOD_REDUCTIONS):
        return False
    positional = [a for a in args if a.keyword is None]
    allowed = 2 if name == "vdot" else 1 if numpy_function else 0
    if len(positional) != allowed:
        return False
    return all(a.keyword.value in _REDUCTION_KEYWORDS for a in args if a.keyword is not None)


def _element_of_ranked(
    expr: cst.Subscript, scalar: Callable[[cst.BaseExpression], bool], ranks: dict[str, int]
) -> bool:
    """`a[k]` / `a[k, m]`: an element when `a` has proven rank equal to the number of
    indices and every index is a number (no slice, `None`, `...` or index array)."""
    if not isinstance(expr.value, cst.Name) or expr.value.value not in ranks:
        return False
    elements = list(expr.slice)
    if len(elements) != ranks[expr.value.value]:
        return False
    return all(
        isinstance(e.slice, cst.Index) and e.slice.star is None and scalar(e.slice.value)
        for e in elements
    )


def _scalar_names(
    func: cst.FunctionDef,
    sites: dict[str, list[cst.CSTNode]],
    arrays: set[str],
    imports: ImportedNames,
) -> tuple[set[str], dict[str, int]]:
    """(names bound once in `func` to a number, names bound once to an array of proven
    rank -> rank).

    Numbers: a scalar expression (`_is_scalar`), arithmetic that `_scalar_start` takes
    for one (`duration = n / fs`, `rate = d / duration`), and names used as counts
    (`range(n)`, `np.arange(n)`, the `num` of `np.linspace`) and never as arrays.
    Ranks: `np.arange(...)`, `np.linspace(<number>, <number>, ...)` and allocations
    `np.zeros/ones/empty/full(shape)` with a number or a literal tuple as shape.
    Taking an array for a number here only costs a GO202 finding, never a wrong rewrite.
    """
    values: dict[str, cst.BaseExpression] = {}
    for small in own_scope_statements(func):
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            name = small.targets[0].target.value
            if len(sites.get(name, ())) == 1:
                values[name] = small.value
    scalars = {
        name
        for name in _count_names(func, imports)
        if len(sites.get(name, ())) == 1 and name not in arrays
    }
    ranks: dict[str, int] = {}
    changed = True
    while changed:  # `n = len(x); m = n // 2`: follow the chain of definitions
        changed = False
        for name, value in values.items():
            if name not in scalars and (
                _is_scalar(value, scalars, imports, ranks)
                or _scalar_start(value, scalars, arrays, imports, ranks)
            ):
                scalars.add(name)
                changed = True
            if name not in ranks:
                rank = _allocation_rank(value, scalars, imports, ranks)
                if rank is not None:
                    ranks[name] = rank
                    changed = True
    return scalars, ranks


def _count_names(func: cst.FunctionDef, imports: ImportedNames) -> set[str]:
    """Names used as counts or bounds: arguments of `range(...)` and `np.arange(...)`,
    the `num` of `np.linspace(start, stop, num)` (each raises for an array of rank >= 1)."""
    found: set[str] = set()

    def add(args: Sequence[cst.Arg]) -> None:
        found.update(a.value.value for a in args if isinstance(a.value, cst.Name))

    class Look(FastVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if any(a.star for a in node.args):
                return
            if isinstance(node.func, cst.Name) and node.func.value == "range":
                add(node.args)
                return
            qualified = imports.qualify(node.func)
            if qualified == "numpy.arange":
                add([a for a in node.args if a.keyword is None])
            elif qualified == "numpy.linspace":
                add([a for a in node.args[2:3] if a.keyword is None])
                add([a for a in node.args if a.keyword is not None and a.keyword.value == "num"])

    Look().visit(func)
    return found


def _allocation_rank(
    value: cst.BaseExpression, scalars: set[str], imports: ImportedNames, ranks: dict[str, int]
) -> int | None:
    """The rank of the array `value` allocates, when the call proves it (else None)."""
    if not isinstance(value, cst.Call) or any(a.star for a in value.args):
        return None
    qualified = imports.qualify(value.func)
    positional = [a.value for a in value.args if a.keyword is None]
    if qualified == "numpy.arange":
        return 1
    if qualified == "numpy.linspace" and len(positional) >= 2:
        bounds_are_numbers = all(_is_scalar(p, scalars, imports, ranks) for p in positional[:2])
        return 1 if bounds_are_numbers else None
    if qualified in ("numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full") and positional:
        shape = positional[0]
        if isinstance(shape, (cst.Tuple, cst.List)):
            elements = list(shape.elements)
            if elements and all(not isinstance(e, cst.StarredElement) for e in elements):
                return len(elements)
            return None
        return 1 if _is_scalar(shape, scalars, imports, ranks) else None
    return None


def _array_evidence(func: cst.FunctionDef) -> set[str]:
    """Names `func` uses the way only arrays (or sequences) are used: subscripted,
    given to `len()`, or read through an array attribute (`x.shape`)."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            if isinstance(node.value, cst.Name):
                found.add(node.value.value)

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Name) and node.attr.value in _ARRAY_ATTRIBUTES:
                found.add(node.value.value)

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "len" and node.args:
                arg = node.args[0].value
                if isinstance(arg, cst.Name):
                    found.add(arg.value)

    Look().visit(func)
    return found


def _operands(expr: cst.BaseExpression, imports: ImportedNames) -> list[cst.BaseExpression]:
    """The direct operands of a binary operation or of a ufunc call."""
    if isinstance(expr, cst.BinaryOperation):
        return [expr.left, expr.right]
    if _ufunc_call(expr, imports) is not None:
        return [arg.value for arg in expr.args]  # type: ignore[union-attr]
    return []


def _scalar_start(
    value: cst.BaseExpression,
    scalars: set[str],
    arrays: set[str],
    imports: ImportedNames,
    ranks: dict[str, int] | None = None,
) -> bool:
    """True if a would-be chain start computes a number, not a fresh array: all its
    operands are scalars, or one is a named scalar (`n = len(x)`) and none is known
    to hold an array (`duration = n / fs` with `fs` never used as an array)."""
    operands = _operands(value, imports)
    if not operands:
        return False
    if all(_is_scalar(o, scalars, imports, ranks) for o in operands):
        return True
    named_scalar = any(isinstance(o, cst.Name) and o.value in scalars for o in operands)
    array_operand = any(names_in(o) & arrays for o in operands)
    return named_scalar and not array_operand


def _operation(expr: cst.BaseExpression, temp: str, imports: ImportedNames) -> bool:
    """True if `expr` is one elementwise operation with `temp` as a direct operand."""
    if isinstance(expr, cst.BinaryOperation) and type(expr.operator) not in UFUNC_OF_OPERATOR:
        return False
    operands = _operands(expr, imports)
    direct = [o for o in operands if isinstance(o, cst.Name) and o.value == temp]
    return len(direct) == 1


def _consumer(
    stmt: cst.CSTNode, temp: str, imports: ImportedNames
) -> tuple[cst.BaseExpression, str | None] | None:
    """(operation, name it is bound to or None for `return`) if `stmt` consumes `temp`."""
    assigned = _single_assign(stmt)
    if assigned is not None:
        name, value = assigned
        if name != temp and not _element_access(value) and _operation(value, temp, imports):
            return value, name
        return None
    if (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Return)
        and stmt.body[0].value is not None
        and not _element_access(stmt.body[0].value)
        and _operation(stmt.body[0].value, temp, imports)
    ):
        return stmt.body[0].value, None
    return None


#: dtype spellings of integer arrays
_INT_DTYPES = frozenset(
    {"int", "int8", "int16", "int32", "int64", "intp", "uint8", "uint16", "uint32", "uint64",
     "uint", "intc", "uintp", "bool", "bool_"}
)  # fmt: skip
#: ufuncs whose result is an integer array for integer operands
_INT_UFUNCS = frozenset({"add", "subtract", "multiply", "absolute", "negative", "square",
                         "minimum", "maximum"})  # fmt: skip


def _int_dtype(expr: cst.BaseExpression | None, imports: ImportedNames) -> bool:
    if expr is None:
        return False
    if isinstance(expr, cst.SimpleString):
        return str(expr.evaluated_value) in _INT_DTYPES
    qualified = imports.qualify(expr)
    if qualified is not None:
        return qualified.startswith("numpy.") and qualified[len("numpy.") :] in _INT_DTYPES
    return isinstance(expr, cst.Name) and expr.value in ("int", "bool")


def _int_array(expr: cst.BaseExpression, ints: set[str], imports: ImportedNames) -> bool:
    """True if `expr` may give an integer (or bool) array: `np.arange` without a float
    bound or dtype, an allocation or `.astype()` with an integer dtype, integer
    arithmetic (`+ - * // %`) of such arrays and integer literals, or a name bound once
    to one of these."""
    if isinstance(expr, cst.Name):
        return expr.value in ints
    if isinstance(expr, cst.BinaryOperation):
        if not isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply,
                                          cst.FloorDivide, cst.Modulo)):  # fmt: skip
            return False
        sides = (expr.left, expr.right)
        arrays = [e for e in sides if _int_array(e, ints, imports)]
        return bool(arrays) and all(
            _int_array(e, ints, imports) or isinstance(e, cst.Integer) for e in sides
        )
    if not isinstance(expr, cst.Call):
        return False
    keywords = {a.keyword.value: a.value for a in expr.args if a.keyword is not None}
    positional = [a.value for a in expr.args if a.keyword is None and not a.star]
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "astype":
        dtype = positional[0] if positional else keywords.get("dtype")
        return _int_dtype(dtype, imports)
    qualified = imports.qualify(expr.func)
    if qualified is None or not qualified.startswith("numpy."):
        return False
    name = qualified[len("numpy.") :]
    if name == "arange":
        if "dtype" in keywords:
            return _int_dtype(keywords["dtype"], imports)
        # an int unless a bound is a float: `np.arange(n)` with `n` unknown counts as
        # an int (stopping a chain only loses an opportunity)
        return not any(isinstance(p, cst.Float) for p in positional)
    if name in _ALLOCATORS or name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        dtype = keywords.get("dtype")
        if dtype is None and name in ("zeros", "ones", "empty") and len(positional) > 1:
            dtype = positional[1]
        return _int_dtype(dtype, imports)
    return False


def _int_array_names(
    func: cst.FunctionDef, sites: dict[str, list[cst.CSTNode]], imports: ImportedNames
) -> set[str]:
    """Names bound once, in `func` itself, to a provably integer array (`_int_array`)."""
    values: dict[str, cst.BaseExpression] = {}
    for small in own_scope_statements(func):
        assigned = (
            small.targets[0].target.value
            if isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            else None
        )
        if assigned is not None and len(sites.get(assigned, ())) == 1:
            values[assigned] = small.value  # type: ignore[union-attr]
    ints: set[str] = set()
    for _ in range(len(values) + 1):
        grown = {n for n, v in values.items() if n not in ints and _int_array(v, ints, imports)}
        if not grown:
            break
        ints |= grown
    return ints


def _may_widen(
    expr: cst.BaseExpression,
    temp: str,
    start_names: set[str],
    known: dict[str, _ArrayInfo],
    imports: ImportedNames,
) -> bool:
    """True if an operand of the step `expr` on the chain buffer `temp` could make the
    result's dtype wider than the buffer's within its kind (a float64 array meeting a
    float32 buffer): `out=temp` would round the result silently.

    Safe operands: the buffer itself; number literals (NumPy 2 takes Python numbers as
    weak: they keep a float buffer's dtype, and an integer buffer given a float makes
    `out=` raise, never round); a name that was a direct operand of the chain's first
    operation (the buffer's dtype and shape already include it: promotion and
    broadcasting are joins); an array of the buffer's proven shape and dtype. Anything
    else (another temporary, a parameter, `0.5 * b`, `np.float64(2)`) is refused even
    where validation passes, because the workload shows only the dtypes it passes,
    unless the buffer is a proven float64 array, which no real operand widens (a complex
    one makes `out=` raise).
    """
    operands = _operands(expr, imports)
    if not operands:
        return True
    buffer = known.get(temp)
    if buffer is not None and buffer.dtype == "float64":
        return False
    for operand in operands:
        if isinstance(operand, cst.Name):
            if operand.value == temp or operand.value in start_names:
                continue
            info = known.get(operand.value)
            if buffer is not None and info is not None and info.same_layout(buffer):
                continue
            return True
        plain = operand
        if isinstance(plain, cst.UnaryOperation) and isinstance(
            plain.operator, (cst.Minus, cst.Plus)
        ):
            plain = plain.expression
        if isinstance(plain, (cst.Integer, cst.Float)):
            continue
        return True
    return False


def _stays_int(expr: cst.BaseExpression, temp: str, ints: set[str], imports: ImportedNames) -> bool:
    """True if the step `expr` on the integer array `temp` gives an integer array, so
    `out=temp` works: `+ - *` or an integer ufunc with integer literals or arrays."""
    if isinstance(expr, cst.BinaryOperation):
        if not isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply)):
            return False
        operands = [expr.left, expr.right]
    else:
        name = _ufunc_call(expr, imports)
        if name not in _INT_UFUNCS:
            return False
        operands = [a.value for a in expr.args]  # type: ignore[attr-defined]
    return all(
        isinstance(o, cst.Integer)
        or (isinstance(o, cst.Name) and (o.value == temp or o.value in ints))
        for o in operands
    )


@dataclass(frozen=True)
class _ArrayInfo:
    """What the function proves about an array: its shape (as source text whose names
    have one value per call), its float dtype, and whether it has at least one dimension
    (a 0-d result is a NumPy scalar, which cannot be an `out=` target)."""

    shape: str
    dtype: str
    ranked: bool

    def same_layout(self, other: _ArrayInfo) -> bool:
        """True if both have the same shape and dtype."""
        return (self.shape, self.dtype) == (other.shape, other.dtype)


#: arithmetic on integers that gives an integer (never a tuple when both sides are ints)
_INT_OPERATORS = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo)
#: builtins that always return an int
_INT_BUILTINS = frozenset({"len", "int"})
#: array attributes whose read neither aliases nor reshapes the array
_SAFE_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype", "nbytes", "itemsize"})
#: numpy functions that return new objects (never their argument itself)
_NEW_RESULT_FUNCTIONS = FLOAT_UFUNCS | frozenset(
    {"sum", "mean", "prod", "std", "var", "max", "min", "amax", "amin", "dot", "vdot",
     "allclose", "array_equal", "isnan", "isfinite", "isinf", "any", "all", "copy"}
)  # fmt: skip
#: builtins that return new objects (never their argument itself)
_NEW_RESULT_BUILTINS = frozenset({"len", "abs", "float", "int", "bool", "isinstance", "sum"})


@dataclass
class _ShapeFacts:
    """Names of one function whose value, or whose arrays' shape, cannot change.

    `stable`: parameters never rebound, and locals bound exactly once, by a top-level
    statement (so it runs at most once per call): a shape text made of these names and
    integer literals denotes one value throughout the call. `ints`: stable locals bound
    to an integer expression (`n = len(x)`), so `np.ones(n)` is 1-D. `escaped`: names
    used where the array object could be reached by other code (`x = a`, `g(a)`,
    `a.shape = ...`, `a.resize(...)`), which could then change its shape or dtype in place.
    """

    stable: set[str]
    ints: set[str]
    escaped: set[str]
    builtins: set[str]  # builtin names (`len`, `int`) the module does not shadow

    @classmethod
    def of(
        cls,
        module: cst.Module,
        func: cst.FunctionDef,
        imports: ImportedNames,
        module_names: set[str] | None = None,
    ) -> _ShapeFacts:
        """Analyse `func` of `module` (`module_names`: `_ModuleNames(module).names()`,
        passed by callers that analyse several functions of one module)."""
        sites = binding_sites(func)
        once = {id(s) for s in top_level_statements(func)}
        stable = {
            name
            for name in parameter_names(func)
            if len(sites.get(name, ())) == 1 and isinstance(sites[name][0], cst.Param)
        }
        single: dict[str, cst.BaseExpression] = {}
        for name, nodes in sites.items():
            node = nodes[0]
            if len(nodes) != 1 or id(node) not in once:
                continue
            if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
                stable.add(name)
                targets = (
                    [t.target for t in node.targets]
                    if isinstance(node, cst.Assign)
                    else [node.target]
                )
                if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                    single[name] = node.value
        if module_names is None:
            module_names = _ModuleNames(module).names()
        shadowed = set(sites) | module_names
        facts = cls(stable, set(), _escaped_names(func, imports), set(_INT_BUILTINS) - shadowed)
        for _ in range(len(single) + 1):
            grown = {n for n, v in single.items() if facts.int_valued(v, allow_calls=True)}
            if grown <= facts.ints:
                break
            facts.ints |= grown
        return facts

    def stable_expr(self, expr: cst.BaseExpression) -> bool:
        """Integer literals and stable names combined by arithmetic: one value per call."""
        if isinstance(expr, cst.Integer):
            return True
        if isinstance(expr, cst.Name):
            return expr.value in self.stable
        if isinstance(expr, cst.UnaryOperation) and isinstance(
            expr.operator, (cst.Minus, cst.Plus)
        ):
            return self.stable_expr(expr.expression)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _INT_OPERATORS):
            return self.stable_expr(expr.left) and self.stable_expr(expr.right)
        return False

    def int_valued(self, expr: cst.BaseExpression, allow_calls: bool = False) -> bool:
        """True if `expr` is provably an int (not a tuple): an `np.ones(expr)` is 1-D."""
        if isinstance(expr, cst.Integer):
            return True
        if isinstance(expr, cst.Name):
            return expr.value in self.ints
        if isinstance(expr, cst.UnaryOperation) and isinstance(
            expr.operator, (cst.Minus, cst.Plus)
        ):
            return self.int_valued(expr.expression, allow_calls)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _INT_OPERATORS):
            return self.int_valued(expr.left, allow_calls) and self.int_valued(
                expr.right, allow_calls
            )
        return (
            allow_calls
            and isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Name)
            and expr.func.value in self.builtins
            and len(expr.args) == 1
            and expr.args[0].keyword is None
            and not expr.args[0].star
        )

    def shape(self, expr: cst.BaseExpression) -> tuple[str, bool] | None:
        """(text, has at least one dimension) of a stable shape argument, or None."""
        if isinstance(expr, (cst.Tuple, cst.List)):
            elements = list(expr.elements)
            if not elements or any(
                isinstance(e, cst.StarredElement) or not self.stable_expr(e.value) for e in elements
            ):
                return None
            return code_of(expr), True
        if self.stable_expr(expr):
            return code_of(expr), self.int_valued(expr)
        return None


class _ModuleNames:
    """The names a module binds, imports included (they may shadow builtins such as `len`),
    computed on first use and then shared by the functions of one `find` call."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._names: set[str] | None = None

    def names(self) -> set[str]:
        """Imported names and every name bound anywhere in the module (a fresh set)."""
        if self._names is None:
            self._names = set(ImportedNames.of(self._module).bindings) | _module_bindings(
                self._module
            )
        return set(self._names)


def _module_bindings(module: cst.Module) -> set[str]:
    """Names `module` binds anywhere (they may shadow builtins such as `len`)."""
    as_function = cst.FunctionDef(
        name=cst.Name("_module"),
        params=cst.Parameters(),
        body=cst.IndentedBlock(body=list(module.body)),
    )
    return set(binding_sites(as_function))


def _escaped_names(func: cst.FunctionDef, imports: ImportedNames) -> set[str]:
    """Names whose object other code may reach or reshape (see `_ShapeFacts.escaped`).

    A name is safe only where it is an operand of arithmetic or a comparison, the base
    of a subscript, the object of a harmless attribute read or pure method call, an
    argument of a numpy function or builtin that returns a new object, or returned.
    """
    escaped: set[str] = set()

    def walk(node: cst.CSTNode, safe: bool) -> None:
        if isinstance(node, cst.Name):
            if not safe:
                escaped.add(node.value)
            return
        if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
            for child in ordered_children(node):
                walk(child, True)
            return
        if isinstance(node, cst.Comparison):
            walk(node.left, True)
            for target in node.comparisons:
                walk(target.comparator, True)
            return
        if isinstance(node, cst.Subscript):
            walk(node.value, True)
            for element in node.slice:
                walk(element, True)
            return
        if isinstance(node, cst.Attribute):
            walk(node.value, node.attr.value in _SAFE_ATTRIBUTES)
            return
        if isinstance(node, (cst.Tuple, cst.List, cst.Element, cst.Return)):
            for child in ordered_children(node):
                walk(child, safe if not isinstance(node, cst.Return) else True)
            return
        if isinstance(node, cst.Call):
            walk_call(node)
            return
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.NamedExpr)):
            target = node.target
            if isinstance(target, cst.Name):
                pass  # a binding, not a use
            elif isinstance(target, cst.Attribute):
                walk(target.value, False)  # `a.shape = ...` mutates `a`
            else:
                walk(target, True)
            if isinstance(node, cst.AnnAssign):
                walk(node.annotation, False)
            if not isinstance(node, cst.AssignTarget) and node.value is not None:
                walk(node.value, False)
            return
        if isinstance(node, cst.Del):
            walk(node.target, not isinstance(node.target, cst.Attribute))
            return
        for child in ordered_children(node):
            walk(child, False)

    def walk_call(node: cst.Call) -> None:
        func = node.func
        qualified = imports.qualify(func)
        args_safe = False
        outputs_from = len(node.args)  # positional arguments from here on are outputs
        if qualified is not None:
            args_safe = (
                qualified.startswith("numpy.")
                and qualified[len("numpy.") :] in _NEW_RESULT_FUNCTIONS
            )
            if args_safe:  # `np.exp(a, b)` returns `b` itself
                outputs_from = OUT_POSITION.get(qualified[len("numpy.") :], outputs_from)
        elif isinstance(func, cst.Name):
            args_safe = func.value in _NEW_RESULT_BUILTINS
            walk(func, True)
        elif isinstance(func, cst.Attribute):
            pure = func.attr.value in PURE_METHODS and func.attr.value != "astype"
            walk(func.value, pure)
            args_safe = pure
        else:
            walk(func, False)
        for position, arg in enumerate(node.args):
            keyword = arg.keyword.value if arg.keyword is not None else None
            output = keyword == "out" or (keyword is None and position >= outputs_from)
            walk(arg.value, args_safe and not arg.star and not output)

    walk(func.body, False)
    return escaped


def _known_arrays(
    module: cst.Module,
    func: cst.FunctionDef,
    imports: ImportedNames,
    module_names: set[str] | None = None,
) -> dict[str, _ArrayInfo]:
    """name -> shape and dtype for arrays whose shape and dtype the function proves.

    Allocations `np.zeros/ones/empty(shape[, dtype])`, `np.full(shape, <float literal>)`,
    `np.linspace(<number>, <number>, num)`, and elementwise arithmetic of such arrays with
    the same (shape, dtype) or with Python number literals (float dtypes only). The name
    is bound once, in the function itself, and never escapes (`_ShapeFacts.escaped`);
    every name in the shape text has one value per call, so equal texts are equal
    shapes (`a = np.ones(n); n = n + 1; b = np.ones(n)` proves nothing).
    """
    facts = _ShapeFacts.of(module, func, imports, module_names)
    sites = binding_sites(func)
    own = {id(s) for s in own_scope_statements(func)}
    known: dict[str, _ArrayInfo] = {}
    for _ in range(3):
        for name, nodes in sites.items():
            if len(nodes) != 1 or name in facts.escaped:
                continue
            node = nodes[0]
            if not (
                isinstance(node, cst.Assign)
                and id(node) in own
                and any(isinstance(t.target, cst.Name) and t.target.value == name
                        for t in node.targets)
            ):  # fmt: skip
                continue
            info = _shape_dtype(node.value, imports, known, facts)
            if info is not None:
                known[name] = info
    return known


def _dtype_text(expr: cst.BaseExpression | None, imports: ImportedNames) -> str | None:
    if expr is None:
        return "float64"
    qualified = imports.qualify(expr)
    if qualified in ("numpy.float64", "numpy.double") or (
        isinstance(expr, cst.Name) and expr.value == "float" and qualified is None
    ):
        return "float64"
    if qualified == "numpy.float32":
        return "float32"
    if isinstance(expr, cst.SimpleString) and expr.evaluated_value in ("float64", "float32"):
        return str(expr.evaluated_value)
    return None


def _number_literal(expr: cst.BaseExpression) -> bool:
    """A Python int or float literal, possibly negated."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        expr = expr.expression
    return isinstance(expr, (cst.Float, cst.Integer))


def _shape_dtype(
    value: cst.BaseExpression,
    imports: ImportedNames,
    known: dict[str, _ArrayInfo],
    facts: _ShapeFacts,
) -> _ArrayInfo | None:
    if isinstance(value, cst.Name):
        return known.get(value.value)
    if isinstance(value, cst.Call):
        qualified = imports.qualify(value.func)
        positional = [a.value for a in value.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in value.args if a.keyword is not None}
        if any(a.star for a in value.args):
            return None
        dtype_arg = keywords.get("dtype")
        if qualified is not None and qualified.startswith("numpy.") and positional:
            name = qualified[len("numpy.") :]
            if name in _ALLOCATORS:
                if set(keywords) - {"dtype", "order"}:
                    return None
                if name == "full":
                    if dtype_arg is None and not (
                        len(positional) > 1 and isinstance(positional[1], cst.Float)
                    ):
                        return None
                elif dtype_arg is None and len(positional) > 1:
                    dtype_arg = positional[1]
                dtype = _dtype_text(dtype_arg, imports)
                shape = facts.shape(positional[0])
                if dtype is None or shape is None:
                    return None
                return _ArrayInfo(shape[0], dtype, shape[1])
            if name == "linspace" and len(positional) == 3 and not keywords:
                # scalar start/stop: always 1-D (array bounds would add a dimension)
                if not (_number_literal(positional[0]) and _number_literal(positional[1])):
                    return None
                shape = facts.shape(positional[2])
                return None if shape is None else _ArrayInfo(shape[0], "float64", True)
            if name in FLOAT_UFUNCS and not keywords and len(positional) <= _ufunc_inputs(name):
                return _combine([_operand_info(p, imports, known, facts) for p in positional])
        return None
    if isinstance(value, cst.BinaryOperation) and type(value.operator) in UFUNC_OF_OPERATOR:
        return _combine(
            [
                _operand_info(value.left, imports, known, facts),
                _operand_info(value.right, imports, known, facts),
            ]
        )
    return None


def _operand_info(
    expr: cst.BaseExpression,
    imports: ImportedNames,
    known: dict[str, _ArrayInfo],
    facts: _ShapeFacts,
) -> _ArrayInfo | str | None:
    """Info of an array operand, "literal" for a Python number, None if unknown."""
    if _number_literal(expr):
        return "literal"
    return _shape_dtype(expr, imports, known, facts)


def _combine(infos: list[_ArrayInfo | str | None]) -> _ArrayInfo | None:
    """The result of an elementwise operation on operands of one shape and dtype.

    Equal shape texts of stable names are one shape, so one operand with a proven
    dimension proves it for all of them (and for the result).
    """
    arrays = [i for i in infos if isinstance(i, _ArrayInfo)]
    if not arrays or any(i is None for i in infos):
        return None
    if any(not a.same_layout(arrays[0]) for a in arrays):
        return None
    return _ArrayInfo(arrays[0].shape, arrays[0].dtype, any(a.ranked for a in arrays))


def _keeps_shape_dtype(
    expr: cst.BaseExpression, temp: str, known: dict[str, _ArrayInfo]
) -> _ArrayInfo | None:
    """The info of `temp` if `out=temp` provably receives a result of temp's own shape
    and dtype, and temp is an array with at least one dimension (else None)."""
    target = known.get(temp)
    if target is None:
        return None
    if isinstance(expr, cst.BinaryOperation):
        operands: list[cst.BaseExpression] = [expr.left, expr.right]
    elif isinstance(expr, cst.Call):
        operands = [a.value for a in expr.args]
    else:
        return None
    ranked = target.ranked
    for operand in operands:
        if _number_literal(operand):
            continue
        other = known.get(operand.value) if isinstance(operand, cst.Name) else None
        if other is None or not other.same_layout(target):
            return None
        ranked = ranked or other.ranked
    return _ArrayInfo(target.shape, target.dtype, ranked) if ranked else None


# --- the rewrite ------------------------------------------------------------------------------


def _as_lines(body: cst.BaseSuite) -> list[cst.BaseStatement]:
    """The statements of a suite as full statement lines (one-line suites expanded)."""
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    assert isinstance(body, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(body=[small]) for small in body.body]


class _Rewrite(cst.CSTTransformer):
    """Fuses loop pairs and turns chain steps into `out=` ufunc calls."""

    def __init__(
        self,
        module: SourceModule,
        where: Positions,
        fuse_at: dict[tuple[int, int], _PairChoice],
        chain_steps: dict[tuple[int, int], str],
        alias: str,
    ) -> None:
        super().__init__()
        self.module = module
        self.imports = ImportedNames.of(module.tree)
        self.local_functions = frozenset(
            f.qualname for f in iter_functions(module.tree) if f.top_level
        )
        self.functions: list[tuple[cst.FunctionDef, str]] = []
        self.where = where
        self.fuse_at = fuse_at
        self.chain_steps = chain_steps
        self.alias = alias
        self.changed = False
        self.used_numpy = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.functions[-1][1] + ".<locals>." if self.functions else ""
        self.functions.append((node, f"{parent}{node.name.value}"))

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.functions.pop()
        return updated

    def _pos(self, node: cst.CSTNode) -> tuple[int, int] | None:
        rng = self.where.get(node)
        return None if rng is None else (rng.start.line, rng.start.column)

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not self.fuse_at:
            return updated
        new_body: list[cst.BaseStatement] = []
        originals = list(original.body)
        updated_body = list(updated.body)
        k = 0
        while k < len(updated_body):
            stmt = updated_body[k]
            start = k
            pos = self._pos(originals[k])
            accepted: set[tuple[str, str]] = set()  # no-overlap assumptions the chosen pairs made
            while (
                pos in self.fuse_at
                and isinstance(stmt, cst.For)
                and k + 1 < len(updated_body)
                and isinstance(updated_body[k + 1], cst.For)
            ):
                second = updated_body[k + 1]
                assert isinstance(second, cst.For)
                choice = self.fuse_at[pos]
                accepted |= choice.assumes_no_overlap
                if k == start:
                    rename = choice.rename  # this pair's legality was decided by find()
                else:
                    # a chain: the next loop must be legal against everything merged so far,
                    # with no assumption that no chosen pair made (a statically safe pair
                    # made none: `rewrite --static` must never fuse on an unproven one)
                    verdict = self._chain_verdict(stmt, second, originals[start : k + 2])
                    if (
                        verdict is None
                        or verdict.reason is not None
                        or not set(verdict.assumes_no_overlap) <= accepted
                    ):
                        break
                    rename = verdict.rename
                stmt = self._merge(stmt, second, rename, (originals[k], originals[k + 1]))
                k += 1
                pos = self._pos(originals[k])
                self.changed = True
            new_body.append(stmt)
            k += 1
        return updated.with_changes(body=new_body)

    def _merge(
        self,
        first: cst.For,
        second: cst.For,
        rename: tuple[str, str] | None,
        originals: tuple[cst.CSTNode, cst.CSTNode],
    ) -> cst.For:
        """One loop with `first`'s header and both bodies; loops that become adjacent
        at the junction are fused too when that is legal (so the result is a fixpoint)."""
        second_body = second.body
        if rename is not None:
            visited = second_body.visit(RenameName(rename[0], rename[1]))
            assert isinstance(visited, cst.BaseSuite)
            second_body = visited
        tail = _as_lines(second_body)
        moved = [line for line in second.leading_lines if line.comment is not None]
        header_comment = (
            second.body.header.comment if isinstance(second.body, cst.IndentedBlock) else None
        )
        if header_comment is not None:
            moved.append(cst.EmptyLine(comment=header_comment))
        if tail and moved:
            tail[0] = tail[0].with_changes(leading_lines=[*moved, *tail[0].leading_lines])
        head = _as_lines(first.body)
        if head and tail and isinstance(head[-1], cst.For) and isinstance(tail[0], cst.For):
            inner = self._fuse_inner(head[-1], tail[0], head[:-1] + tail[1:], originals)
            if inner is not None:
                head, tail = head[:-1], [inner, *tail[1:]]
        block = (
            first.body.with_changes(body=[*head, *tail])
            if isinstance(first.body, cst.IndentedBlock)
            else cst.IndentedBlock(body=[*head, *tail])
        )
        return first.with_changes(body=block)

    def _chain_verdict(
        self, merged: cst.For, second: cst.For, involved: Sequence[cst.CSTNode]
    ) -> FusionVerdict | None:
        """Legality of fusing `second` into the already merged loop `merged`."""
        if not self.functions:
            return None
        func, qualname = self.functions[-1]
        relation = array_relations(self.module.tree, func, qualname, self.imports)
        elsewhere = names_outside(func, list(involved))
        verdict = fusion_blockers(
            merged, second, self.imports, relation, elsewhere, self.local_functions
        )
        if verdict.reason is not None:
            return verdict
        extra = _extra_blockers(
            merged,
            second,
            involved[0],
            verdict,
            self.imports,
            relation,
            ExceptionFacts.of(func, self.imports),
            self.local_functions,
            nonnegative_int_names(func),
        )
        return verdict if extra is None else FusionVerdict(extra)

    def _fuse_inner(
        self,
        first: cst.For,
        second: cst.For,
        rest: list[cst.BaseStatement],
        originals: tuple[cst.CSTNode, cst.CSTNode],
    ) -> cst.For | None:
        """`first` and `second` fused when they are a legal pair inside a new loop."""
        if not self.functions:
            return None
        func, qualname = self.functions[-1]
        relation = array_relations(self.module.tree, func, qualname, self.imports)
        elsewhere = names_outside(func, list(originals))
        for stmt in rest:
            elsewhere |= names_in(stmt)
        verdict = fusion_blockers(
            first, second, self.imports, relation, elsewhere, self.local_functions
        )
        if verdict.reason is not None or verdict.assumes_no_overlap:
            return None
        # the outer pair passed `exception_blockers`: at most one of the outer loops (so of
        # these inner ones) may raise, and what the other writes is invisible; the anchor
        # is the outer first loop, whose `try`/`with` context these loops share
        if whole_alias_reads(first, second, relation, self.imports, self.local_functions):
            return None
        if rebound_loop_variable(first, second) or wrap_around(
            first, second, relation, self.imports, self.local_functions, nonnegative_int_names(func)
        ):
            return None
        return self._merge(first, second, verdict.rename, (first, second))

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        pos = self._pos(original)
        if pos is None or pos not in self.chain_steps:
            return updated
        temp = self.chain_steps[pos]
        small = updated.body[0]
        if isinstance(small, cst.Assign):
            new_value = self._in_place(small.value, temp)
            if new_value is None:
                return updated
            small = small.with_changes(value=new_value)
        elif isinstance(small, cst.Return) and small.value is not None:
            new_value = self._in_place(small.value, temp)
            if new_value is None:
                return updated
            small = small.with_changes(value=new_value)
        else:
            return updated
        self.changed = True
        self.used_numpy = True
        return updated.with_changes(body=[small, *updated.body[1:]])

    def _in_place(self, expr: cst.BaseExpression, temp: str) -> cst.BaseExpression | None:
        out = cst.Arg(
            keyword=cst.Name("out"),
            value=cst.Name(temp),
            equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(""),
            ),
        )
        if isinstance(expr, cst.BinaryOperation):
            ufunc = UFUNC_OF_OPERATOR.get(type(expr.operator))
            if ufunc is None:
                return None
            func = cst.parse_expression(f"{self.alias}.{ufunc}")
            return cst.Call(
                func=func,
                args=[cst.Arg(_strip_parens(expr.left)), cst.Arg(_strip_parens(expr.right)), out],
            )
        if isinstance(expr, cst.Call):
            args = list(expr.args)
            if args:
                args[-1] = args[-1].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                )
            return expr.with_changes(args=[*args, out])
        return None


def _strip_parens(expr: cst.BaseExpression) -> cst.BaseExpression:
    """An operand becomes a call argument: its grouping parentheses are not needed."""
    return expr.with_changes(lpar=[], rpar=[])
