"""vectorize (GO1xx): counted Python loops over arrays become NumPy slice expressions.

What it rewrites (one `for ... in range(...)` loop or perfect loop nest at a time):

* GO101 elementwise loop   `out[i] = a*x[i] + y[i]`        -> `out[:n] = a * x[:n] + y[:n]`
* GO102 reduction          `s += x[i]*y[i]`                -> `s += np.dot(x[:n], y[:n])`;
  `out[j] += a[i, j]` in an `i, j` nest                     -> `out[:m] += np.sum(a[:n, :m], axis=0)`,
  `C[i, j] += A[i, k]*B[k, j]`                             -> `C[:n, :m] += np.dot(A[:n, :p], B[:p, :m])`;
  `s = max(s, x[i])` / `if x[i] > s: s = x[i]`             -> `s = max(s, np.fmax.reduce(...))`
* GO103 nested loops over 2-D/3-D arrays                   -> multi-dimensional slices
* GO104 stencil read from another array `v[i] = u[i-1] + u[i+1]` -> shifted slices
* GO105 scan `c[i] = c[i-1] + x[i]`                        -> `np.cumsum` of `[c[lo-1], x...]`
* GO106 scatter `h[idx[i]] += w[i]`                        -> `np.add.at(h, idx[:n], w[:n])`
  (never `h[idx] += w`, which loses repeated indices)
* GO107 `if` in the loop                                   -> `np.where` (both branches pure
  and total: no division, power or functions that can warn)
* GO190 (report only) a loop left alone, with the reason (`check --explain`).

Legality (DESIGN §5, after DaCe's LoopToMap): the body has no early exit
(`break`/`continue`/`return`/`raise`), no call with possible side effects, no
attribute or global writes; every array subscript is affine `a*i+b` (a > 0) in one
loop index per dimension; executing the body statement by statement over all
iterations reverses no dependence (`dependences.vectorization_blocker`); arrays
written and arrays accessed either are the same name or provably distinct memory
(`aliasing`: two parameters may be the same array, so a write to one and a read of
another leaves the loop alone); the loop index and temporaries are not used after
the loop; the first subscript value is provably >= 0 (negative indices wrap) and
an empty loop stays a no-op (a guard `if stop > start:` is emitted when the slice
bounds could go negative).

Assumptions of the static proof (documented in docs/static.md): subscripted names
are NumPy arrays with as many dimensions as subscripts in the loop, and
unsubscripted names in the loop are scalars (both checked against allocations and
other uses in the function when visible).

`static_safe` is False (the validated `rewrite` may still try it on a workload)
when the result depends on a dtype the function does not show: reassociated sums
and products (exact for int64 modulo 2**64 and within rtol 1e-9 for float64, but
not for int32 or float32 accumulators), scans with a possible cast per step, and
the loop index used as a value (Python int vs int64).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from libcst.metadata import PositionProvider, QualifiedNameProvider

from greenopt.optimizer.accesses import (
    Access,
    flatten_subscript,
    read_subscripts,
    statement_accesses,
    summarize,
)
from greenopt.optimizer.affine import Affine, is_atomic, node_code
from greenopt.optimizer.aliasing import ArrayFacts, Relation
from greenopt.optimizer.cst_nodes import is_scope, names_in, walk
from greenopt.optimizer.dependences import vectorization_blocker
from greenopt.optimizer.effects import (
    IO_BUILTINS,
    early_exit,
    expression_effect,
    statement_effect,
)
from greenopt.optimizer.loops import LoopNest, bound_atom, loop_nest
from greenopt.optimizer.name_facts import (
    FunctionFacts,
    function_facts,
    iter_functions,
    nonneg_names,
)
from greenopt.optimizer.numpy_names import (
    TOTAL_UFUNCS,
    NameResolver,
    alias_for_rewrite,
    ensure_numpy_import,
)
from greenopt.optimizer.positions import Position, for_positions
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Example, Opportunity, Pass, Site

NAME = "vectorize"


class Refusal(Exception):
    """A loop cannot be vectorised; the message says why (shown as GO190)."""


@dataclass
class _Unsafe:
    """Reasons a found rewrite is not proven statically (static_safe=False)."""

    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class _Context:
    """Everything the planner knows about the function around one loop nest."""

    resolver: NameResolver
    facts: FunctionFacts
    arrays: ArrayFacts
    nonneg: set[str]
    np: str
    subscript_counts: dict[str, set[int]]
    #: name -> minimum rank shown by x.shape[k] (-1: rank-generic, x.ndim or x.shape[k:])
    higher_rank: dict[str, int]
    positions: dict[int, Position]  # id(For) -> position, from `ast`


@dataclass
class _Plan:
    """A vectorised replacement for one loop nest."""

    code: str  # replacement statements (top level, no indentation)
    kind: str  # rule code
    message: str
    rationale: str
    unsafe: _Unsafe


class VectorizePass(Pass):
    """Rewrites counted loops over NumPy arrays into slice expressions (see module docstring)."""

    name: ClassVar[str] = NAME
    codes: ClassVar[dict[str, str]] = {
        "GO101": "elementwise loop can be a NumPy slice expression",
        "GO102": "reduction loop can be np.sum / np.dot / np.prod / max / min",
        "GO103": "nested loop over a 2-D/3-D array can be a multi-dimensional slice expression",
        "GO104": "stencil loop reading a different array can use shifted slices",
        "GO105": "scan (running sum/product) can be np.cumsum / np.cumprod",
        "GO106": "scatter with possibly repeated indices can be np.add.at",
        "GO107": "conditional loop can be np.where",
        "GO190": "loop left alone (not provably vectorisable); the reason is given",
    }
    needs_workload: ClassVar[bool] = False

    EXAMPLES: ClassVar[Sequence[Example]] = (
        Example(
            before=(
                "import numpy as np\n\n\ndef saxpy(a, x, y):\n    out = np.empty_like(x)\n"
                "    for i in range(len(x)):\n        out[i] = a * x[i] + y[i]\n    return out\n"
            ),
            after=(
                "import numpy as np\n\n\ndef saxpy(a, x, y):\n    out = np.empty_like(x)\n"
                "    out[:len(x)] = a * x + y[:len(x)]\n    return out\n"
            ),
        ),
        Example(
            before=(
                "def smooth(u):\n    v = u.copy()\n    # three-point stencil\n"
                "    for i in range(1, len(u) - 1):\n"
                "        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]\n    return v\n"
            ),
            after=(
                "def smooth(u):\n    v = u.copy()\n    # three-point stencil\n"
                "    if len(u) > 2:\n"
                "        v[1:len(u) - 1] = 0.25 * u[:len(u) - 2] + 0.5 * u[1:len(u) - 1] + 0.25 * u[2:]\n"
                "    return v\n"
            ),
        ),
        Example(
            before=(
                "import numpy as xp\n\n\ndef peak(x):\n    m = -xp.inf\n"
                "    for i in range(len(x)):\n        if x[i] > m:\n            m = x[i]\n    return m\n"
            ),
            after=(
                "import numpy as xp\n\n\ndef peak(x):\n    m = -xp.inf\n"
                "    if len(x) > 0:\n        m = max(m, xp.fmax.reduce(x, axis=None))\n    return m\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\ndef hist(idx, w, nbins):\n    h = np.zeros(nbins)\n"
                "    n = len(idx)\n    for i in range(n):\n        h[idx[i]] += w[i]\n    return h\n"
            ),
            after=(
                "import numpy as np\n\n\ndef hist(idx, w, nbins):\n    h = np.zeros(nbins)\n"
                "    n = len(idx)\n"
                "    np.add.at(h, idx[:n], w[:n])\n    return h\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\ndef relu(x):\n    out = np.zeros(len(x))\n"
                "    for i in range(len(x)):\n        if x[i] > 0:\n            out[i] = x[i]\n"
                "        else:\n            out[i] = 0.01 * x[i]\n    return out\n"
            ),
            after=(
                "import numpy as np\n\n\ndef relu(x):\n    out = np.zeros(len(x))\n"
                "    out[:len(x)] = np.where(x > 0, x, 0.01 * x)\n    return out\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\ndef add2d(a, b):\n    n, m = a.shape\n"
                "    c = np.zeros((n, m))\n    for i in range(n):\n        for j in range(m):\n"
                "            c[i, j] = a[i, j] + 2.0 * b[i, j]\n    return c\n"
            ),
            after=(
                "import numpy as np\n\n\ndef add2d(a, b):\n    n, m = a.shape\n"
                "    c = np.zeros((n, m))\n    c[:n, :m] = a[:n, :m] + 2.0 * b[:n, :m]\n    return c\n"
            ),
        ),
    )
    UNCHANGED: ClassVar[Sequence[str]] = (
        # in-place recurrence: each iteration reads the previous one's result
        "def prefix(u):\n    for i in range(1, len(u)):\n        u[i] = u[i - 1] + u[i]\n",
        # early exit
        "def first_neg(x, out):\n    out = x.copy()\n    for i in range(len(x)):\n"
        "        if x[i] < 0:\n            break\n        out[i] = 2 * x[i]\n    return out\n",
        # side effect
        "def noisy(x):\n    y = x.copy()\n    for i in range(len(x)):\n        print(i)\n"
        "        y[i] = x[i] + 1\n    return y\n",
        # two parameters may be the same array, or overlapping views of one
        "def shift(x, y):\n    for i in range(len(x)):\n        y[i] = 2.0 * x[i]\n",
        # a view through a second name
        "def viewed(a):\n    b = a[1:]\n    for i in range(len(b)):\n        a[i] = b[i] + 1\n",
        # an unknown call
        "def calls(x):\n    y = x.copy()\n    for i in range(len(x)):\n        y[i] = f(x[i])\n"
        "    return y\n",
        # Python int arithmetic only
        "def count(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n",
        # index used after the loop
        "def last(x):\n    y = x.copy()\n    for i in range(len(x)):\n        y[i] = 0.0\n"
        "    return i\n",
        # suppressed loops are dropped by find_opportunities, not by the pass; a division in a
        # conditional would be evaluated for every element
        "def safe_div(x, y):\n    out = x.copy()\n    for i in range(len(x)):\n"
        "        if y[i] != 0:\n            out[i] = x[i] / y[i]\n    return out\n",
    )

    # -- Pass API -------------------------------------------------------------------------

    def find(self, module: SourceModule) -> list[Opportunity]:
        """Every range loop (nest) of every function: a GO10x rewrite or a GO190 note.

        Loops are first screened syntactically (range call, simple body, no early
        exit); libcst name metadata is then built only for the top-level
        statements holding functions with surviving loops, which is most of the cost.
        """
        if not _has_range_loop(module.code):
            return []
        positions = for_positions(module.tree, module.code)
        alias = alias_for_rewrite(module.tree)
        found: list[Opportunity] = []
        plans: list[tuple[cst.FunctionDef, str, list[cst.For]]] = []
        for func, qual in iter_functions(module.tree):
            candidates: list[cst.For] = []
            for loop in _top_loops(func.body):
                self._screen(loop, qual, module, positions, found, candidates)
            if candidates:
                plans.append((func, qual, candidates))
        if not plans:
            return found
        needed = {id(func) for func, _, _ in plans}
        if module.has_resolved(QualifiedNameProvider):
            resolver = NameResolver(module.metadata())  # another pass already resolved names
        else:
            resolver = NameResolver.for_loops(
                module.tree,
                keep=lambda stmt: any(
                    isinstance(n, cst.FunctionDef) and id(n) in needed for n in walk(stmt)
                ),
            )
        for func, qual, candidates in plans:
            facts = function_facts(func, qual)
            ctx = _Context(
                resolver=resolver,
                facts=facts,
                arrays=ArrayFacts.build(facts, resolver),
                nonneg=nonneg_names(facts, resolver),
                np=alias or "np",
                subscript_counts=_subscript_counts(func),
                higher_rank=_rank_evidence(func),
                positions=positions,
            )
            for loop in candidates:
                found.extend(self._visit_loop(loop, ctx, module, alias is not None))
        found.sort(key=lambda o: (o.site.line, o.site.col))
        return found

    def _screen(
        self,
        node: cst.For,
        qual: str,
        module: SourceModule,
        positions: dict[int, Position],
        notes: list[Opportunity],
        candidates: list[cst.For],
    ) -> None:
        """Note loops that fail the syntactic screen (and look inside them); keep the rest."""
        reason = _syntactic_refusal(node)
        if reason is None:
            candidates.append(node)
            return
        site = _site(node, qual, module, positions, None)
        notes.append(_note(site, reason))
        for child in _top_loops(node.body):
            self._screen(child, qual, module, positions, notes, candidates)

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        """Replace each chosen loop by its planned statements; add the numpy import once."""
        wanted = {
            (o.data["line"], o.data["col"]): o
            for o in opportunities
            if o.pass_name == NAME and o.fixable and "replacement" in o.data
        }
        if not wanted:
            return module
        positions = for_positions(module.tree, module.code) or {
            id(node): (rng.start.line, rng.start.column, rng.end.line, rng.end.column)
            for node, rng in module.metadata().resolve(PositionProvider).items()
            if isinstance(node, cst.For)
        }
        transformer = _Replacer(wanted, positions)
        tree = module.tree.visit(transformer)
        if transformer.used_alias is not None:
            tree = ensure_numpy_import(tree, transformer.used_alias)
        return SourceModule.parse(tree.code, module.path)

    # -- analysis -------------------------------------------------------------------------

    def _visit_loop(
        self, node: cst.For, ctx: _Context, module: SourceModule, have_alias: bool
    ) -> list[Opportunity]:
        site = _site(node, ctx.facts.qualname, module, ctx.positions, ctx.resolver)
        line, col = site.line, site.col
        try:
            if not have_alias:
                raise Refusal("the names np and numpy are both taken by something else")
            if ctx.np in ctx.facts.stores or ctx.np in ctx.facts.params:
                raise Refusal(f"the function binds {ctx.np!r} itself")
            plan = _plan_nest(node, ctx)
        except Refusal as exc:
            note = _note(site, str(exc))
            inner: list[Opportunity] = [note]
            for child in _top_loops(node.body):
                inner.extend(self._visit_loop(child, ctx, module, have_alias))
            return inner
        return [
            Opportunity(
                pass_name=NAME,
                code=plan.kind,
                message=plan.message,
                rationale=plan.rationale
                + (
                    " Not proven statically: " + "; ".join(plan.unsafe.reasons) + "."
                    if plan.unsafe.reasons
                    else ""
                ),
                site=site,
                fixable=True,
                static_safe=not plan.unsafe.reasons,
                data={
                    "line": line,
                    "col": col,
                    "replacement": plan.code,
                    "numpy_alias": ctx.np,
                    "unsafe_reasons": tuple(plan.unsafe.reasons),
                },
            )
        ]


# --------------------------------------------------------------------------------------------
# loop discovery


def _note(site: Site, reason: str) -> Opportunity:
    """A GO190 note: the loop at `site` is left alone because of `reason`."""
    return Opportunity(
        pass_name=NAME,
        code="GO190",
        message=f"loop left alone: {reason}",
        rationale=(
            "vectorize only rewrites loops whose equivalence it can prove statically; "
            f"this one {reason}. The jit pass may still compile it."
        ),
        site=site,
        fixable=False,
        static_safe=False,
        data={"note": True, "line": site.line, "col": site.col, "reason": reason},
    )


def _site(
    node: cst.For,
    qual: str,
    module: SourceModule,
    positions: dict[int, Position],
    resolver: NameResolver | None,
) -> Site:
    """Where a loop is: from the ast positions, else from libcst metadata."""
    pos = positions.get(id(node))
    if pos is None:
        pos = (resolver or NameResolver(module.metadata())).position(node)
    line, col, end_line, end_col = pos
    return Site(
        path=module.path or "<string>",
        line=line,
        col=col,
        end_line=end_line,
        end_col=end_col,
        function=qual,
    )


def _syntactic_refusal(node: cst.For) -> str | None:
    """Why a loop cannot be vectorised, from its syntax alone (None: analyse it)."""
    if node.asynchronous is not None:
        return "async for loop"
    if node.orelse is not None:
        return "the loop has an else clause"
    if not isinstance(node.target, cst.Name):
        return "the loop target is not a single name"
    it = node.iter
    if not (
        isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range"
    ):
        return "the loop does not iterate over range(...)"
    reason = early_exit(node.body)
    if reason:
        return reason
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    if len(body) == 1 and isinstance(body[0], cst.For):
        inner = _syntactic_refusal(body[0])
        return f"inner loop: {inner}" if inner else None
    for stmt in body:
        if isinstance(stmt, cst.For):
            return "the body mixes statements and an inner loop (not a perfect nest)"
        if not isinstance(stmt, (cst.SimpleStatementLine, cst.If)):
            return f"a {type(stmt).__name__} statement in the body"
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Expr):
                    value = small.value
                    if isinstance(value, cst.Call):
                        func = value.func
                        if isinstance(func, cst.Name) and func.value in IO_BUILTINS:
                            return f"does I/O ({func.value})"
                        if isinstance(func, cst.Attribute):
                            return (
                                f"calls method .{func.attr.value}() (may mutate or have side "
                                "effects)"
                            )
                    what = node_code(value)
                    what = what if len(what) <= 40 else what[:37] + "..."
                    return f"a bare expression statement `{what}` (a call for its side effects)"
    return None


def _has_range_loop(code: str) -> bool:
    """Cheap text screen: does the module contain `for` and `range` at all?"""
    return "for " in code and "range" in code


def _top_loops(node: cst.CSTNode) -> list[cst.For]:
    """`for` statements in `node` not nested in another `for` or in a nested def/class."""
    return [
        n
        for n in walk(
            node, prune=lambda c: isinstance(c, (cst.For, cst.BaseExpression)) or is_scope(c)
        )
        if isinstance(n, cst.For) and n is not node
    ]


def _rank_evidence(func: cst.FunctionDef) -> dict[str, int]:
    """Ranks the function's own code reveals: `x.shape[2]` means at least 3 dimensions;
    `x.ndim` or `x.shape[1:]` mean rank-generic code (-1)."""
    out: dict[str, int] = {}
    for node in walk(func.body):
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            if node.attr.value == "ndim":
                out[node.value.value] = -1
        elif (
            isinstance(node, cst.Subscript)
            and isinstance(node.value, cst.Attribute)
            and node.value.attr.value == "shape"
            and isinstance(node.value.value, cst.Name)
        ):
            name = node.value.value.value
            if out.get(name) == -1:
                continue
            el = node.slice[0].slice if len(node.slice) == 1 else None
            if isinstance(el, cst.Index) and isinstance(el.value, cst.Integer):
                k = int(el.value.value, 0)
                out[name] = max(out.get(name, 0), k + 1)
            elif isinstance(el, cst.Index) and isinstance(el.value, cst.UnaryOperation):
                out[name] = -1  # x.shape[-1]: rank-generic
            else:
                out[name] = -1
    return out


def _subscript_counts(func: cst.FunctionDef) -> dict[str, set[int]]:
    """For each name subscripted in the function, the numbers of subscripts used
    (a chained `x[i][j]` counts as two subscripts, once)."""
    counts: dict[str, set[int]] = {}
    inner: set[int] = set()
    for node in walk(func.body):
        if not isinstance(node, cst.Subscript):
            continue
        if isinstance(node.value, cst.Subscript):
            inner.add(id(node.value))
        if id(node) in inner:
            continue
        flat = flatten_subscript(node)
        if flat is not None:
            counts.setdefault(flat[0].value, set()).add(len(flat[1]))
    return counts


# --------------------------------------------------------------------------------------------
# planning


@dataclass
class _Stmt:
    """One classified statement of the loop body."""

    kind: str  # elementwise | augwrite | temp | reduction | scatter | where | scan
    node: cst.CSTNode
    target: cst.BaseExpression | None = None
    value: cst.BaseExpression | None = None
    op: str = ""  # reduction op: sum|sub|prod|max|min ; aug op text for augwrite/scatter
    cond: cst.BaseExpression | None = None
    other: cst.BaseExpression | None = None  # else-branch value for `where`


def _plan_nest(node: cst.For, ctx: _Context) -> _Plan:
    nest = loop_nest(node, ctx.resolver)
    if isinstance(nest, str):
        raise Refusal(nest)
    reason = early_exit(node.body)
    if reason:
        raise Refusal(reason)
    loop_vars = nest.vars
    for var in loop_vars:
        if var in ctx.facts.params or var in ctx.facts.declared_nonlocal:
            raise Refusal(f"the loop index {var} is a parameter or global")
        if _used_outside_loops(var, ctx.facts, node):
            raise Refusal(f"the loop index {var} is used after the loop")
    stmts = _classify(nest, ctx)
    unsafe = _Unsafe()
    _check_names(stmts, nest, ctx, node, unsafe)
    accesses = _collect_accesses(stmts, nest, ctx)
    _check_ranks(accesses, ctx)
    _mark_partial_reduction(stmts, accesses, nest, ctx, unsafe)
    blocker = vectorization_blocker(
        [
            a
            for a in accesses
            if not _is_scatter_write(a, stmts)
            and not _is_scan_read(a, stmts)
            and stmts[a.stmt].kind != "rowreduce"
        ],
        loop_vars,
        ctx.arrays.relation,
    )
    if blocker:
        raise Refusal(blocker)
    _check_scatter(stmts, accesses, ctx)
    emitter = _Emitter(nest, ctx, unsafe)
    lines = [emitter.statement(s) for s in stmts]
    guard = emitter.guard()
    if guard:
        code = f"if {guard}:\n" + "".join(f"    {ln}\n" for ln in lines)
    else:
        code = "".join(f"{ln}\n" for ln in lines)
    kind, what = _kind(stmts, nest, accesses)
    rationale = (
        f"The loop over {', '.join(loop_vars)} has no early exit, no side effects and no "
        "loop-carried dependence that statement-by-statement execution would reverse, so "
        f"NumPy can run it as whole-array operations in compiled code ({what})."
    )
    first = code.splitlines()[0] if not guard else code.splitlines()[1].strip()
    message = f"{what}: `{first}`" if len(first) <= 90 else f"{what}"
    return _Plan(code=code, kind=kind, message=message, rationale=rationale, unsafe=unsafe)


def _kind(stmts: list[_Stmt], nest: LoopNest, accesses: list[Access]) -> tuple[str, str]:
    kinds = {s.kind for s in stmts}
    if "scatter" in kinds:
        return "GO106", "scatter loop can be np.add.at"
    if "scan" in kinds:
        return "GO105", "scan loop can be a cumulative NumPy function"
    if "where" in kinds:
        return "GO107", "conditional loop can be np.where"
    if "rowreduce" in kinds:
        return "GO102", "partial-sum loop nest can be np.sum(..., axis=...)"
    if len(nest.loops) > 1:
        return "GO103", f"{len(nest.loops)}-deep loop nest can be a slice expression"
    if "reduction" in kinds and not kinds & {"elementwise", "augwrite"}:
        return "GO102", "reduction loop can be a NumPy reduction"
    writes = {(a.array, a.indices) for a in accesses if a.write}
    for a in accesses:
        if not a.write and any(a.indices != w[1] and len(a.indices) == len(w[1]) for w in writes):
            return "GO104", "stencil loop can use shifted slices"
    return "GO101", "elementwise loop can be a slice expression"


def _used_outside_loops(var: str, facts: FunctionFacts, loop: cst.For) -> bool:
    """True when `var` is read anywhere not inside a `for` loop that binds `var`."""
    loads = facts.loads.get(var, [])
    if not loads:
        return False
    inside: set[int] = set()
    for node in walk(facts.node.body, prune=is_scope):
        if isinstance(node, cst.For) and _is_name(node.target, var):
            inside.update(id(n) for n in names_in(node))
    return any(id(n) not in inside for n in loads)


def _simple_statements(body: Sequence[cst.BaseStatement]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(s for s in stmt.body if not isinstance(s, cst.Pass))
        elif isinstance(stmt, cst.If):
            out.append(stmt)
        elif isinstance(stmt, cst.For):
            raise Refusal("the body mixes statements and an inner loop (not a perfect nest)")
        else:
            raise Refusal(early_exit(stmt) or f"a {type(stmt).__name__} statement in the body")
    if not out:
        raise Refusal("the body is empty")
    return out


def _classify(nest: LoopNest, ctx: _Context) -> list[_Stmt]:
    stmts: list[_Stmt] = []
    for node in _simple_statements(nest.body):
        if isinstance(node, cst.If):
            stmts.append(_classify_if(node, ctx))
            continue
        assert isinstance(node, cst.BaseSmallStatement)
        problem = statement_effect(node, ctx.resolver)
        if problem:
            raise Refusal(problem)
        if isinstance(node, cst.Assign):
            target = node.targets[0].target
            if isinstance(target, cst.Subscript):
                scan = _scan_of(target, node.value)
                stmts.append(
                    _Stmt("scan" if scan else "elementwise", node, target, node.value, op=scan)
                )
            elif isinstance(target, cst.Name):
                red = _assign_reduction(target.value, node.value, ctx)
                if red is not None:
                    op, value = red
                    stmts.append(_Stmt("reduction", node, target, value, op))
                else:
                    stmts.append(_Stmt("temp", node, target, node.value))
            else:
                raise Refusal("assigns to several targets at once")
        elif isinstance(node, cst.AugAssign):
            op = _AUG_OPS.get(type(node.operator))
            target = node.target
            if isinstance(target, cst.Name):
                if op not in ("sum", "sub", "prod"):
                    raise Refusal("augmented assignment other than +=, -=, *= to a scalar")
                stmts.append(_Stmt("reduction", node, target, node.value, op))
            elif isinstance(target, cst.Subscript):
                if op is None:
                    raise Refusal("unsupported augmented operator")
                kind = "scatter" if _is_indirect(target, ctx) else "augwrite"
                stmts.append(_Stmt(kind, node, target, node.value, op))
            else:
                raise Refusal("augmented assignment to an attribute")
        else:
            raise Refusal(f"a {type(node).__name__} statement in the body")
    return stmts


_AUG_OPS: dict[type, str] = {
    cst.AddAssign: "sum",
    cst.SubtractAssign: "sub",
    cst.MultiplyAssign: "prod",
}

_AUG_TEXT = {"sum": "+=", "sub": "-=", "prod": "*="}
_UFUNC_OF = {"sum": "add", "sub": "subtract", "prod": "multiply"}


def _is_indirect(target: cst.Subscript, ctx: _Context) -> bool:
    """True when a subscript of `target` is not affine (e.g. `h[idx[i]]`)."""
    acc = summarize(target, True, 0, _index_atom(ctx))
    return acc is not None and not acc.affine and not acc.has_slice


def _assign_reduction(
    name: str, value: cst.BaseExpression, ctx: _Context
) -> tuple[str, cst.BaseExpression] | None:
    """`s = s + e` / `s = e + s` / `s = s * e` / `s = max(s, e)` / `s = min(s, e)`."""
    if isinstance(value, cst.BinaryOperation) and isinstance(
        value.operator, (cst.Add, cst.Multiply)
    ):
        op = "sum" if isinstance(value.operator, cst.Add) else "prod"
        if _is_name(value.left, name) and not _mentions(value.right, name):
            return op, value.right
        if _is_name(value.right, name) and not _mentions(value.left, name):
            return op, value.left
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Subtract):
        if _is_name(value.left, name) and not _mentions(value.right, name):
            return "sub", value.right
    if isinstance(value, cst.Call) and len(value.args) == 2:
        builtin = ctx.resolver.builtin_name(value.func)
        if builtin in ("max", "min") and all(a.keyword is None and not a.star for a in value.args):
            first, second = value.args[0].value, value.args[1].value
            if _is_name(first, name) and not _mentions(second, name):
                return builtin, second
    return None


def _classify_if(node: cst.If, ctx: _Context) -> _Stmt:
    """`if c: t[..] = e1 [else: t[..] = e2]` -> where; `if e > s: s = e` -> max/min."""
    if isinstance(node.orelse, cst.If):
        raise Refusal("an elif chain in the body")
    then = _single_assign(node.body)
    other = _single_assign(node.orelse.body) if node.orelse is not None else None
    if then is None or (node.orelse is not None and other is None):
        raise Refusal("an if statement that is not a single assignment per branch")
    for assign in (then, other):
        if assign is not None:
            problem = statement_effect(assign, ctx.resolver)
            if problem:
                raise Refusal(problem)
    problem = expression_effect(node.test, ctx.resolver)
    if problem:
        raise Refusal(problem)
    target = then.targets[0].target
    if isinstance(target, cst.Name) and other is None:
        red = _if_reduction(node.test, target.value, then.value)
        if red is None:
            raise Refusal("a conditional scalar assignment that is not a max/min reduction")
        return _Stmt("reduction", node, target, then.value, red)
    if not isinstance(target, cst.Subscript):
        raise Refusal("a conditional assignment to a scalar")
    if other is not None and node_code(other.targets[0].target) != node_code(target):
        raise Refusal("the branches assign different elements")
    for expr in (node.test, then.value, other.value if other is not None else None):
        if expr is not None:
            why = _not_total(expr, ctx)
            if why:
                raise Refusal(f"{why}, evaluated for every element by np.where")
    return _Stmt(
        "where", node, target, then.value, cond=node.test,
        other=other.value if other is not None else None,
    )  # fmt: skip


def _if_reduction(test: cst.BaseExpression, name: str, value: cst.BaseExpression) -> str | None:
    """`if e > s: s = e` -> "max"; `if e < s: s = e` -> "min" (also `s < e`, >=, <=)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    left, comp = test.left, test.comparisons[0]
    right = comp.comparator
    op = comp.operator
    e_code = node_code(value)
    if _mentions(value, name):
        return None
    if node_code(left) == e_code and _is_name(right, name):
        if isinstance(op, (cst.GreaterThan, cst.GreaterThanEqual)):
            return "max"
        if isinstance(op, (cst.LessThan, cst.LessThanEqual)):
            return "min"
    if _is_name(left, name) and node_code(right) == e_code:
        if isinstance(op, (cst.LessThan, cst.LessThanEqual)):
            return "max"
        if isinstance(op, (cst.GreaterThan, cst.GreaterThanEqual)):
            return "min"
    return None


def _single_assign(block: cst.BaseSuite) -> cst.Assign | None:
    body = block.body if isinstance(block, cst.IndentedBlock) else [block]
    if len(body) != 1:
        return None
    line = body[0]
    small = (
        line.body if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else None
    )
    if small is None or len(small) != 1 or not isinstance(small[0], cst.Assign):
        return None
    assign = small[0]
    return assign if len(assign.targets) == 1 else None


_TOTAL_BINOPS = (cst.Add, cst.Subtract, cst.Multiply, cst.BitAnd, cst.BitOr, cst.BitXor)


def _not_total(expr: cst.BaseExpression, ctx: _Context) -> str | None:
    """Why `expr` might warn or raise for some element (None: it never does)."""
    for node in walk(expr):
        if isinstance(node, cst.BinaryOperation) and not isinstance(node.operator, _TOTAL_BINOPS):
            return f"operator {type(node.operator).__name__.lower()} may warn"
        if isinstance(node, cst.Call):
            np_name = ctx.resolver.numpy_name(node.func)
            if np_name is not None and np_name not in TOTAL_UFUNCS:
                return f"numpy.{np_name} may warn"
        if isinstance(node, cst.BooleanOperation):
            for side in (node.left, node.right):
                if not isinstance(side, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation)):
                    return "and/or on a non-comparison"
        if isinstance(node, cst.Comparison):
            if len(node.comparisons) != 1:
                return "a chained comparison"
            if isinstance(node.comparisons[0].operator, (cst.In, cst.NotIn, cst.Is, cst.IsNot)):
                return "an in/is comparison"
    return None


def _scan_of(target: cst.Subscript, value: cst.BaseExpression) -> str:
    """'cumsum'/'cumprod' when `value` is `target[i-1] + e` (or `e + target[i-1]`, `*`)."""
    if not isinstance(value, cst.BinaryOperation):
        return ""
    if not isinstance(value.operator, (cst.Add, cst.Multiply)):
        return ""
    flat = flatten_subscript(target)
    if flat is None:
        return ""
    base = flat[0].value
    atom_of = bound_atom_for_scan
    target_acc = summarize(target, True, 0, atom_of)
    if target_acc is None or len(target_acc.indices) != 1 or target_acc.indices[0] is None:
        return ""
    for side, other in ((value.left, value.right), (value.right, value.left)):
        if isinstance(side, cst.Subscript):
            f = flatten_subscript(side)
            if f is not None and f[0].value == base and not _mentions(other, base):
                acc = summarize(side, False, 0, atom_of)
                if acc is not None and acc.indices == (target_acc.indices[0].plus(-1),):
                    return "cumsum" if isinstance(value.operator, cst.Add) else "cumprod"
    return ""


def bound_atom_for_scan(node: cst.BaseExpression) -> str | None:
    """Names only: enough to compare `c[i]` with `c[i - 1]`."""
    return node.value if isinstance(node, cst.Name) else None


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return any(n.value == name for n in names_in(node))


def _names_in(node: cst.CSTNode) -> set[str]:
    """Names read as variables in `node` (not attribute names, not called builtins' names)."""
    out: set[str] = set()
    skip: set[int] = set()
    for n in walk(node):
        if isinstance(n, cst.Attribute):
            skip.add(id(n.attr))
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
            skip.add(id(n.func))
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            skip.add(id(n.keyword))
        elif isinstance(n, cst.Name) and id(n) not in skip:
            out.add(n.value)
    return out


def _check_names(
    stmts: list[_Stmt], nest: LoopNest, ctx: _Context, loop: cst.For, unsafe: _Unsafe
) -> None:
    """Scalars, temporaries and accumulators: single role, not leaking out of the loop."""
    loop_vars = set(nest.vars)
    reductions: dict[str, _Stmt] = {}
    temps: dict[str, int] = {}
    for k, s in enumerate(stmts):
        if s.kind in ("reduction", "temp"):
            assert isinstance(s.target, cst.Name)
            name = s.target.value
            if name in reductions or name in temps or name in loop_vars:
                raise Refusal(f"{name} is assigned more than once in the loop")
            if s.kind == "reduction":
                reductions[name] = s
            else:
                temps[name] = k
    for s in stmts:
        for part in (s.value, s.cond, s.other):
            if part is not None and any(isinstance(n, _CONTAINER_LITERALS) for n in walk(part)):
                raise Refusal("a string or container literal in the loop (lists and str iterate)")
    for k, s in enumerate(stmts):
        used = set()
        for part in (s.value, s.cond, s.other):
            if part is not None:
                used |= _names_in(part)
        if isinstance(s.target, cst.Subscript):
            used |= _names_in(s.target)
        for name in used & set(reductions):
            if reductions[name] is not s or _mentions(s.value, name):  # type: ignore[arg-type]
                raise Refusal(f"the accumulator {name} is read inside the loop")
        for name in used & set(temps):
            if temps[name] >= k:
                raise Refusal(f"{name} is read before it is assigned in an iteration")
        for name in used - loop_vars - set(temps) - set(reductions):
            if name in ctx.subscript_counts and not _only_subscripted(name, s):
                raise Refusal(f"the array {name} is used without a subscript")
    for name in temps:
        if _used_outside(name, ctx.facts, loop):
            raise Refusal(f"the temporary {name} is used outside the loop")
    assigned = set(temps) | set(reductions)
    for lp in nest.loops:
        clash = (lp.start.atoms() | lp.stop.atoms()) & assigned
        if clash:
            raise Refusal(f"the loop bound uses {', '.join(sorted(clash))}, assigned in the loop")
    temp_values = [t.value for t in stmts if t.kind == "temp" and t.value is not None]
    for name, s in reductions.items():
        if s.op in ("sum", "sub", "prod"):
            reads = list(_subscripts_in(s.value))
            if _names_in(s.value) & set(temps):
                for value in temp_values:
                    reads.extend(_subscripts_in(value))
            if not reads:
                raise Refusal(
                    f"the reduction into {name} is Python arithmetic on the loop index "
                    "(Python ints never overflow, NumPy int64 does)"
                )
            arrays = {flatten_subscript(r)[0].value for r in reads if flatten_subscript(r)}
            if not all(ctx.arrays.is_float64(a) for a in arrays):
                unsafe.add(
                    f"the {'product' if s.op == 'prod' else 'sum'} into {name} is reassociated; "
                    "exact for int64 and within rtol 1e-9 for float64, but the dtype of "
                    f"{', '.join(sorted(arrays))} is not visible here (int32/float32 differ)"
                )


_CONTAINER_LITERALS = (
    cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.List, cst.Tuple,
    cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp,
)  # fmt: skip


def _subscripts_in(node: cst.CSTNode | None) -> list[cst.Subscript]:
    """Outermost subscripts in `node`."""
    if node is None:
        return []
    return [
        n
        for n in walk(node, prune=lambda c: isinstance(c, cst.Subscript))
        if isinstance(n, cst.Subscript)
    ]


def _only_subscripted(name: str, s: _Stmt) -> bool:
    """True when every mention of `name` in `s` is the base of a subscript, `len(name)`
    or an attribute such as `name.shape`."""
    allowed: set[int] = set()
    for part in (s.value, s.cond, s.other, s.target):
        if part is None:
            continue
        for n in walk(part):
            if isinstance(n, cst.Subscript):
                base: cst.BaseExpression = n
                while isinstance(base, cst.Subscript):
                    base = base.value
                allowed.add(id(base))
            elif isinstance(n, cst.Attribute):
                allowed.add(id(n.value))
                allowed.add(id(n.attr))
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "len":
                allowed.update(id(a.value) for a in n.args)
            elif isinstance(n, cst.Name) and n.value == name and id(n) not in allowed:
                return False
    return True


def _used_outside(name: str, facts: FunctionFacts, loop: cst.For) -> bool:
    loads = facts.loads.get(name, [])
    inside = {id(n) for n in names_in(loop)}
    return any(id(n) not in inside for n in loads) or len(facts.stores.get(name, [])) > 1


def _index_atom(ctx: _Context) -> Callable[[cst.BaseExpression], str | None]:
    """Atoms allowed in subscripts: loop variables and loop-invariant sizes and names."""
    return bound_atom(ctx.resolver)


def _collect_accesses(stmts: list[_Stmt], nest: LoopNest, ctx: _Context) -> list[Access]:
    atom_of = _index_atom(ctx)
    out: list[Access] = []
    written_names = {s.target.value for s in stmts if isinstance(s.target, cst.Name)}
    for k, s in enumerate(stmts):
        if s.kind == "where" or (s.kind == "reduction" and isinstance(s.node, cst.If)):
            parts: list[cst.CSTNode] = [p for p in (s.cond, s.value, s.other) if p is not None]
            for part in parts:
                for sub in _read_subs(part):
                    acc = summarize(sub, False, k, atom_of)
                    if acc is None:
                        raise Refusal("a subscript of something that is not a plain name")
                    out.append(acc)
            if s.kind == "where":
                assert isinstance(s.target, cst.Subscript)
                acc = summarize(s.target, True, k, atom_of)
                if acc is None:
                    raise Refusal("writes into something that is not a plain name")
                if s.other is None:  # the untouched elements are read back
                    out.append(Access(acc.array, acc.indices, False, k, acc.node, acc.has_slice))
                out.append(acc)
            continue
        assert isinstance(s.node, (cst.Assign, cst.AugAssign))
        accs = statement_accesses(s.node, k, atom_of)
        if accs is None:
            raise Refusal("a subscript of something that is not a plain name")
        out.extend(accs)
    for acc in out:
        if acc.has_slice:
            raise Refusal(f"{acc.array} is indexed with a slice inside the loop")
        atoms = set().union(*(ix.atoms() for ix in acc.indices if ix is not None))
        if atoms & written_names:
            raise Refusal("a subscript uses a name assigned in the loop")
    for acc in out:
        if acc.write and acc.array in {p for p in written_names}:
            raise Refusal(f"{acc.array} is both a scalar and an array in the loop")
    return out


def _read_subs(node: cst.CSTNode) -> list[cst.Subscript]:
    return read_subscripts(node)


def _check_ranks(accesses: list[Access], ctx: _Context) -> None:
    for acc in accesses:
        if ctx.arrays.is_python_container(acc.array):
            raise Refusal(f"{acc.array} is a Python list/tuple/dict/str, not a NumPy array")
        more = ctx.higher_rank.get(acc.array, 0)
        if more > len(acc.indices) or (more < 0 and acc.array in ctx.higher_rank):
            raise Refusal(
                f"{acc.array} may have more dimensions than its {len(acc.indices)} subscript(s) "
                "(its shape/ndim is used): rows and elements cannot be told apart"
            )
        counts = ctx.subscript_counts.get(acc.array, set())
        if len(counts) > 1:
            raise Refusal(
                f"{acc.array} is used with {' and '.join(str(c) for c in sorted(counts))} "
                "subscripts in the function: rows and elements cannot be told apart"
            )
        rank = ctx.arrays.rank(acc.array)
        if rank is not None and rank != len(acc.indices):
            raise Refusal(
                f"{acc.array} has {rank} dimensions but is indexed with {len(acc.indices)}"
            )


def _is_scatter_write(acc: Access, stmts: list[_Stmt]) -> bool:
    return acc.stmt < len(stmts) and stmts[acc.stmt].kind == "scatter" and not acc.affine


def _mark_partial_reduction(
    stmts: list[_Stmt], accesses: list[Access], nest: LoopNest, ctx: _Context, unsafe: _Unsafe
) -> None:
    """`out[i] += e(i, j)` alone in an `i, j` nest: a sum over the indices missing from the
    target (`np.sum(..., axis=...)`). Marks the statement kind "rowreduce" when legal."""
    if len(stmts) != 1 or stmts[0].kind != "augwrite" or stmts[0].op not in ("sum", "sub"):
        return
    s = stmts[0]
    writes = [a for a in accesses if a.write]
    if len(writes) != 1 or not writes[0].affine:
        return
    target = writes[0]
    dims = target.loop_vars(nest.vars)
    used = [v for v in dims if v]
    if None in dims or len(set(used)) != len(used) or not used:
        return
    missing = [v for v in nest.vars if v not in used]
    if not missing or [v for v in nest.vars if v in used] != used:
        return  # every index present (plain elementwise) or a transposed target
    for acc in accesses:
        if acc.node is target.node:
            continue
        if acc.array == target.array:
            raise Refusal(f"{target.array} is read while it accumulates a partial sum")
        if ctx.arrays.relation(acc.array, target.array) is not Relation.DISJOINT:
            raise Refusal(f"{target.array} and {acc.array} may share memory")
    arrays = {a.array for a in accesses if a.node is not target.node}
    if not all(ctx.arrays.is_float64(a) for a in arrays | {target.array}):
        unsafe.add(
            f"the sum into {target.array} over {', '.join(missing)} is reassociated; exact "
            "for int64 and within rtol 1e-9 for float64, but the dtypes are not visible here"
        )
    s.kind = "rowreduce"


def _is_scan_read(acc: Access, stmts: list[_Stmt]) -> bool:
    """The read of the previous element in a scan statement (checked by the emitter)."""
    if acc.write or acc.stmt >= len(stmts) or stmts[acc.stmt].kind != "scan":
        return False
    if len(stmts) != 1:
        raise Refusal("a scan together with other statements")
    target = stmts[acc.stmt].target
    assert isinstance(target, cst.Subscript)
    flat = flatten_subscript(target)
    return flat is not None and flat[0].value == acc.array


def _check_scatter(stmts: list[_Stmt], accesses: list[Access], ctx: _Context) -> None:
    for s in stmts:
        if s.kind != "scatter":
            continue
        assert isinstance(s.target, cst.Subscript)
        flat = flatten_subscript(s.target)
        assert flat is not None
        base = flat[0].value
        if len(flat[1]) != 1:
            raise Refusal("a multi-dimensional scatter")
        if len(stmts) != 1:
            raise Refusal("a scatter together with other statements")
        for acc in accesses:
            if acc.array == base and acc.node is not s.target:
                raise Refusal(f"{base} is read elsewhere in the scatter loop")
            if acc.array != base and ctx.arrays.relation(acc.array, base) is not Relation.DISJOINT:
                raise Refusal(f"{base} and {acc.array} may share memory")


# --------------------------------------------------------------------------------------------
# emission


class _Emitter:
    """Turns classified statements into slice-expression code for one loop nest."""

    def __init__(self, nest: LoopNest, ctx: _Context, unsafe: _Unsafe) -> None:
        self.nest = nest
        self.ctx = ctx
        self.unsafe = unsafe
        self.vars = nest.vars
        self.loops = {lp.var: lp for lp in nest.loops}
        self.atom_of = _index_atom(ctx)
        self.needs_guard = False
        self.needs_nonempty = False
        self.temp_vars: dict[str, set[str]] = {}  # temporary -> loop indices it depends on
        self.guard_vars: set[str] = set()  # loops whose slice stops may be negative

    # guards ---------------------------------------------------------------------------

    def _nonneg_atom(self, atom: str) -> bool:
        if atom in self.ctx.nonneg:
            return True
        return atom.startswith("len(") or ".shape[" in atom or atom.endswith(".size")

    def guard(self) -> str:
        """The condition under which the loop runs at least once, when a guard is needed."""
        if not (self.needs_guard or self.needs_nonempty):
            return ""
        clauses: list[str] = []
        for lp in self.nest.loops:
            if not self.needs_nonempty and lp.var not in self.guard_vars:
                continue  # its slices are empty whenever the loop is (stops are >= 0)
            trip = lp.stop - lp.start
            if trip.plus(-1).nonneg(self._nonneg_atom):
                continue  # provably at least one iteration
            pos = Affine(tuple((a, c) for a, c in trip.terms if c > 0), 0)
            neg = Affine(tuple((a, -c) for a, c in trip.terms if c < 0), -trip.const)
            left = pos.code()
            clauses.append(f"{left} > {neg.code()}")
        return " and ".join(clauses)

    # subscripts -----------------------------------------------------------------------

    def slice_of(
        self, node: cst.Subscript, order: Sequence[str] | None = None
    ) -> cst.BaseExpression:
        """The vectorised form of an array access (`x[i-1]` -> `x[:n - 1]`).

        Loop indices the access does not use get a `None` (new axis) so that it
        broadcasts over the nest, unless `order` names the only indices to lay out.
        """
        flat = flatten_subscript(node)
        if flat is None:
            raise Refusal("a subscript of something that is not a plain name")
        base, elements = flat
        acc = summarize(node, False, 0, self.atom_of)
        assert acc is not None
        order = list(self.vars if order is None else order)
        pieces: list[str] = []
        emitted: list[str] = []
        full = True
        for dim, (el, ix) in enumerate(zip(elements, acc.indices, strict=True)):
            if ix is None:
                raise Refusal(f"the subscript of {base.value} is not affine")
            used = [v for v in order if ix.coef(v)]
            if not used:
                pieces.append(node_code(el.slice.value))  # type: ignore[union-attr]
                full = False
                continue
            if len(used) > 1:
                raise Refusal(f"a subscript of {base.value} mixes loop indices")
            var = used[0]
            # insert None for loop variables (in write order) that this access skips
            for v in order[len(emitted) :]:
                if v == var:
                    break
                if v not in emitted:
                    pieces.append("None")
                    emitted.append(v)
                    full = False
            if var in emitted:
                raise Refusal(f"{base.value} is indexed in a transposed order")
            emitted.append(var)
            text, whole = self._slice_text(ix, var, base.value, dim)
            full = full and whole
            pieces.append(text)
        for v in order:
            if v not in emitted:
                pieces.append("None")
                full = False
        if full:
            return cst.Name(base.value)
        return cst.parse_expression(f"{base.value}[{', '.join(pieces)}]")

    def _slice_text(self, ix: Affine, var: str, base: str, dim: int) -> tuple[str, bool]:
        coef = ix.coef(var)
        if coef <= 0:
            raise Refusal("a subscript runs backwards (negative stride)")
        lp = self.loops[var]
        start = ix.substitute(var, lp.start)
        stop = ix.substitute(var, lp.stop)
        step = coef * lp.step
        if not start.nonneg(self._nonneg_atom):
            raise Refusal(
                f"the first subscript {start.code()} of {base} may be negative (it would wrap)"
            )
        if not stop.nonneg(self._nonneg_atom):
            self.needs_guard = True
            self.guard_vars.add(var)
        start_text = "" if start.is_const and start.const == 0 else start.code()
        stop_text = stop.code()
        whole_names = {f"len({base})"} if dim == 0 else set()
        whole_names.add(f"{base}.shape[{dim}]")
        to_end = step == 1 and stop_text in whole_names
        whole = not start_text and to_end
        if to_end:
            stop_text = ""
        text = f"{start_text}:{stop_text}" + (f":{step}" if step != 1 else "")
        return text, whole

    def index_values(self, var: str) -> cst.BaseExpression:
        """The loop index as an array (`np.arange(lo, hi)`) broadcast to the nest's shape."""
        lp = self.loops[var]
        self.unsafe.add(
            f"the loop index {var} is used as a value (NumPy int64 instead of Python int)"
        )
        args = (
            lp.stop.code()
            if lp.start.is_const and lp.start.const == 0
            else (f"{lp.start.code()}, {lp.stop.code()}")
        )
        if lp.step != 1:
            args = f"{lp.start.code()}, {lp.stop.code()}, {lp.step}"
        text = f"{self.ctx.np}.arange({args})"
        if len(self.vars) > 1:
            pos = self.vars.index(var)
            idx = ", ".join(":" if k == pos else "None" for k in range(len(self.vars)))
            text = f"{text}[{idx}]"
        return cst.parse_expression(text)

    def vector(self, expr: cst.BaseExpression) -> cst.BaseExpression:
        """`expr` with every array access and loop index replaced by its vectorised form."""
        return expr.visit(_Vectoriser(self))  # type: ignore[return-value]

    def code(self, expr: cst.BaseExpression) -> str:
        return node_code(self.vector(expr))

    def _covers_all_vars(self, expr: cst.BaseExpression) -> bool:
        found: set[str] = set()
        for sub in _subscripts_in(expr):
            acc = summarize(sub, False, 0, self.atom_of)
            if acc is not None:
                for ix in acc.indices:
                    if ix is not None:
                        found |= ix.atoms() & set(self.vars)
        names = _names_in(expr)
        found |= names & set(self.vars)
        for name in names:
            found |= self.temp_vars.get(name, set())
        return found == set(self.vars)

    def _covers_var(self, expr: cst.BaseExpression, var: str) -> bool:
        saved = self.vars
        try:
            self.vars = (var,)
            return self._covers_all_vars(expr)
        finally:
            self.vars = saved

    # statements -----------------------------------------------------------------------

    def statement(self, s: _Stmt) -> str:
        np_ = self.ctx.np
        if s.kind == "rowreduce":
            assert isinstance(s.target, cst.Subscript) and s.value is not None
            if not self._covers_all_vars(s.value):
                raise Refusal("the partial sum does not depend on every loop index")
            acc = summarize(s.target, True, 0, self.atom_of)
            assert acc is not None
            kept = [v for v in acc.loop_vars(self.vars) if v]
            target = node_code(self.slice_of(s.target, kept))
            if target.isidentifier():
                target += "[...]"
            contraction = self._contraction(s.value, kept)
            if contraction is not None:
                return f"{target} {_AUG_TEXT[s.op]} {contraction}"
            axes = [k for k, v in enumerate(self.vars) if v not in kept]
            axis = str(axes[0]) if len(axes) == 1 else "(" + ", ".join(map(str, axes)) + ")"
            return f"{target} {_AUG_TEXT[s.op]} {np_}.sum({self.code(s.value)}, axis={axis})"
        if s.kind in ("elementwise", "augwrite", "where", "scan"):
            assert isinstance(s.target, cst.Subscript)
            target = node_code(self.slice_of(s.target))
            if target.isidentifier():
                target += "[:]" if len(self.vars) == 1 else "[...]"
        if s.kind == "elementwise":
            return f"{target} = {self.code(s.value)}"  # type: ignore[arg-type]
        if s.kind == "augwrite":
            return f"{target} {_AUG_TEXT[s.op]} {self.code(s.value)}"  # type: ignore[arg-type]
        if s.kind == "temp":
            assert isinstance(s.target, cst.Name) and s.value is not None
            self.temp_vars[s.target.value] = {v for v in self.vars if self._covers_var(s.value, v)}
            return f"{node_code(s.target)} = {self.code(s.value)}"  # type: ignore[arg-type]
        if s.kind == "where":
            cond = self._condition(s.cond, top=True)  # type: ignore[arg-type]
            then = self.code(s.value)  # type: ignore[arg-type]
            other = (
                self.code(s.other) if s.other is not None else node_code(self.slice_of(s.target))  # type: ignore[arg-type]
            )
            return f"{target} = {np_}.where({cond}, {then}, {other})"
        if s.kind == "reduction":
            return self._reduction(s)
        if s.kind == "scatter":
            return self._scatter(s)
        if s.kind == "scan":
            return self._scan(s, target)
        raise Refusal(f"unsupported statement kind {s.kind}")

    def _condition(self, test: cst.BaseExpression, top: bool = False) -> str:
        """The condition as a boolean array expression (`and` -> `&`, `not` -> `~`).

        A bare array element (`if mask[i]:`) is accepted only as the whole condition:
        `np.where` tests truthiness like `if` does, but `&`, `|`, `~` on integer
        arrays are bitwise, not logical.
        """
        if top and isinstance(test, cst.Subscript):
            return self.code(test)
        if isinstance(test, cst.BooleanOperation):
            op = "&" if isinstance(test.operator, cst.And) else "|"
            return f"({self._condition(test.left)}) {op} ({self._condition(test.right)})"
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return f"~({self._condition(test.expression)})"
        if not isinstance(test, cst.Comparison):
            raise Refusal("a condition that is not a comparison")
        return self.code(test.with_changes(lpar=(), rpar=()))

    def _reduction(self, s: _Stmt) -> str:
        np_ = self.ctx.np
        assert isinstance(s.target, cst.Name) and s.value is not None
        name = s.target.value
        if not self._covers_all_vars(s.value):
            raise Refusal(f"the reduction into {name} does not depend on every loop index")
        if s.op in ("max", "min"):
            self.needs_nonempty = True
            ufunc = "fmax" if s.op == "max" else "fmin"
            return f"{name} = {s.op}({name}, {np_}.{ufunc}.reduce({self.code(s.value)}, axis=None))"
        reduced = self._dot(s.value) if s.op in ("sum", "sub") else None
        if reduced is None:
            func = "prod" if s.op == "prod" else "sum"
            reduced = f"{np_}.{func}({self.code(s.value)})"
        op_text = _AUG_TEXT[s.op]
        if isinstance(s.node, cst.Assign):
            sym = {"sum": "+", "sub": "-", "prod": "*"}[s.op]
            return f"{name} = {name} {sym} {reduced}"
        return f"{name} {op_text} {reduced}"

    def _contraction(self, value: cst.BaseExpression, kept: Sequence[str]) -> str | None:
        """`np.dot(X, Y)` for `X[a, c] * Y[c, b]` summed over the one missing index `c`
        (matrix-matrix, matrix-vector and vector-matrix products), else None."""
        missing = [v for v in self.vars if v not in kept]
        if len(missing) != 1 or not (
            isinstance(value, cst.BinaryOperation)
            and isinstance(value.operator, cst.Multiply)
            and isinstance(value.left, cst.Subscript)
            and isinstance(value.right, cst.Subscript)
            and not value.lpar
        ):
            return None
        (c,) = missing
        parts: list[tuple[cst.Subscript, list[str]]] = []
        for side in (value.left, value.right):
            acc = summarize(side, False, 0, self.atom_of)
            if acc is None or not acc.affine:
                return None
            dims = acc.loop_vars(self.vars)
            if None in dims:
                return None
            parts.append((side, [v for v in dims if v]))  # type: ignore[misc]
        (x, xv), (y, yv) = parts
        if not xv or not yv or xv[-1] != c or yv[0] != c:
            return None
        if c in xv[:-1] or c in yv[1:] or xv[:-1] + yv[1:] != list(kept):
            return None
        if len(xv) > 2 or len(yv) > 2:
            return None  # np.dot contracts the last axis of X with the second-to-last of Y
        left = node_code(self.slice_of(x, xv))
        right = node_code(self.slice_of(y, yv))
        return f"{self.ctx.np}.dot({left}, {right})"

    def _dot(self, value: cst.BaseExpression) -> str | None:
        """`np.dot(x[..], y[..])` for `x[i] * y[i]` in a single loop."""
        if len(self.vars) != 1:
            return None
        if not (
            isinstance(value, cst.BinaryOperation)
            and isinstance(value.operator, cst.Multiply)
            and isinstance(value.left, cst.Subscript)
            and isinstance(value.right, cst.Subscript)
            and not value.lpar
        ):
            return None
        left = node_code(self.slice_of(value.left))
        right = node_code(self.slice_of(value.right))
        return f"{self.ctx.np}.dot({left}, {right})"

    def _scatter(self, s: _Stmt) -> str:
        if len(self.vars) != 1:
            raise Refusal("a scatter inside a loop nest")
        assert isinstance(s.target, cst.Subscript) and s.value is not None
        flat = flatten_subscript(s.target)
        assert flat is not None
        base, elements = flat
        index = elements[0].slice
        if not isinstance(index, cst.Index):
            raise Refusal("a scatter with a sliced index")
        if not self._covers_all_vars(index.value):
            raise Refusal("the scatter index does not depend on the loop index")
        return (
            f"{self.ctx.np}.{_UFUNC_OF[s.op]}.at({base.value}, {self.code(index.value)}, "
            f"{self.code(s.value)})"
        )

    def _scan(self, s: _Stmt, target: str) -> str:
        if len(self.vars) != 1:
            raise Refusal("a scan inside a loop nest")
        assert isinstance(s.target, cst.Subscript) and isinstance(s.value, cst.BinaryOperation)
        var = self.vars[0]
        lp = self.loops[var]
        acc = summarize(s.target, True, 0, self.atom_of)
        assert acc is not None
        if len(acc.indices) != 1 or acc.indices[0] is None or lp.step != 1:
            raise Refusal("a multi-dimensional or strided scan")
        ix = acc.indices[0]
        if ix.coef(var) != 1:
            raise Refusal("a scan with a non-unit stride")
        base = acc.array
        value = s.value
        prev, elem = (value.left, value.right)
        if not (isinstance(prev, cst.Subscript) and flatten_subscript(prev)[0].value == base):  # type: ignore[index]
            prev, elem = value.right, value.left
        pacc = summarize(prev, False, 0, self.atom_of)  # type: ignore[arg-type]
        if pacc is None or len(pacc.indices) != 1 or pacc.indices[0] != ix.plus(-1):
            raise Refusal("a recurrence that is not a running sum/product of the previous element")
        if _mentions(elem, base):
            raise Refusal("a recurrence that reads its array elsewhere")
        if not self._covers_all_vars(elem):
            raise Refusal("the scanned term does not depend on the loop index")
        first = ix.substitute(var, lp.start)
        seed_start = first.plus(-1)
        if not seed_start.nonneg(self._nonneg_atom):
            raise Refusal(f"the scan reads {base}[{seed_start.code()}], which may be negative")
        func = "cumsum" if isinstance(value.operator, cst.Add) else "cumprod"
        arrays = {a.array for a in [acc]} | {
            flatten_subscript(r)[0].value  # type: ignore[index]
            for r in _subscripts_in(elem)
            if flatten_subscript(r) is not None
        }
        if not all(self.ctx.arrays.is_float64(a) for a in arrays):
            self.unsafe.add(
                f"the scan casts each partial result to {base}'s dtype; exact only when "
                f"{', '.join(sorted(arrays))} share one dtype, which is not visible here"
            )
        seed = f"{base}[{seed_start.code()}:{first.code()}]"
        stop = ix.substitute(var, lp.stop)
        if not stop.nonneg(self._nonneg_atom):
            self.needs_guard = True
            self.guard_vars.add(var)
        return (
            f"{target} = {self.ctx.np}.{func}({self.ctx.np}.concatenate(({seed}, "
            f"{self.code(elem)})))[1:]"
        )


class _Vectoriser(cst.CSTTransformer):
    """Replaces array accesses, the loop index and builtins inside one expression."""

    def __init__(self, emitter: _Emitter) -> None:
        self.e = emitter
        self.depth = 0

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        return False  # replaced whole in leave_Subscript

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        flat = flatten_subscript(original_node)
        if not (_names_in(original_node) & set(self.e.vars)):
            return updated_node  # loop-invariant (`x.shape[0]`, `w[k]`)
        if flat is None:
            raise Refusal("a subscript of something that is not a plain name")
        acc = summarize(original_node, False, 0, self.e.atom_of)
        if acc is not None and acc.affine:
            return self.e.slice_of(original_node).with_changes(
                lpar=original_node.lpar, rpar=original_node.rpar
            )
        # an indirect access `x[idx[i]]`: gather with the vectorised index
        base, elements = flat
        if len(elements) != 1 or not isinstance(elements[0].slice, cst.Index):
            raise Refusal(f"an indirect multi-dimensional access of {base.value}")
        inner = self.e.vector(elements[0].slice.value)
        return cst.parse_expression(f"{base.value}[{node_code(inner)}]")

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if original_node.value in self.e.vars:
            return self.e.index_values(original_node.value)
        return updated_node

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return False  # `np.sqrt`, `x.shape`: keep as written

    def visit_Call(self, node: cst.Call) -> bool:
        return True

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        builtin = self.e.ctx.resolver.builtin_name(original_node.func)
        np_ = self.e.ctx.np
        if builtin == "abs":
            return updated_node.with_changes(func=cst.parse_expression(f"{np_}.abs"))
        if builtin in ("min", "max"):
            if len(updated_node.args) != 2 or any(
                a.keyword is not None or a.star for a in updated_node.args
            ):
                raise Refusal(f"{builtin}() with other than two arguments")
            a = node_code(updated_node.args[0].value)
            b = node_code(updated_node.args[1].value)
            cmp = "<" if builtin == "min" else ">"
            # builtin min(a, b) returns a unless b < a: exact, NaN handling included
            pa, pb = (t if is_atomic(t) else f"({t})" for t in (a, b))
            return cst.parse_expression(f"{np_}.where({pb} {cmp} {pa}, {b}, {a})")
        return updated_node

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
        raise Refusal("and/or/not inside a vectorised value")

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        raise Refusal("a conditional expression inside the loop")

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        if len(node.comparisons) != 1:
            raise Refusal("a chained comparison")
        return True


# --------------------------------------------------------------------------------------------
# apply


class _Replacer(cst.CSTTransformer):
    """Replaces the chosen `for` statements (found by position) with their replacement code."""

    def __init__(
        self, wanted: dict[tuple[int, int], Opportunity], positions: dict[int, Position]
    ) -> None:
        self.wanted = wanted
        self.positions = positions
        self.used_alias: str | None = None

    def leave_For(
        self, original_node: cst.For, updated_node: cst.For
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        pos = self.positions.get(id(original_node))
        if pos is None:
            return updated_node
        opp = self.wanted.get((pos[0], pos[1]))
        if opp is None:
            return updated_node
        replacement = str(opp.data["replacement"])
        alias = str(opp.data.get("numpy_alias", "np"))
        if re.search(rf"\b{re.escape(alias)}\.", replacement):
            self.used_alias = alias
        statements = list(cst.parse_module(replacement).body)
        comments = _loop_comments(original_node)
        first = statements[0]
        statements[0] = first.with_changes(leading_lines=(*original_node.leading_lines, *comments))
        return cst.FlattenSentinel(statements)


def _loop_comments(node: cst.For) -> list[cst.EmptyLine]:
    """Comment lines inside a loop, kept above its replacement."""
    out: list[cst.EmptyLine] = []

    class V(cst.CSTVisitor):
        def visit_EmptyLine(self, n: cst.EmptyLine) -> None:
            if n.comment is not None:
                out.append(cst.EmptyLine(indent=True, comment=n.comment))

        def visit_TrailingWhitespace(self, n: cst.TrailingWhitespace) -> None:
            if n.comment is not None:
                out.append(cst.EmptyLine(indent=True, comment=n.comment))

    node.body.visit(V())
    return out
