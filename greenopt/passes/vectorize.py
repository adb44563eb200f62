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
the loop; the first subscript value is provably >= 0 (negative indices wrap).
Constructs whose array meaning differs from the scalar one are refused: `not`,
`and`/`or`, chained and `is`/`in` comparisons, `x if c else y` (outside an `if`
statement turned into `np.where`), builtins other than `abs`/`min`/`max`, methods
and `math.*`.

A zero-trip loop evaluates nothing: the rewrite is guarded by `if stop > start:`
unless the trip count is provably >= 1 or the rewritten statements provably do
nothing over empty slices (only `+ - *`, comparisons and elementwise ufuncs of
loop-indexed slices, float literals, int literals in 0..127 (NumPy 2 raises
OverflowError for `uint8 array - 300` even when it is empty) and names certainly
bound before the loop;
never for reductions, whose accumulator would change type, `float` ->
`np.float64`).

What a rewrite needs for `static_safe` (`rewrite --static` applies only those; the
validated `rewrite` may still take the others, checked on a workload):

* every subscripted name is certainly a NumPy ndarray when the loop starts: bound
  only by numpy allocations/conversions (or arithmetic on them), or a parameter
  rebound once by `x = np.asarray(x[, dtype])` before the loop, or whose `x.shape`/
  `x.dtype`/... is certainly read before the loop (not in an `assert`, a branch or
  behind `and`/`or`). A Python list would repeat or concatenate under `*`/`+`.
* every loop-indexed access provably stays inside its array: the bound is
  `len(a)`/`a.shape[k]` of that array, or the array was allocated with that size
  (`np.zeros(n)`, `np.empty_like(x)`, `x.copy()`, `n, m = a.shape`, `n = len(x)`,
  each name bound once). A slice past the end is silently shorter or broadcasts
  where the loop raises IndexError, so otherwise the rewrite starts with
  `if len(x) > 0 and len(y) < len(x): raise IndexError(...)` when raising up front
  is exactly what the loop does: step 1, nothing else in the loop can raise, and
  what it writes is invisible (see the last-but-one point).
* every array stored into has a visible float or complex dtype (an element store
  into an int array raises on NaN/overflow where a slice store wraps). Stores into
  arrays allocated as int, bool or object are refused, except integer (bool)
  literals. Augmented stores `t[i] += v` become `t[s] = t[s] + v` (the element
  store's cast) unless `t` and every name in `v` are float arrays, where `+=` is
  exact.
* gathers and scatters index with a 1-D integer ndarray allocated in the function
  (a 2-D index array indexes rows, a bool one masks); a tuple/list index or a known
  2-D/non-integer one is refused.
* if the loop may raise part-way (a Python division, a constant subscript, an
  unbound name, a scatter), the arrays it writes are local, never handed to other
  code, and no `try` encloses the loop (the loop leaves other partial results).
* no reassociated sum, product or dot product (np.sum/np.dot/np.prod, partial sums
  and matrix products in nests): a float sum whose terms cancel differs in every digit
  (pairwise/BLAS order), a product overflows in another order, an int32 accumulator
  wraps; only validation on a workload takes them. Scans do not cast per step; the
  loop index is not used as a value (Python int vs int64).
* no `np.where` (builtin min/max, conditional stores) mixing a literal that some dtype
  cannot hold (ints outside 0..127, floats float16 rounds) with a branch not proven
  float64: NumPy casts the literal to that branch's dtype (300 -> 44 in uint8).
* builtin `min`/`max` only of proven numbers: elements of arrays whose rank (an
  allocation in the function) equals their number of subscripts, or any element when
  the result is stored into an element of such an array; loop indices; literals; and
  loop-invariant names bound before the loop to numbers (`lo = float(lo)`, `len(x)`).
  A row (`img[i, j]` of a 3-D `img`) or a list bound (`lo=[0.2]`) makes the builtin
  raise where `np.where` broadcasts and returns.
* a scan with a loop-invariant term (`x[i + 1] = x[i] + dx` ->
  `np.cumsum(np.concatenate((x[0:1], np.full(n - 1, dx))))`, seeded so that the adds
  run left to right as in the loop; `x[0] + np.cumsum(...)` would round differently)
  needs the term proven a number and the arrays float64.
* no power of loop values (`**`, `np.power`): NumPy computes `x ** 0.5` on arrays as
  sqrt, not the element's pow (`(-inf) ** 0.5`: nan vs inf), and other exponents an
  ulp apart; no `*` of two possibly complex loop values, nor `abs`/`np.square` of one
  (complex array loops use fused multiply-adds); no `np.fmax`/`np.fmin` (their array
  loops return the other zero of 0.0 and -0.0). The other mapped operations give an
  np.float64 element the bits of their array loops.
* no `if x[i] >= s: s = x[i]` (`<=`) reduction from a start value that is not an array
  element: a tie stores the element (np.int64(3)) where `max(s, ...)` keeps `s` (3).

Where the function does not prove that arrays have as many dimensions as their
subscripts in the loop, the slices run behind a rank guard (`if a.ndim == x.ndim ==
1:`, the loop in its `else:`): a 2-D `a` read as `a[i]` gives rows, which
`a[:n] + x[:n]` would broadcast along the wrong axis (`_rank_guard`). Proofs:
allocations of known rank, `n, m = a.shape`, `x = np.ravel(x)` and
`if x.ndim != 1: raise ...` before the loop, one parameter's rank class. A loop that
stores only into arrays of known rank, every row it reads reaching each stored value
through elementwise arithmetic (a row stored into an element raises in the loop; a row
only tested by an `if` or picked by builtin `max` does not), needs no rank guard, but
its slices run behind `if n > 0:`: over zero iterations the loop raises nothing, while
`out[:0] = x[:0]` with `x` of shape (0, 2) does. So do those of one rank class unless
a bound is `len(x)` / `x.shape[k]` of the class (a 0-d `x` cannot be sliced).

Unsubscripted names the function does not prove to be numbers (parameters such as
`a` in `a * x[i]`) may be arrays, which broadcast against the slices: the slices then
run behind `if n > 0:` (over zero iterations the loop evaluates nothing), and a name
that only a branch of an `if` reads (the loop may never evaluate it; np.where
broadcasts it) is not static_safe. Over a nonempty loop an array there makes the
loop's element store raise.

Further assumptions: ndarrays are base-class (not `np.matrix`, whose `*` is a
matrix product), and arrays are not resized in place (`a.resize`, `a.shape = ...`).
When the loop raises, arrays written by a not-static_safe rewrite may hold other
partial results; `max`/`min` reductions on lists and a `float` accumulator becoming
`np.float64` are accepted only through validation. Static `max`/`min` reductions give
equal values, but a zero result may have the other sign (`np.fmax.reduce` may return
0.0 where the loop kept -0.0). Object arrays are only partly covered: a ufunc calling
an element method (`np.sqrt`) is not static_safe on an array of unseen dtype, but
`np.maximum` of object elements gives Python floats, not np.float64.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import libcst as cst
from libcst.metadata import PositionProvider

from greenopt.optimizer.accesses import (
    Access,
    flatten_subscript,
    read_subscripts,
    statement_accesses,
    summarize,
)
from greenopt.optimizer.affine import Affine, is_atomic, node_code, to_affine
from greenopt.optimizer.aliasing import ArrayFacts, Relation
from greenopt.optimizer.cst_nodes import (
    STATEMENT_HOLDERS,
    int_literal,
    is_scope,
    iter_children,
    names_in,
    signed,
    walk,
    walk_statements,
)
from greenopt.optimizer.dependences import vectorization_blocker
from greenopt.optimizer.effects import (
    IO_BUILTINS,
    early_exit,
    expression_effect,
    statement_effect,
)
from greenopt.optimizer.loops import LoopNest, bound_atom, loop_nest
from greenopt.optimizer.module_edits import parsed_on_demand, replace_in_statements
from greenopt.optimizer.name_facts import (
    FunctionFacts,
    function_facts,
    iter_functions,
    nonneg_names,
)
from greenopt.optimizer.numpy_names import (
    ELEMENTWISE_UFUNCS,
    FRESH_ALLOCATORS,
    TOTAL_UFUNCS,
    NameResolver,
    alias_for_rewrite,
    ensure_numpy_import,
)
from greenopt.optimizer.positions import Position
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
    positions: dict[int, Position]  # id(statement) -> position, from `ast`
    #: loop variable -> ids of the names inside the `for` loops that bind it (on first use)
    loop_scoped: dict[str, set[int]] | None = None
    #: loop variable -> `_used_outside_loops` (asked for every loop: one scan per name)
    used_outside: dict[str, bool] = field(default_factory=dict)
    #: array name -> `_escapes`, and what it reads from one walk of the function (on first
    #: use): names read in nested scopes, ids of the nodes whose reads do not escape
    escapes: dict[str, bool] = field(default_factory=dict)
    escape_facts: tuple[set[str], set[int]] | None = None
    #: the outermost loop of the nest being planned (`_plan_nest` sets it)
    current_loop: cst.For | None = None
    #: ids of the loops an earlier rewrite left behind a rank guard (not planned again)
    fallbacks: set[int] | frozenset[int] = frozenset()

    def relation(self, a: str, b: str) -> Relation:
        """May `a` and `b` share memory while the current loop nest runs?

        `ArrayFacts.relation_at` the nest: an array allocated in the nest's own block
        just before it (`u_new = u.copy()` in a time-stepping loop, not rebound or
        passed on in between) is distinct from every other name there, even when a
        later `u = u_new` makes the two names one array on the next outer iteration.
        """
        if self.current_loop is None:
            return self.arrays.relation(a, b)
        return self.arrays.relation_at(a, b, self.current_loop)

    def names_in_loops_over(self, var: str) -> set[int]:
        """Ids of the Name nodes inside every `for` loop of the function binding `var`."""
        if self.loop_scoped is None:
            self.loop_scoped = {}
            for node in walk(self.facts.node.body, prune=is_scope):
                if type(node) is cst.For and type(node.target) is cst.Name:
                    inside = self.loop_scoped.setdefault(node.target.value, set())
                    inside.update(id(n) for n in names_in(node))
        return self.loop_scoped.get(var, set())


@dataclass
class _Plan:
    """A vectorised replacement for one loop nest."""

    code: str  # replacement statements (top level, no indentation)
    kind: str  # rule code
    message: str
    rationale: str
    unsafe: _Unsafe
    #: `a.ndim == x.ndim == 1 and ...`: the ranks the slices assume, checked at run time
    #: (the original loop runs otherwise); "" when the function proves them
    rank_guard: str = ""


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
                "    if x.ndim == y.ndim == 1:\n"
                "        if len(x) > 0 and len(y) < len(x):\n"
                '            raise IndexError("index out of bounds: an array is shorter than the loop")\n'
                "        if len(x) > 0:\n"
                "            out[:len(x)] = a * x + y[:len(x)]\n"
                "    else:\n        for i in range(len(x)):\n            out[i] = a * x[i] + y[i]\n"
                "    return out\n"
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
                "import numpy as xp\n\n\ndef peak(x):\n    m = -xp.inf\n    if x.ndim == 1:\n"
                "        if len(x) > 0:\n            m = max(m, xp.fmax.reduce(x, axis=None))\n"
                "    else:\n        for i in range(len(x)):\n            if x[i] > m:\n"
                "                m = x[i]\n    return m\n"
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
                "    if w.ndim == idx.ndim == h.ndim == 1:\n"
                "        if n > 0:\n            np.add.at(h, idx[:n], w[:n])\n"
                "    else:\n        for i in range(n):\n            h[idx[i]] += w[i]\n"
                "    return h\n"
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
                "    if len(x) > 0:\n"
                "        out[:len(x)] = np.where(x > 0, x, 0.01 * x)\n    return out\n"
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
                "    c = np.zeros((n, m))\n"
                "    if n > 0 and m > 0 and (len(b) < n or b.shape[1] < m):\n"
                '        raise IndexError("index out of bounds: an array is shorter than the loop")\n'
                "    if n > 0 and m > 0:\n"
                "        c[:n, :m] = a[:n, :m] + 2.0 * b[:n, :m]\n    return c\n"
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
        exit); names are then resolved only in the top-level statements
        holding functions with surviving loops.
        """
        if not _has_range_loop(module.code):
            return []
        positions = module.statement_positions()
        alias = alias_for_rewrite(module.tree)
        found: list[Opportunity] = []
        plans: list[tuple[cst.FunctionDef, str, list[cst.For]]] = []
        modules = _imported_modules(module.tree)
        # loops an earlier rewrite left behind a rank guard (ids are unique in the module)
        fallbacks = _rank_guarded_loops(module.tree) if ".ndim ==" in module.code else set()
        for func, qual in iter_functions(module.tree):
            candidates: list[cst.For] = []
            for loop in _top_loops(func.body, fallbacks):
                self._screen(loop, qual, module, positions, found, candidates, modules, fallbacks)
            if candidates:
                plans.append((func, qual, candidates))
        if not plans:
            return found
        needed = {id(func) for func, _, _ in plans}
        resolver = NameResolver.for_loops(
            module.tree,
            keep=lambda stmt: any(
                type(n) is cst.FunctionDef and id(n) in needed for n in walk_statements(stmt)
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
                fallbacks=fallbacks,
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
        modules: dict[str, str] | None = None,
        fallbacks: set[int] | frozenset[int] = frozenset(),
    ) -> None:
        """Note loops that fail the syntactic screen (and look inside them); keep the rest.

        `fallbacks`: loops left behind a rank guard by an earlier rewrite, skipped."""
        reason = _syntactic_refusal(node, modules)
        if reason is None:
            candidates.append(node)
            return
        site = _site(node, qual, module, positions, None)
        notes.append(_note(site, reason))
        for child in _top_loops(node.body, fallbacks):
            self._screen(child, qual, module, positions, notes, candidates, modules, fallbacks)

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        """Replace each chosen loop by its planned statements; add the numpy import once."""
        wanted = {
            (o.data["line"], o.data["col"]): o
            for o in opportunities
            if o.pass_name == NAME and o.fixable and "replacement" in o.data
        }
        if not wanted:
            return module
        positions = module.statement_positions() or {
            id(node): (rng.start.line, rng.start.column, rng.end.line, rng.end.column)
            for node, rng in module.metadata().resolve(PositionProvider).items()
            if type(node) is cst.For
        }
        transformer = _Replacer(wanted, positions)
        # only the top-level statements holding a chosen loop are visited and re-parsed:
        # `check` applies each finding on its own, which on the whole module was quadratic
        tree = replace_in_statements(module, transformer, positions, wanted)
        if transformer.used_alias is not None:
            tree = ensure_numpy_import(tree, transformer.used_alias)
        return parsed_on_demand(tree, module)

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
            for child in _top_loops(node.body, ctx.fallbacks):
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
                    "rank_guard": plan.rank_guard,
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
            f"this loop is left alone: {reason}. The jit pass may still compile it."
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


def _syntactic_refusal(node: cst.For, modules: dict[str, str] | None = None) -> str | None:
    """Why a loop cannot be vectorised, from its syntax alone (None: analyse it).

    `modules`: local name -> module of the module's `import` statements (`np` ->
    `numpy`), so that `np.copyto(...)` is named as a function of numpy, not a method."""
    if node.asynchronous is not None:
        return "async for loop"
    if node.orelse is not None:
        return "the loop has an else clause"
    if type(node.target) is not cst.Name:
        return "the loop target is not a single name"
    it = node.iter
    if type(it) is cst.Call and type(it.func) is cst.Name and it.func.value == "xrange":
        return "the loop iterates over xrange (Python 2; use range)"
    if not (type(it) is cst.Call and type(it.func) is cst.Name and it.func.value == "range"):
        return "the loop does not iterate over range(...)"
    reason = early_exit(node.body)
    if reason:
        return reason
    body = node.body.body if type(node.body) is cst.IndentedBlock else ()
    if len(body) == 1 and type(body[0]) is cst.For:
        inner = _syntactic_refusal(body[0], modules)
        return f"inner loop: {inner}" if inner else None
    for stmt in body:
        if type(stmt) is cst.For:
            return "the body mixes statements and an inner loop (not a perfect nest)"
        if type(stmt) not in (cst.SimpleStatementLine, cst.If):
            return f"a {type(stmt).__name__} statement in the body"
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.Expr:
                    value = small.value
                    if type(value) is cst.Call:
                        func = value.func
                        if type(func) is cst.Name and func.value in IO_BUILTINS:
                            return f"does I/O ({func.value})"
                        if type(func) is cst.Attribute:
                            module = _module_name(func.value, modules)
                            if module is not None:
                                return (
                                    f"calls {module}.{func.attr.value}() as a statement, for "
                                    "its side effects"
                                )
                            return (
                                f"calls method .{func.attr.value}() (may mutate or have side "
                                "effects)"
                            )
                    what = node_code(value)
                    what = what if len(what) <= 40 else what[:37] + "..."
                    return f"a bare expression statement `{what}` (a call for its side effects)"
    return None


def _module_name(node: cst.BaseExpression, modules: dict[str, str] | None) -> str | None:
    """`numpy` for `np` (or `numpy.linalg` for `np.linalg`) when `node` names an imported
    module, else None."""
    if not modules:
        return None
    parts: list[str] = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name or node.value not in modules:
        return None
    return ".".join([modules[node.value], *reversed(parts)])


def _imported_modules(module: cst.Module) -> dict[str, str]:
    """Local names bound to modules by the module's top-level `import x [as y]`."""
    found: dict[str, str] = {}
    for stmt in module.body:
        if type(stmt) is not cst.SimpleStatementLine:
            continue
        for small in stmt.body:
            if type(small) is cst.Import and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    dotted = node_code(alias.name)
                    if alias.asname is not None and type(alias.asname.name) is cst.Name:
                        found[alias.asname.name.value] = dotted
                    else:
                        head = dotted.split(".")[0]
                        found[head] = head
    return found


def _has_range_loop(code: str) -> bool:
    """Cheap text screen: does the module contain `for` and `range` at all?"""
    return "for " in code and "range" in code


def _top_loops(node: cst.CSTNode, skip: set[int] | frozenset[int] = frozenset()) -> list[cst.For]:
    """`for` statements in `node` not nested in another `for` or in a nested def/class
    (nor in `skip`, by id)."""
    return [
        n
        for n in walk(node, prune=lambda c: type(c) not in _LOOP_HOLDERS)
        if type(n) is cst.For and n is not node and id(n) not in skip
    ]


#: statement holders `_top_loops` enters: not loops (their loops are nested) or scopes
_LOOP_HOLDERS = STATEMENT_HOLDERS - {cst.For, cst.FunctionDef, cst.ClassDef}


def _rank_evidence(func: cst.FunctionDef) -> dict[str, int]:
    """Ranks the function's own code reveals: `x.shape[2]` means at least 3 dimensions;
    `x.ndim` or `x.shape[1:]` mean rank-generic code (-1)."""
    out: dict[str, int] = {}
    # `.ndim` in a check that raises (`if x.ndim != 1: raise`) or in a rank guard this
    # pass wrote (`if x.ndim == 1: <slices> else: <loop>`) fixes a rank: not generic code
    nodes = list(walk(func.body))
    fixed: set[int] = set()
    if any(type(n) is cst.Attribute and n.attr.value == "ndim" for n in nodes):
        fixed = {
            id(n)
            for stmt in nodes
            if type(stmt) is cst.If
            and (_rank_check(stmt) is not None or _is_rank_guard_test(stmt.test))
            for n in walk(stmt.test)
        }
    for node in nodes:
        if type(node) is cst.Attribute and type(node.value) is cst.Name and id(node) not in fixed:
            if node.attr.value == "ndim":
                out[node.value.value] = -1
        elif (
            type(node) is cst.Subscript
            and type(node.value) is cst.Attribute
            and node.value.attr.value == "shape"
            and type(node.value.value) is cst.Name
        ):
            name = node.value.value.value
            if out.get(name) == -1:
                continue
            el = node.slice[0].slice if len(node.slice) == 1 else None
            if type(el) is cst.Index and type(el.value) is cst.Integer:
                k = int(el.value.value, 0)
                out[name] = max(out.get(name, 0), k + 1)
            elif type(el) is cst.Index and type(el.value) is cst.UnaryOperation:
                out[name] = -1  # x.shape[-1]: rank-generic
            else:
                out[name] = -1
    _unpacked_shape_ranks(func, out)
    _propagate_rank_evidence(func, out)
    return out


def _shape_owner(node: cst.BaseExpression) -> str | None:
    """`x` for the expressions `x.shape`, `np.shape(x)` and `np.asarray(x).shape`."""
    if type(node) is cst.Attribute and node.attr.value == "shape":
        inner = node.value
        if type(inner) is cst.Name:
            return inner.value
        if type(inner) is cst.Call and type(inner.func) is cst.Attribute:
            if inner.func.attr.value in _SAME_RANK_CALLS:
                return _first_name_argument(inner)
        return None
    if type(node) is cst.Call and type(node.func) is cst.Attribute:
        return _first_name_argument(node) if node.func.attr.value == "shape" else None
    return None


def _first_name_argument(call: cst.Call) -> str | None:
    """The name passed as the first positional argument of `call`, if any."""
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    return positional[0].value if positional and type(positional[0]) is cst.Name else None


def _merge_rank(out: dict[str, int], name: str, rank: int) -> None:
    """Record at least `rank` dimensions for `name` (-1, rank-generic, wins)."""
    if out.get(name) == -1 or rank == -1:
        out[name] = -1
    else:
        out[name] = max(out.get(name, 0), rank)


def _unpacked_shape_ranks(func: cst.FunctionDef, out: dict[str, int]) -> None:
    """`n, m = a.shape` (or `sh = a.shape; n, m = sh`, `np.shape(a)`) shows that `a` has
    exactly two dimensions, so a loop reading `a[i]` reads rows (a slice `a[:n]` would
    broadcast a per-row scalar `x[i]` along the columns instead); so does
    `a.shape == (n, m)` and `len(a[0])` shows at least two; a starred target
    (`n, *rest = a.shape`) is rank-generic."""
    shape_names: dict[str, str] = {}
    for node in walk(func.body):
        if type(node) is cst.Assign and len(node.targets) == 1:
            target = node.targets[0].target
            owner = _shape_owner(node.value)
            if type(target) is cst.Name and owner is not None:
                shape_names[target.value] = owner
    for node in walk(func.body):
        if type(node) is cst.Assign:
            value = node.value
            name = shape_names.get(value.value) if type(value) is cst.Name else None
            name = name or _shape_owner(value)
            if name is None:
                continue
            for target in node.targets:
                elements = target.target
                if type(elements) not in (cst.Tuple, cst.List):
                    continue
                starred = any(type(e) is cst.StarredElement for e in elements.elements)
                _merge_rank(out, name, -1 if starred else len(elements.elements))
        elif type(node) is cst.Comparison:
            parts = [node.left, *(c.comparator for c in node.comparisons)]
            owners = [_shape_owner(p) for p in parts]
            tuples = [p for p in parts if type(p) in (cst.Tuple, cst.List)]
            for owner in filter(None, owners):
                for shape in tuples:
                    _merge_rank(out, owner, len(shape.elements))
        elif type(node) is cst.Call and type(node.func) is cst.Name and node.func.value == "len":
            arg = node.args[0].value if len(node.args) == 1 else None
            if type(arg) is cst.Subscript and type(arg.value) is cst.Name:
                if len(arg.slice) == 1 and type(arg.slice[0].slice) is cst.Index:
                    _merge_rank(out, arg.value.value, 2)  # `len(a[0])`: a row


#: calls whose result has the rank of their first argument (`np.zeros_like(a)`)
_SAME_RANK_CALLS = frozenset(
    {
        "empty_like",
        "zeros_like",
        "ones_like",
        "full_like",
        "copy",
        "array",
        "asarray",
        "asanyarray",
        "ascontiguousarray",
        "asfortranarray",
    }
)


def _value_rank(
    value: cst.BaseExpression,
    out: dict[str, int],
    shapes: dict[str, cst.BaseExpression],
) -> int | None:
    """The rank evidence `value` carries: that of `a` for `a`, `a.copy()`,
    `np.zeros_like(a)`, `np.asarray(a)`, `np.zeros(a.shape)`; the shape's length for
    `np.zeros((n, m))`, `np.zeros(shape=(n, m))` and `np.zeros(shape)` after
    `shape = (n, m)` (`shapes`: names bound to tuples or `a.shape`); the larger side's
    for `x + 1.0` (matched by name only: more evidence only refuses more loops)."""
    if type(value) is cst.Name:
        return out.get(value.value)
    if type(value) is cst.BinaryOperation:
        sides = [_value_rank(v, out, shapes) for v in (value.left, value.right)]
        known = [r for r in sides if r is not None]
        return None if not known else (-1 if -1 in known else max(known))
    if type(value) is not cst.Call or type(value.func) is not cst.Attribute:
        return None
    attr = value.func.attr.value
    positional = [a.value for a in value.args if a.keyword is None and not a.star]
    if not value.args:  # `a.copy()`
        owner = value.func.value
        return out.get(owner.value) if attr == "copy" and type(owner) is cst.Name else None
    if attr in _SAME_RANK_CALLS:
        first = positional[0] if positional else None
        return out.get(first.value) if type(first) is cst.Name else None
    if attr in ("zeros", "ones", "empty", "full"):
        keyword = [
            a.value for a in value.args if a.keyword is not None and a.keyword.value == "shape"
        ]
        shape = positional[0] if positional else (keyword[0] if keyword else None)
        return None if shape is None else _shape_rank(shape, out, shapes)
    return None


def _shape_rank(
    shape: cst.BaseExpression, out: dict[str, int], shapes: dict[str, cst.BaseExpression]
) -> int | None:
    """The number of dimensions an allocation of `shape` has, when the code shows it."""
    if type(shape) is cst.Name and shape.value in shapes:
        shape = shapes[shape.value]
    owner = _shape_owner(shape)
    if owner is not None:
        return out.get(owner)
    if type(shape) in (cst.Tuple, cst.List):
        if any(type(e) is cst.StarredElement for e in shape.elements):
            return -1
        return len(shape.elements) if len(shape.elements) > 1 else None
    return None


def _propagate_rank_evidence(func: cst.FunctionDef, out: dict[str, int]) -> None:
    """A name bound to an array of known rank (`out = np.zeros_like(a)` with a 2-D `a`,
    `out = np.zeros((m, n)) + 1.0`) gets that rank evidence: `out[i] = x[i]` fills
    rows, which `out[:n] = x[:n]` would not do."""
    assigns: list[tuple[str, cst.BaseExpression]] = []
    shapes: dict[str, cst.BaseExpression] = {}
    for node in walk(func.body):
        if type(node) is cst.Assign and len(node.targets) == 1:
            target = node.targets[0].target
            if type(target) is cst.Name:
                assigns.append((target.value, node.value))
                if type(node.value) in (cst.Tuple, cst.List) or _shape_owner(node.value):
                    shapes[target.value] = node.value
    for _ in range(len(assigns)):
        changed = False
        for target, value in assigns:
            rank = _value_rank(value, out, shapes)
            if rank is not None:
                before = out.get(target)
                _merge_rank(out, target, rank)
                changed = changed or out.get(target) != before
        if not changed:
            break


def _subscript_counts(func: cst.FunctionDef) -> dict[str, set[int]]:
    """For each name subscripted in the function, the numbers of subscripts used
    (a chained `x[i][j]` counts as two subscripts, once)."""
    counts: dict[str, set[int]] = {}
    inner: set[int] = set()
    for node in walk(func.body):
        if type(node) is not cst.Subscript:
            continue
        if type(node.value) is cst.Subscript:
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
    ctx.current_loop = node
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
        if _used_outside_loops(var, ctx):
            raise Refusal(f"the loop index {var} is used after the loop")
    stmts = _classify(nest, ctx)
    unsafe = _Unsafe()
    _check_names(stmts, nest, ctx, node, unsafe)
    accesses = _collect_accesses(stmts, nest, ctx)
    _check_ranks(accesses, ctx)
    rank_guard, empty_unsafe = _rank_guard(stmts, accesses, nest, ctx)
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
        ctx.relation,
    )
    if blocker:
        raise Refusal(blocker)
    _check_scatter(stmts, accesses, ctx)
    proof = _Proof.build(ctx, node)
    checks = _check_static(stmts, accesses, nest, proof, unsafe)
    scalar_empty = _check_scalar_names(stmts, nest, proof, unsafe)
    emitter = _Emitter(nest, ctx, unsafe, proof)
    # with a length check the slices of a nest match the loop only when every loop runs:
    # an empty inner loop skips the check and leaves an unproven outer extent
    # (`a[:2 * n:2]` vs `out[:n]`) to broadcast (one loop's slices are all empty then)
    checked_nest = bool(checks) and len(nest.loops) > 1
    emitter.needs_nonempty = (
        checked_nest or empty_unsafe or scalar_empty or _may_raise_when_empty(stmts, proof, nest)
    )
    lines = [emitter.statement(s) for s in stmts]
    guard = emitter.guard()
    if guard:
        code = f"if {guard}:\n" + "".join(f"    {ln}\n" for ln in lines)
    else:
        code = "".join(f"{ln}\n" for ln in lines)
    code = _length_check(checks, emitter.trip_clauses()) + code
    kind, what = _kind(stmts, nest, accesses)
    rationale = (
        f"The loop over {', '.join(loop_vars)} has no early exit, no side effects and no "
        "loop-carried dependence that statement-by-statement execution would reverse, so "
        f"NumPy can run it as whole-array operations in compiled code ({what})."
    )
    first = lines[0]
    message = f"{what}: `{first}`" if len(first) <= 90 else f"{what}"
    if len(lines) > 1:  # the message shows the first statement; say the rewrite has more
        message += f" (+{len(lines) - 1} more statement{'s' if len(lines) > 2 else ''})"
    if rank_guard:
        rationale += (
            f" The slices are taken only when {rank_guard} (what the loop's subscripts "
            "assume): with a row where the loop reads an element, the slices would "
            "broadcast along another axis, so other ranks run the original loop."
        )
    return _Plan(
        code=code,
        kind=kind,
        message=message,
        rationale=rationale,
        unsafe=unsafe,
        rank_guard=rank_guard,
    )


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


def _used_outside_loops(var: str, ctx: _Context) -> bool:
    """True when `var` is read anywhere not inside a `for` loop that binds `var`."""
    known = ctx.used_outside.get(var)
    if known is None:
        loads = ctx.facts.loads.get(var, [])
        if not loads:
            known = False
        else:
            inside = ctx.names_in_loops_over(var)
            known = any(id(n) not in inside for n in loads)
        ctx.used_outside[var] = known
    return known


def _simple_statements(body: Sequence[cst.BaseStatement]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for stmt in body:
        if type(stmt) is cst.SimpleStatementLine:
            out.extend(s for s in stmt.body if type(s) is not cst.Pass)
        elif type(stmt) is cst.If:
            out.append(stmt)
        elif type(stmt) is cst.For:
            raise Refusal("the body mixes statements and an inner loop (not a perfect nest)")
        else:
            raise Refusal(early_exit(stmt) or f"a {type(stmt).__name__} statement in the body")
    if not out:
        raise Refusal("the body is empty")
    return out


def _classify(nest: LoopNest, ctx: _Context) -> list[_Stmt]:
    stmts: list[_Stmt] = []
    for node in _simple_statements(nest.body):
        if type(node) is cst.If:
            stmts.append(_classify_if(node, ctx))
            continue
        assert isinstance(node, cst.BaseSmallStatement)
        problem = statement_effect(node, ctx.resolver)
        if problem:
            raise Refusal(problem)
        if type(node) is cst.Assign:
            target = node.targets[0].target
            if type(target) is cst.Subscript:
                scan = _scan_of(target, node.value)
                stmts.append(
                    _Stmt("scan" if scan else "elementwise", node, target, node.value, op=scan)
                )
            elif type(target) is cst.Name:
                red = _assign_reduction(target.value, node.value, ctx)
                if red is not None:
                    op, value = red
                    stmts.append(_Stmt("reduction", node, target, value, op))
                else:
                    stmts.append(_Stmt("temp", node, target, node.value))
            else:
                raise Refusal("assigns to several targets at once")
        elif type(node) is cst.AugAssign:
            op = _AUG_OPS.get(type(node.operator))
            target = node.target
            if type(target) is cst.Name:
                if op not in ("sum", "sub", "prod"):
                    raise Refusal("augmented assignment other than +=, -=, *= to a scalar")
                stmts.append(_Stmt("reduction", node, target, node.value, op))
            elif type(target) is cst.Subscript:
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
    if type(value) is cst.BinaryOperation and type(value.operator) in (cst.Add, cst.Multiply):
        op = "sum" if type(value.operator) is cst.Add else "prod"
        if _is_name(value.left, name) and not _mentions(value.right, name):
            return op, value.right
        if _is_name(value.right, name) and not _mentions(value.left, name):
            return op, value.left
    if type(value) is cst.BinaryOperation and type(value.operator) is cst.Subtract:
        if _is_name(value.left, name) and not _mentions(value.right, name):
            return "sub", value.right
    if type(value) is cst.Call and len(value.args) == 2:
        builtin = ctx.resolver.builtin_name(value.func)
        if builtin in ("max", "min") and all(a.keyword is None and not a.star for a in value.args):
            first, second = value.args[0].value, value.args[1].value
            if _is_name(first, name) and not _mentions(second, name):
                return builtin, second
    return None


def _classify_if(node: cst.If, ctx: _Context) -> _Stmt:
    """`if c: t[..] = e1 [else: t[..] = e2]` -> where; `if e > s: s = e` -> max/min."""
    if type(node.orelse) is cst.If:
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
    if type(target) is cst.Name and other is None:
        red = _if_reduction(node.test, target.value, then.value)
        if red is None:
            raise Refusal("a conditional scalar assignment that is not a max/min reduction")
        return _Stmt("reduction", node, target, then.value, red)
    if type(target) is not cst.Subscript:
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
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    left, comp = test.left, test.comparisons[0]
    right = comp.comparator
    op = comp.operator
    e_code = node_code(value)
    if _mentions(value, name):
        return None
    if node_code(left) == e_code and _is_name(right, name):
        if type(op) in (cst.GreaterThan, cst.GreaterThanEqual):
            return "max"
        if type(op) in (cst.LessThan, cst.LessThanEqual):
            return "min"
    if _is_name(left, name) and node_code(right) == e_code:
        if type(op) in (cst.LessThan, cst.LessThanEqual):
            return "max"
        if type(op) in (cst.GreaterThan, cst.GreaterThanEqual):
            return "min"
    return None


def _single_assign(block: cst.BaseSuite) -> cst.Assign | None:
    body = block.body if type(block) is cst.IndentedBlock else [block]
    if len(body) != 1:
        return None
    line = body[0]
    small = line.body if type(line) in (cst.SimpleStatementLine, cst.SimpleStatementSuite) else None
    if small is None or len(small) != 1 or type(small[0]) is not cst.Assign:
        return None
    assign = small[0]
    return assign if len(assign.targets) == 1 else None


_TOTAL_BINOPS = (cst.Add, cst.Subtract, cst.Multiply, cst.BitAnd, cst.BitOr, cst.BitXor)


def _not_total(expr: cst.BaseExpression, ctx: _Context) -> str | None:
    """Why `expr` might warn or raise for some element (None: it never does)."""
    for node in walk(expr):
        if type(node) is cst.BinaryOperation and not isinstance(node.operator, _TOTAL_BINOPS):
            return f"operator {type(node.operator).__name__.lower()} may warn"
        if type(node) is cst.Call:
            np_name = ctx.resolver.numpy_name(node.func)
            if np_name is not None and np_name not in TOTAL_UFUNCS:
                return f"numpy.{np_name} may warn"
        if type(node) is cst.BooleanOperation:
            for side in (node.left, node.right):
                if type(side) not in (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation):
                    return "and/or on a non-comparison"
        if type(node) is cst.Comparison:
            if len(node.comparisons) != 1:
                return "a chained comparison"
            if type(node.comparisons[0].operator) in (cst.In, cst.NotIn, cst.Is, cst.IsNot):
                return "an in/is comparison"
    return None


def _scan_of(target: cst.Subscript, value: cst.BaseExpression) -> str:
    """'cumsum'/'cumprod' when `value` is `target[i-1] + e` (or `e + target[i-1]`, `*`)."""
    if type(value) is not cst.BinaryOperation:
        return ""
    if type(value.operator) not in (cst.Add, cst.Multiply):
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
        if type(side) is cst.Subscript:
            f = flatten_subscript(side)
            if f is not None and f[0].value == base and not _mentions(other, base):
                acc = summarize(side, False, 0, atom_of)
                if acc is not None and acc.indices == (target_acc.indices[0].plus(-1),):
                    return "cumsum" if type(value.operator) is cst.Add else "cumprod"
    return ""


def bound_atom_for_scan(node: cst.BaseExpression) -> str | None:
    """Names only: enough to compare `c[i]` with `c[i - 1]`."""
    return node.value if type(node) is cst.Name else None


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return type(node) is cst.Name and node.value == name


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return any(n.value == name for n in names_in(node))


def _names_in(node: cst.CSTNode) -> set[str]:
    """Names read as variables in `node` (not attribute names, not called builtins' names)."""
    out: set[str] = set()
    skip: set[int] = set()
    for n in walk(node):
        if type(n) is cst.Attribute:
            skip.add(id(n.attr))
        elif type(n) is cst.Call and type(n.func) is cst.Name:
            skip.add(id(n.func))
        elif type(n) is cst.Arg and n.keyword is not None:
            skip.add(id(n.keyword))
        elif type(n) is cst.Name and id(n) not in skip:
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
            assert type(s.target) is cst.Name
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
        if type(s.target) is cst.Subscript:
            used |= _names_in(s.target)
        for name in sorted(used & set(reductions)):
            if reductions[name] is not s or _mentions(s.value, name):  # type: ignore[arg-type]
                raise Refusal(f"the accumulator {name} is read inside the loop")
        for name in sorted(used & set(temps)):
            if temps[name] >= k:
                raise Refusal(f"{name} is read before it is assigned in an iteration")
        for name in sorted(used - loop_vars - set(temps) - set(reductions)):
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
        if s.op in ("max", "min") and _tie_takes_element(s.node):
            values = ctx.facts.stored_only_from(name)
            if not values or not all(type(v) is cst.Subscript for v in values):
                unsafe.add(
                    f"`>=`/`<=` gives {name} the array element on a tie (a NumPy scalar, "
                    f"np.int64(3) for 3) where {s.op}() keeps the start value"
                )
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
            unsafe.add(
                f"the {'product' if s.op == 'prod' else 'sum'} into {name} is reassociated "
                f"({_REASSOCIATED})"
            )


def _tie_takes_element(node: cst.CSTNode) -> bool:
    """True for `if x[i] >= s: s = x[i]` (or `<=`): a tie stores the element."""
    if type(node) is not cst.If or type(node.test) is not cst.Comparison:
        return False
    return any(
        type(c.operator) in (cst.GreaterThanEqual, cst.LessThanEqual) for c in node.test.comparisons
    )


#: why sums and products (np.sum, np.dot, np.prod) are never static_safe
_REASSOCIATED = (
    "NumPy adds pairwise/blocked and BLAS reorders: a float sum of terms that cancel "
    "differs in every digit ([1e16, 14 x 1.0, -1e16]: 0.0 in the loop, 12.0 from np.sum), a product can "
    "overflow or underflow in another order, an int32 accumulator wraps where np.sum "
    "does not; the dtypes are not proven int64 here"
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
        n for n in walk(node, prune=lambda c: type(c) is cst.Subscript) if type(n) is cst.Subscript
    ]


def _only_subscripted(name: str, s: _Stmt) -> bool:
    """True when every mention of `name` in `s` is the base of a subscript, `len(name)`
    or an attribute such as `name.shape`."""
    allowed: set[int] = set()
    for part in (s.value, s.cond, s.other, s.target):
        if part is None:
            continue
        for n in walk(part):
            if type(n) is cst.Subscript:
                base: cst.BaseExpression = n
                while type(base) is cst.Subscript:
                    base = base.value
                allowed.add(id(base))
            elif type(n) is cst.Attribute:
                allowed.add(id(n.value))
                allowed.add(id(n.attr))
            elif type(n) is cst.Call and type(n.func) is cst.Name and n.func.value == "len":
                allowed.update(id(a.value) for a in n.args)
            elif type(n) is cst.Name and n.value == name and id(n) not in allowed:
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
    written_names = {s.target.value for s in stmts if type(s.target) is cst.Name}
    for k, s in enumerate(stmts):
        if s.kind == "where" or (s.kind == "reduction" and type(s.node) is cst.If):
            parts: list[cst.CSTNode] = [p for p in (s.cond, s.value, s.other) if p is not None]
            for part in parts:
                for sub in _read_subs(part):
                    acc = summarize(sub, False, k, atom_of)
                    if acc is None:
                        raise Refusal("a subscript of something that is not a plain name")
                    out.append(acc)
            if s.kind == "where":
                assert type(s.target) is cst.Subscript
                acc = summarize(s.target, True, k, atom_of)
                if acc is None:
                    raise Refusal("writes into something that is not a plain name")
                if s.other is None:  # the untouched elements are read back
                    out.append(Access(acc.array, acc.indices, False, k, acc.node, acc.has_slice))
                out.append(acc)
            continue
        assert type(s.node) in (cst.Assign, cst.AugAssign)
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
        rank = ctx.arrays.rank(acc.array)
        if rank is not None and rank != len(acc.indices):
            raise Refusal(
                f"{acc.array} has {rank} dimensions but is indexed with {len(acc.indices)}"
            )
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


def _rank_guard(
    stmts: list[_Stmt], accesses: list[Access], nest: LoopNest, ctx: _Context
) -> tuple[str, bool]:
    """`a.ndim == x.ndim == 1 and ...` when the slices are right only for ranks the function
    does not prove, else "".

    The loop reads `a[i]` as an element; if `a` has more dimensions it reads a row, and
    `out[:n] = a[:n] + x[:n]` then lines `x` up with `a`'s last axis instead of its
    first (silently, when the sizes agree). Arrays whose rank comes from one parameter
    (`out = np.zeros_like(a)`) all have that rank, so a nest touching one such class
    only is safe whatever the rank; so is a nest storing only into arrays allocated with
    a known rank (a row cannot be stored into an element, and the slices' extra axis
    cannot be assigned either). Both hold only for statements that store what they
    compute: a condition in a nest (`if x[j] > 0:` is fine with a 1-element row `x[j]`,
    and `np.where` would line `x[None, :m]` up with the last axis), a scatter's index
    array or a reduction into a scalar (`s += x[i]` over a 2-D `x` sums rows into a
    row, `np.sum` sums everything) need elements whatever the class, and so does a nest
    using its loop index as a value (`np.arange(n)` has the nest's rank, not the
    arrays'). Otherwise each class of unproven rank is checked once.

    The second value is True when the exemption holds only while the loop runs: over
    zero iterations nothing raises in the loop, while slices of other ranks do not
    broadcast (or a 0-d array cannot be sliced), so the slices need `if n > 0:`.
    """
    classes: dict[tuple[str, str], tuple[str, set[int]]] = {}
    members: dict[tuple[str, str], set[str]] = {}
    proven_target = True
    facts = _RankFacts(_int_bound_names(nest, ctx), _ranks_shown_before(ctx))
    for acc in accesses:
        key = _rank_class(acc.array, ctx, facts)
        if key[0] == "proven" and int(key[1]) != len(acc.indices):
            raise Refusal(
                f"{acc.array} has {key[1]} dimensions but is indexed with {len(acc.indices)}"
            )
        name, counts = classes.setdefault(key, (acc.array, set()))
        counts.add(len(acc.indices))
        members.setdefault(key, set()).add(acc.array)
        if acc.write and key[0] != "proven":
            proven_target = False
    unknown = [(name, counts) for key, (name, counts) in classes.items() if key[0] != "proven"]
    # the exemptions hold for values that are stored, not for values that are tested
    # (`if x[j] > 0:` takes a 1-element row), used as indices (`h[idx[i]] += w`) or
    # reduced; nor when the loop index becomes `np.arange`, an array of the nest's rank
    # (in a single loop a tested row is lined up like a stored one: `np.where` over
    # (n,) and (n, 1) slices is (n, n), which cannot be stored into `out[:n]` either)
    stored_only = all(
        st.kind in _STORING_KINDS or (st.kind == "where" and len(nest.loops) == 1) for st in stmts
    )
    index_value = any(_reads_index_value(st, nest.vars) for st in stmts)
    one_class = len(classes) == 1 and bool(unknown) and len(unknown[0][1]) == 1
    if not unknown:
        return "", False
    unproven = {n for key, names in members.items() if key[0] != "proven" for n in names}
    if stored_only and one_class and not index_value:
        # one rank for all: the slices line up, but over zero iterations a 0-d member
        # (`n = x.size`) cannot be sliced where the loop ran nothing
        return "", not _bounds_show_rank(nest, unproven, ctx)
    if stored_only and proven_target and _rows_reach_stores(stmts, unproven, ctx):
        # a row read here would be stored into an element (raising in the loop) on every
        # iteration; over zero iterations the loop raises nothing while the slices of
        # another rank do not broadcast (`out[:0] = x[:0]` with `x` of shape (0, 2))
        return "", True
    by_rank: dict[int, list[str]] = {}
    for name, counts in unknown:
        if len(counts) > 1:
            raise Refusal(
                f"{name} and an array of the same shape are indexed with "
                f"{' and '.join(str(c) for c in sorted(counts))} subscripts: rows and "
                "elements cannot be told apart"
            )
        by_rank.setdefault(counts.pop(), []).append(name)
    guard = " and ".join(
        " == ".join(f"{name}.ndim" for name in names) + f" == {rank}"
        for rank, names in sorted(by_rank.items())
    )
    return guard, False


#: statement kinds that store every value they compute (see `_rank_guard`)
_STORING_KINDS = frozenset({"elementwise", "augwrite", "temp", "rowreduce"})


def _rows_reach_stores(stmts: list[_Stmt], unproven: set[str], ctx: _Context) -> bool:
    """True when every array of unproven rank read by a statement reaches, through
    elementwise arithmetic only, each value that statement may store: a row read
    then raises in the loop's element store on every iteration. Builtin `min`/`max`
    pick an operand (`max(x[i], 0.0)` may store `0.0`), an `if` tests a 1-element row
    (`if x[i] > 0: out[i] = 1.0`) and a one-branch `if` may never store it."""
    temps = {
        s.target.value: s.value
        for s in stmts
        if s.kind == "temp" and type(s.target) is cst.Name and s.value is not None
    }

    def reads(node: cst.CSTNode | None, seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        if node is None:
            return found
        for n in walk(node):
            if type(n) is cst.Subscript:
                flat = flatten_subscript(n)
                if flat is not None:
                    found.add(flat[0].value)
            elif type(n) is cst.Name and n.value in temps and n.value not in seen:
                found |= reads(temps[n.value], seen | {n.value})
        return found & unproven

    def reaches(node: cst.CSTNode, seen: frozenset[str] = frozenset()) -> set[str]:
        if type(node) is cst.Subscript:
            flat = flatten_subscript(node)
            return {flat[0].value} & unproven if flat is not None else set()
        if type(node) is cst.Name:
            if node.value in temps and node.value not in seen:
                return reaches(temps[node.value], seen | {node.value})
            return set()
        if type(node) is cst.BinaryOperation:
            return reaches(node.left, seen) | reaches(node.right, seen)
        if type(node) is cst.UnaryOperation:
            return reaches(node.expression, seen)
        if type(node) is cst.Comparison:
            found = reaches(node.left, seen)
            for c in node.comparisons:
                found |= reaches(c.comparator, seen)
            return found
        if type(node) is cst.Call and (
            ctx.resolver.builtin_name(node.func) == "abs"
            or ctx.resolver.numpy_name(node.func) in ELEMENTWISE_UFUNCS
        ):
            found = set()
            for a in node.args:
                found |= reaches(a.value, seen)
            return found
        return set()

    for s in stmts:
        if s.kind == "temp":
            continue  # checked where it is used
        read = reads(s.value) | reads(s.cond) | reads(s.other)
        if s.kind == "where":
            read |= reads(s.target)
            stored = [s.value, s.other if s.other is not None else s.target]
        else:
            stored = [s.value]
        for value in stored:
            if value is None or not read <= reaches(value):
                return False
    return True


def _bounds_show_rank(nest: LoopNest, names: set[str], ctx: _Context) -> bool:
    """True when a loop bound is `len(x)` / `x.shape[k]` of one of `names` (or a name
    bound once to that): the array has at least one dimension before the loop runs."""
    for lp in nest.loops:
        for atom in lp.start.atoms() | lp.stop.atoms():
            values = [atom]
            if atom.isidentifier():
                stored = ctx.facts.stored_only_from(atom)
                if atom in ctx.facts.params or not stored or len(stored) != 1:
                    continue
                values = [node_code(stored[0])]
            for text in values:
                for name in names:
                    if text == f"len({name})" or re.fullmatch(
                        rf"{re.escape(name)}\.shape\[\d+\]", text
                    ):
                        return True
    return False


def _reads_index_value(s: _Stmt, loop_vars: Sequence[str]) -> bool:
    """True when the statement reads a loop index as a value (outside subscripts)."""

    def reads(node: cst.CSTNode) -> bool:
        if type(node) is cst.Subscript:
            return reads(node.value)
        if type(node) is cst.Attribute:
            return reads(node.value)
        if type(node) is cst.Name:
            return node.value in loop_vars
        return any(reads(child) for child in node.children)

    return any(reads(part) for part in (s.value, s.cond, s.other) if part is not None)


def _is_rank_guard_test(test: cst.BaseExpression) -> bool:
    """True for the test of a rank guard this pass writes: `a.ndim == b.ndim == 1`,
    clauses joined by `and` (`features._is_rank_guard` reads the same form)."""
    while type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        if not _is_rank_guard_test(test.right):
            return False
        test = test.left
    if type(test) is not cst.Comparison:
        return False
    if not all(type(c.operator) is cst.Equal for c in test.comparisons):
        return False
    *arrays, rank = [test.left, *(c.comparator for c in test.comparisons)]
    return type(rank) is cst.Integer and all(
        type(a) is cst.Attribute and a.attr.value == "ndim" and type(a.value) is cst.Name
        for a in arrays
    )


def _rank_guarded_loops(tree: cst.CSTNode) -> set[int]:
    """Ids of the loops a vectorize rewrite left as the fallback of its rank guard
    (`if x.ndim == 1: <slices> else: <loop>`): already rewritten, not to be again."""
    found: set[int] = set()
    for node in walk(tree):
        if type(node) is not cst.If or type(node.orelse) is not cst.Else:
            continue
        body = node.orelse.body.body if type(node.orelse.body) is cst.IndentedBlock else ()
        if len(body) == 1 and type(body[0]) is cst.For and _is_rank_guard_test(node.test):
            found.add(id(body[0]))
    return found


@dataclass(frozen=True)
class _RankFacts:
    """What proves ranks around one nest: names that are integers when it runs
    (`_int_bound_names`) and exact ranks shown before it (`_ranks_shown_before`)."""

    sizes: frozenset[str]
    exact: dict[str, int]


def _ranks_shown_before(ctx: _Context) -> dict[str, int]:
    """`a` -> 2 for a statement `n, m = a.shape` in the function's own block, before the
    statement holding the nest, with `a` bound nowhere else: the unpacking raises
    unless `a` has exactly two dimensions, and it has run whenever the nest runs;
    `x` -> 1 for `x = np.ravel(x)` (`x.ravel()`, `x.reshape(-1)`) there, as the last
    binding of `x`, and for `if x.ndim != 1: raise ...` there (`x` not rebound after)."""
    loop = ctx.current_loop
    func = ctx.facts.node
    found: dict[str, int] = {}
    if loop is None or type(func.body) is not cst.IndentedBlock:
        return found
    holder = next((st for st in func.body.body if any(n is loop for n in walk(st))), None)
    earlier: dict[str, int] = {}  # plain `name = ...` stores in the statements so far
    for stmt in func.body.body:
        if stmt is holder:
            break
        checked = _rank_check(stmt)
        if checked is not None:
            name, rank = checked
            if len(ctx.facts.stores.get(name, [])) == earlier.get(name, 0):
                found[name] = rank  # `if x.ndim != 1: raise ...`, x not rebound after it
            continue
        if type(stmt) is not cst.SimpleStatementLine:
            continue
        for small in stmt.body:
            if type(small) is not cst.Assign or len(small.targets) != 1:
                continue
            target = small.targets[0].target
            if type(target) is cst.Name:
                name = target.value
                earlier[name] = earlier.get(name, 0) + 1
                if _flattens(small.value, ctx) and earlier[name] == len(
                    ctx.facts.stores.get(name, [])
                ):
                    found[name] = 1  # its last binding: `x = np.ravel(x)`
                else:
                    found.pop(name, None)
                continue
            owner = _shape_owner(small.value)
            if owner is None or type(target) not in (cst.Tuple, cst.List):
                continue
            if any(type(e) is cst.StarredElement for e in target.elements):
                continue
            # bound only before this statement: the array unpacked is the one the nest sees
            if len(ctx.facts.stores.get(owner, [])) == earlier.get(owner, 0):
                found[owner] = len(target.elements)
    return found


def _rank_check(stmt: cst.BaseStatement) -> tuple[str, int] | None:
    """(`x`, k) for `if x.ndim != k: raise ...` (nothing else in the branch, no `else`)."""
    if type(stmt) is not cst.If or stmt.orelse is not None:
        return None
    test = stmt.test
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    left, comparison = test.left, test.comparisons[0]
    if not (
        type(left) is cst.Attribute
        and left.attr.value == "ndim"
        and type(left.value) is cst.Name
        and type(comparison.operator) is cst.NotEqual
        and type(comparison.comparator) is cst.Integer
    ):
        return None
    body = stmt.body.body if type(stmt.body) is cst.IndentedBlock else ()
    if not (
        len(body) == 1
        and type(body[0]) is cst.SimpleStatementLine
        and len(body[0].body) == 1
        and type(body[0].body[0]) is cst.Raise
    ):
        return None
    return left.value.value, int(comparison.comparator.value, 0)


def _int_bound_names(nest: LoopNest, ctx: _Context) -> frozenset[str]:
    """Names in the nest's `range` bounds bound at most once: integers when the loop runs
    (`range` raises otherwise), so `np.zeros(n)` with such an `n` is 1-D."""
    names: set[str] = set()
    for lp in nest.loops:
        for atom in lp.start.atoms() | lp.stop.atoms():
            if not atom.isidentifier():
                continue
            stores = ctx.facts.stores.get(atom, [])
            if atom in ctx.facts.params or atom in ctx.facts.declared_nonlocal:
                if not stores and atom not in ctx.facts.declared_nonlocal:
                    names.add(atom)
            elif len(stores) == 1:
                names.add(atom)
    return frozenset(names)


def _is_int_size(node: cst.BaseExpression, sizes: frozenset[str]) -> bool:
    """An integer literal, a name of `sizes`, or `+ - * //` of those."""
    if type(node) is cst.Integer:
        return True
    if type(node) is cst.Name:
        return node.value in sizes
    if type(node) is cst.BinaryOperation and type(node.operator) in (
        cst.Add,
        cst.Subtract,
        cst.Multiply,
        cst.FloorDivide,
    ):
        return _is_int_size(node.left, sizes) and _is_int_size(node.right, sizes)
    return False


def _rank_class(
    name: str, ctx: _Context, facts: _RankFacts, seen: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """Which names certainly have the same rank as `name`: ("proven", "k") for an
    allocation of known rank, ("like", p) for `p` and the names bound only to
    `np.zeros_like(p)`, `p.copy()`, `np.asarray(p)`, `p * 2.0`... (one class per
    parameter), else ("own", name)."""
    rank = ctx.arrays.rank(name)
    if rank is not None:
        return ("proven", str(rank))
    if name in facts.exact:
        return ("proven", str(facts.exact[name]))
    values = ctx.facts.stored_only_from(name)
    if name in ctx.facts.params:
        # a parameter keeps its rank if rebound only to itself (`a = np.asarray(a)`);
        # otherwise (`a = a[0]`) arrays allocated like it may have another rank
        stable = values is not None and all(_same_rank_source(v) == name for v in values)
        return ("like", name) if stable else ("own", name)
    if name in seen:
        return ("like", name)
    if not values:
        return ("own", name)
    classes = {_value_rank_class(v, ctx, facts, seen | {name}) for v in values}
    if len(classes) != 1 or None in classes:
        return ("own", name)
    found = classes.pop()
    assert found is not None
    return found


def _value_rank_class(
    value: cst.BaseExpression, ctx: _Context, facts: _RankFacts, seen: frozenset[str]
) -> tuple[str, str] | None:
    """The rank class of an expression (see `_rank_class`), None when unknown."""
    if type(value) is cst.BinaryOperation:
        sides = [
            None if type(v) in (cst.Integer, cst.Float) else _value_rank_class(v, ctx, facts, seen)
            for v in (value.left, value.right)
        ]
        known = {c for c in sides if c is not None}
        literal = [type(v) in (cst.Integer, cst.Float) for v in (value.left, value.right)]
        if len(known) == 1 and all(
            c is not None or lit for c, lit in zip(sides, literal, strict=True)
        ):
            return known.pop()  # `p * 2.0`, `p + q` of one class: p's rank
        return None
    rank = ctx.arrays.rank_of_value(value)
    if rank is not None:
        return ("proven", str(rank))
    if _flattens(value, ctx):
        return ("proven", "1")
    if (
        type(value) is cst.Call
        and ctx.resolver.numpy_name(value.func) in ("zeros", "ones", "empty", "full")
        and value.args
        and value.args[0].keyword is None
        and not value.args[0].star
        and _is_int_size(value.args[0].value, facts.sizes)
    ):
        return ("proven", "1")
    source = _same_rank_source(value)
    if source is None:
        return None
    if source in seen:
        return ("like", source)
    found = _rank_class(source, ctx, facts, seen)
    if found == ("own", source) and source in ctx.facts.params:
        return None  # a parameter rebound to another rank: not a class of its own
    return found


def _flattens(value: cst.BaseExpression, ctx: _Context) -> bool:
    """`x.ravel()`, `x.flatten()`, `x.reshape(-1)`, `np.ravel(x)`: certainly 1-D."""
    if type(value) is not cst.Call or type(value.func) is not cst.Attribute:
        return False
    if ctx.resolver.numpy_name(value.func) == "ravel":
        return True
    attr = value.func.attr.value
    if attr in ("ravel", "flatten") and not value.args:
        return True
    if attr == "reshape" and len(value.args) == 1 and value.args[0].keyword is None:
        arg = value.args[0].value
        if type(arg) in (cst.Tuple, cst.List) and len(arg.elements) == 1:
            arg = arg.elements[0].value
        return (
            type(arg) is cst.UnaryOperation
            and type(arg.operator) is cst.Minus
            and type(arg.expression) is cst.Integer
            and arg.expression.value == "1"
        )
    return False


def _same_rank_source(value: cst.BaseExpression) -> str | None:
    """`p` when `value` is `p`, `p.copy()`, `p.astype(...)` or a same-rank numpy call
    (`np.zeros_like(p)`, `np.asarray(p)`, `np.zeros(p.shape)`, ...); else None."""
    if type(value) is cst.Name:
        return value.value
    if type(value) is not cst.Call or type(value.func) is not cst.Attribute:
        return None
    attr = value.func.attr.value
    owner = value.func.value
    if (
        attr in ("copy", "astype")
        and type(owner) is cst.Name
        and not (attr == "copy" and value.args)
    ):
        return owner.value
    if attr in ("zeros", "ones", "empty", "full") and value.args:
        first = value.args[0]
        if first.keyword is None and not first.star:
            return _shape_owner(first.value)  # `np.zeros(p.shape)`
        return None
    if attr in _SAME_RANK_CALLS and not any(a.star for a in value.args):
        positional = [a.value for a in value.args if a.keyword is None]
        if (
            positional
            and type(positional[0]) is cst.Name
            and not any(
                a.keyword is not None and a.keyword.value in ("shape", "ndmin") for a in value.args
            )
        ):
            return positional[0].value
    return None


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
        if ctx.relation(acc.array, target.array) is not Relation.DISJOINT:
            raise Refusal(f"{target.array} and {acc.array} may share memory")
    unsafe.add(
        f"the sum into {target.array} over {', '.join(missing)} is reassociated ({_REASSOCIATED})"
    )
    s.kind = "rowreduce"


def _is_scan_read(acc: Access, stmts: list[_Stmt]) -> bool:
    """The read of the previous element in a scan statement (checked by the emitter)."""
    if acc.write or acc.stmt >= len(stmts) or stmts[acc.stmt].kind != "scan":
        return False
    if len(stmts) != 1:
        raise Refusal("a scan together with other statements")
    target = stmts[acc.stmt].target
    assert type(target) is cst.Subscript
    flat = flatten_subscript(target)
    return flat is not None and flat[0].value == acc.array


def _check_scatter(stmts: list[_Stmt], accesses: list[Access], ctx: _Context) -> None:
    for s in stmts:
        if s.kind != "scatter":
            continue
        assert type(s.target) is cst.Subscript
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
            if acc.array != base and ctx.relation(acc.array, base) is not Relation.DISJOINT:
                raise Refusal(f"{base} and {acc.array} may share memory")


# --------------------------------------------------------------------------------------------
# static proof: what holds when the loop starts (bound names, ndarrays, dtypes, extents)

#: attributes a Python list/tuple does not have: reading one proves an array-like object
_ARRAY_ONLY_ATTRIBUTES = frozenset(
    {"shape", "ndim", "dtype", "size", "T", "strides", "flat", "astype", "reshape",
     "ravel", "nbytes", "itemsize", "flatten"}
)  # fmt: skip
#: numpy functions that turn their argument into an ndarray (`x = np.asarray(x)`)
_AS_ARRAY = frozenset({"asarray", "array", "ascontiguousarray", "asfortranarray", "copy"})
_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
_LIKE = frozenset({"empty_like", "zeros_like", "ones_like", "full_like"})
_FLOAT_RANDOM = frozenset(
    {"random.rand", "random.randn", "random.random", "random.random_sample",
     "random.standard_normal", "random.uniform", "random.normal"}
)  # fmt: skip
#: position of the `dtype` argument when passed positionally
_DTYPE_POSITION = {"empty": 1, "zeros": 1, "ones": 1, "full": 2, "empty_like": 1,
                   "zeros_like": 1, "ones_like": 1, "full_like": 2, "array": 1,
                   "asarray": 1}  # fmt: skip


def _call_dtype(call: cst.Call, position: int | None) -> cst.BaseExpression | None:
    """The dtype argument of a numpy call: `dtype=` or the positional argument at
    `position` (see `_DTYPE_POSITION`), else None."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "dtype":
            return a.value
    positional = [a.value for a in call.args if a.keyword is None]
    if position is not None and len(positional) > position:
        return positional[position]
    return None


def _child_blocks(stmt: cst.CSTNode) -> list[Sequence[cst.BaseStatement]]:
    """The statement lists directly inside a compound statement (not nested scopes)."""
    if type(stmt) in (cst.FunctionDef, cst.ClassDef):
        return []
    blocks: list[Sequence[cst.BaseStatement]] = []
    for attr in ("body", "orelse", "finalbody"):
        part = getattr(stmt, attr, None)
        if type(part) is cst.IndentedBlock:
            blocks.append(part.body)
        elif type(part) in (cst.Else, cst.Finally) and type(part.body) is cst.IndentedBlock:
            blocks.append(part.body.body)
        elif type(part) is cst.If:
            blocks.extend(_child_blocks(part))
    for handler in getattr(stmt, "handlers", ()) or ():
        if type(handler.body) is cst.IndentedBlock:
            blocks.append(handler.body.body)
    for case in getattr(stmt, "cases", ()) or ():
        if type(case.body) is cst.IndentedBlock:
            blocks.append(case.body.body)
    return blocks


def _dominators(
    block: Sequence[cst.BaseStatement], loop: cst.For
) -> list[cst.BaseStatement] | None:
    """Statements that have certainly run, in order, whenever `loop` starts: the
    statements before it in its block and before each enclosing statement in theirs
    (None when `loop` is not inside `block`)."""
    for k, stmt in enumerate(block):
        if stmt is loop:
            return list(block[:k])
        for sub in _child_blocks(stmt):
            found = _dominators(sub, loop)
            if found is not None:
                return list(block[:k]) + found
    return None


def _inside_try(block: Sequence[cst.BaseStatement], loop: cst.For) -> bool:
    """True when `loop` is nested in a `try` statement of the function (an exception it
    raises may be caught, and the arrays it wrote so far then seen)."""
    for stmt in block:
        for sub in _child_blocks(stmt):
            if any(s is loop for s in _walk_statements(sub)):
                if type(stmt) in (cst.Try, cst.TryStar):
                    return True
                return _inside_try(sub, loop)
    return False


def _walk_statements(block: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """Every statement in `block` and in the blocks nested in it (not nested scopes)."""
    out: list[cst.BaseStatement] = []
    for stmt in block:
        out.append(stmt)
        for sub in _child_blocks(stmt):
            out.extend(_walk_statements(sub))
    return out


def _certainly_evaluated(stmt: cst.BaseStatement) -> list[cst.CSTNode]:
    """Expression nodes that are evaluated whenever `stmt` runs to completion: not in an
    `assert` (stripped by `python -O`), a nested block, the right of `and`/`or`, the
    branches of `x if c else y`, or a lambda/comprehension."""
    roots: list[cst.CSTNode] = []
    if type(stmt) is cst.SimpleStatementLine:
        roots = [s for s in stmt.body if type(s) is not cst.Assert]
    elif type(stmt) in (cst.If, cst.While):
        roots = [stmt.test]
    elif type(stmt) is cst.For:
        roots = [stmt.iter]
    elif type(stmt) is cst.With:
        roots = [item.item for item in stmt.items]
    out: list[cst.CSTNode] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        out.append(node)
        if type(node) is cst.BooleanOperation:
            stack.append(node.left)
        elif type(node) is cst.IfExp:
            stack.append(node.test)
        elif is_scope(node) or type(node) in (
            cst.Lambda,
            cst.ListComp,
            cst.SetComp,
            cst.DictComp,
            cst.GeneratorExp,
        ):
            continue
        else:
            stack.extend(iter_children(node))
    return out


def _target_names(target: cst.BaseExpression) -> list[str]:
    if type(target) is cst.Name:
        return [target.value]
    if type(target) in (cst.Tuple, cst.List):
        return [n for el in target.elements for n in _target_names(el.value)]
    if type(target) is cst.StarredElement:
        return _target_names(target.value)
    return []


@dataclass
class _Proof:
    """Facts that hold when one loop starts, for the static proof of its rewrite.

    `bound`: names certainly bound (parameters and names assigned by statements
    that have certainly run before the loop, minus any `del`); `dominators`: those
    statements. Dtypes and extents come from the single binding of a local array.
    """

    ctx: _Context
    loop: cst.For
    dominators: list[cst.BaseStatement]
    bound: set[str]
    in_try: bool

    @classmethod
    def build(cls, ctx: _Context, loop: cst.For) -> _Proof:
        body = ctx.facts.node.body
        block = body.body if type(body) is cst.IndentedBlock else ()
        dominators = _dominators(block, loop) or []
        shared = ctx.facts.declared_nonlocal | ctx.facts.rebound_in_nested
        bound = set(ctx.facts.params) - shared
        for stmt in dominators:
            if type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    if type(small) is cst.Assign:
                        for t in small.targets:
                            bound.update(_target_names(t.target))
                    elif type(small) is cst.AnnAssign and small.value is not None:
                        bound.update(_target_names(small.target))
                    elif type(small) is cst.AugAssign:
                        bound.update(_target_names(small.target))
            elif type(stmt) in (cst.FunctionDef, cst.ClassDef):
                bound.add(stmt.name.value)
            for node in walk(stmt):
                if type(node) is cst.Del:
                    bound -= {n.value for n in names_in(node.target)}
        return cls(ctx, loop, dominators, bound - shared, _inside_try(block, loop))

    # -- names and values ------------------------------------------------------------------

    def _single_value(self, name: str) -> cst.BaseExpression | None:
        """The value of the only binding of local `name` (a plain assignment), else None."""
        if name in self.ctx.facts.params or name in self.ctx.facts.declared_nonlocal:
            return None
        if name in self.ctx.facts.rebound_in_nested:
            return None
        bindings = self.ctx.facts.bindings.get(name, [])
        if len(bindings) != 1 or bindings[0].kind != "assign":
            return None
        return bindings[0].value

    def _stable(self, name: str) -> bool:
        """True when `name` has one value for the whole function once bound."""
        facts = self.ctx.facts
        if name in facts.declared_nonlocal or name in facts.rebound_in_nested:
            return False
        if name in facts.params:
            return name not in facts.stores or self._converted(name) is not None
        # bound once, by a statement that has run before the loop (a binding inside an
        # enclosing loop body after this loop would give its arrays another epoch)
        return len(facts.bindings.get(name, [])) == 1 and name in self.assigned_before

    @cached_property
    def assigned_before(self) -> set[str]:
        """Names assigned by the plain assignments among the dominators."""
        names: set[str] = set()
        for stmt in self.dominators:
            if type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    if type(small) is cst.Assign:
                        for t in small.targets:
                            names.update(_target_names(t.target))
                    elif type(small) is cst.AnnAssign and small.value is not None:
                        names.update(_target_names(small.target))
        return names

    def _converted(self, name: str) -> cst.Call | None:
        """The call of `name = np.asarray(name[, dtype])` when that is the only rebinding of
        parameter `name`, a top-level statement of the function that has run before the
        loop (it keeps the length and makes an ndarray), else None."""
        facts = self.ctx.facts
        bindings = facts.bindings.get(name, [])
        if name not in facts.params or len(bindings) != 1 or bindings[0].kind != "assign":
            return None
        value = bindings[0].value
        if self.numpy_call(value) not in ("asarray", "array", "ascontiguousarray"):
            return None
        assert type(value) is cst.Call
        args = value.args
        first = args[0] if args else None
        if first is None or first.keyword is not None or not _is_name(first.value, name):
            return None
        if any(a.keyword is not None and a.keyword.value != "dtype" for a in args[1:]):
            return None
        if len([a for a in args if a.keyword is None]) > 2:
            return None
        body = facts.node.body
        top = body.body if type(body) is cst.IndentedBlock else ()
        for stmt in self.dominators:
            if any(stmt is t for t in top) and any(n is value for n in walk(stmt)):
                return value
        return None

    def _unpacked(self, name: str) -> cst.BaseExpression | None:
        """`a.shape[k]` for a name bound once by `..., name, ... = a.shape`."""
        if not self._stable(name) or name in self.ctx.facts.params:
            return None
        for node in walk(self.ctx.facts.node.body, prune=is_scope):
            if type(node) is not cst.Assign or len(node.targets) != 1:
                continue
            target = node.targets[0].target
            if type(target) not in (cst.Tuple, cst.List):
                continue
            names = [el.value for el in target.elements]
            if not any(type(n) is cst.Name and n.value == name for n in names):
                continue
            value = node.value
            if not (all(type(n) is cst.Name for n in names)
                    and type(value) is cst.Attribute and value.attr.value == "shape"
                    and type(value.value) is cst.Name):  # fmt: skip
                return None
            k = next(i for i, n in enumerate(names) if type(n) is cst.Name and n.value == name)
            return cst.parse_expression(f"{value.value.value}.shape[{k}]")
        return None

    def numpy_call(self, value: cst.BaseExpression | None) -> str | None:
        """The numpy function `value` calls (`zeros`, `empty_like`...), None otherwise."""
        if type(value) is cst.Call and not any(a.star for a in value.args):
            return self.ctx.resolver.numpy_name(value.func)
        return None

    # -- ndarray evidence ------------------------------------------------------------------

    def is_ndarray(self, name: str, depth: int = 0) -> bool:
        """True when `name` certainly holds a NumPy ndarray when the loop starts: a local
        bound only by numpy allocations, or a parameter whose list-free use (`x.shape`,
        `x.dtype`...) or `x = np.asarray(x)` has certainly run before the loop."""
        if depth > 6:
            return False
        facts = self.ctx.facts
        root, viewed = self.ctx.arrays.root(name)
        if root != name:
            # an alias is the same object; a view of a numeric ndarray is an ndarray
            if viewed and root not in self.ctx.arrays.numeric:
                return False
            return self.is_ndarray(root, depth + 1)
        if name in facts.params:
            if name in facts.declared_nonlocal or name in facts.rebound_in_nested:
                return False
            bindings = facts.bindings.get(name, [])
            if bindings:
                dominating = {id(n) for s in self.dominators for n in walk(s)}
                return all(
                    b.kind == "assign" and self.numpy_call(b.value) in _AS_ARRAY
                    and id(b.value) in dominating
                    for b in bindings
                )  # fmt: skip
            return self._array_attribute_before(name)
        bindings = facts.bindings.get(name, [])
        if not bindings or name in facts.declared_nonlocal or name in facts.rebound_in_nested:
            return False
        return all(
            b.kind == "assign" and b.value is not None and self._value_is_ndarray(b.value, depth)
            for b in bindings
        )

    def _value_is_ndarray(self, value: cst.BaseExpression, depth: int) -> bool:
        """A numpy allocation, `x.copy()` of an ndarray, or arithmetic of an ndarray
        with numeric literals or other ndarrays."""
        if depth > 6:
            return False
        np_name = self.numpy_call(value)
        if np_name is not None:
            # numpy allocations and conversions return base-class ndarrays (not with
            # `subok=True`, and not `asanyarray`, which keep np.matrix, whose `*` differs)
            assert type(value) is cst.Call
            subok = any(a.keyword is not None and a.keyword.value == "subok" for a in value.args)
            return not subok and np_name in FRESH_ALLOCATORS | _AS_ARRAY
        if type(value) is cst.Name:
            return self.is_ndarray(value.value, depth + 1)
        if (
            type(value) is cst.Call
            and type(value.func) is cst.Attribute
            and value.func.attr.value == "copy"
            and not value.args
        ):
            return self._value_is_ndarray(value.func.value, depth + 1)
        if type(value) is cst.BinaryOperation and isinstance(value.operator, _ARITHMETIC):
            sides = (value.left, value.right)
            literal = [type(p) in (cst.Integer, cst.Float) for p in sides]
            arrays = [
                not lit and self._value_is_ndarray(p, depth + 1)
                for p, lit in zip(sides, literal, strict=True)
            ]
            return any(arrays) and all(a or lit for a, lit in zip(arrays, literal, strict=True))
        return False

    def _array_attribute_before(self, name: str) -> bool:
        """True when `name.shape` (or another attribute lists lack) is certainly read
        before the loop (not in an `assert`, a branch, or behind `and`/`or`)."""
        for stmt in self.dominators:
            for node in _certainly_evaluated(stmt):
                if (
                    type(node) is cst.Attribute
                    and type(node.value) is cst.Name
                    and node.value.value == name
                    and node.attr.value in _ARRAY_ONLY_ATTRIBUTES
                ):
                    return True
        return False

    # -- dtypes ------------------------------------------------------------------------------

    def is_float64(self, name: str) -> bool:
        """`name` is a float64 array allocated here, or a parameter converted by
        `name = np.asarray(name, dtype=np.float64)` before the loop."""
        if self.ctx.arrays.is_float64(name):
            return True
        root, viewed = self.ctx.arrays.root(name)
        converted = None if viewed else self._converted(root)
        if converted is None:
            return False
        dtype = _call_dtype(converted, 1)
        return dtype is not None and self.ctx.arrays._means_float64(dtype)

    def dtype_class(self, name: str, depth: int = 0) -> str | None:
        """ "float", "complex", "int", "bool" or "object" when the allocation of local
        `name` shows its dtype (every binding agrees), None when unknown."""
        if depth > 6:
            return None
        root, viewed = self.ctx.arrays.root(name)
        if viewed:
            return None
        if root in self.ctx.facts.params:
            converted = self._converted(root)
            return self._value_dtype(converted, depth) if converted is not None else None
        bindings = self.ctx.facts.bindings.get(root, [])
        if not bindings or any(b.kind != "assign" or b.value is None for b in bindings):
            return None
        classes = {self._value_dtype(b.value, depth) for b in bindings}  # type: ignore[arg-type]
        return classes.pop() if len(classes) == 1 else None

    def _value_dtype(self, value: cst.BaseExpression, depth: int) -> str | None:
        if depth > 6:
            return None
        if type(value) is cst.Name:
            return self.dtype_class(value.value, depth + 1)
        if type(value) is cst.BinaryOperation and isinstance(value.operator, _ARITHMETIC):
            # `np.arange(n) * 1.0`: a real array with a float literal, or divided, is float
            for arr, lit in ((value.left, value.right), (value.right, value.left)):
                if type(lit) in (cst.Integer, cst.Float) and self._value_is_ndarray(arr, depth):
                    inner = self._value_dtype(arr, depth + 1)
                    real = inner in ("float", "int", "bool", "real")
                    if real and (type(lit) is cst.Float or type(value.operator) is cst.Divide):
                        return "float"
                    if inner == "float":
                        return "float"
            return None
        if type(value) is not cst.Call or any(a.star for a in value.args):
            return None
        func = value.func
        if type(func) is cst.Attribute and func.attr.value == "copy" and not value.args:
            base = func.value
            return self.dtype_class(base.value, depth + 1) if type(base) is cst.Name else None
        np_name = self.ctx.resolver.numpy_name(func)
        if np_name is None:
            return None
        positional = [a.value for a in value.args if a.keyword is None]
        dtype = _call_dtype(value, _DTYPE_POSITION.get(np_name))
        if dtype is not None:
            return self._dtype_of_expression(dtype)
        if (
            np_name in ("empty", "zeros", "ones", "linspace", "logspace")
            or np_name in _FLOAT_RANDOM
        ):
            return "float"
        if np_name == "arange":
            return "real"  # int64 or float64 (a complex range raises)
        if np_name == "full" and len(positional) >= 2:
            fill = positional[1]
            if type(fill) is cst.Float or (
                type(fill) is cst.UnaryOperation and type(fill.expression) is cst.Float
            ):
                return "float"
            return None
        if np_name in _LIKE or np_name == "copy":
            first = positional[0] if positional else None
            if type(first) is cst.Name:
                return self.dtype_class(first.value, depth + 1)
        return None

    def _dtype_of_expression(self, dtype: cst.BaseExpression) -> str | None:
        resolver = self.ctx.resolver
        for builtin, cls in (("float", "float"), ("int", "int"), ("bool", "bool"),
                             ("complex", "complex"), ("object", "object")):  # fmt: skip
            if type(dtype) is cst.Name and resolver.is_builtin(dtype, builtin):
                return cls
        text = resolver.numpy_name(dtype)
        if text is None and type(dtype) is cst.SimpleString:
            evaluated = dtype.evaluated_value
            text = evaluated.lstrip("<>=|") if isinstance(evaluated, str) else None
        if not text:
            return None
        if text in ("?", "b1") or text.startswith("bool"):
            return "bool"
        if text.startswith(("float", "double", "single", "half", "longdouble")) or (
            text[0] in "fdeg" and (len(text) == 1 or text[1:].isdigit())
        ):
            return "float"
        if text.startswith(("complex", "cdouble", "csingle", "clongdouble")) or (
            text[0] in "cDFG" and (len(text) == 1 or text[1:].isdigit())
        ):
            return "complex"
        if text.startswith(("int", "uint", "intp", "uintp", "short", "long", "byte", "ubyte")) or (
            text[0] in "iubBhHlLqQpP" and (len(text) == 1 or text[1:].isdigit())
        ):
            return "int"
        if text.startswith("object") or text == "O":
            return "object"
        return None

    # -- extents -----------------------------------------------------------------------------

    def canon(self, expr: Affine, depth: int = 0) -> Affine | None:
        """`expr` with sizes written one way (`len(x)` -> `x.shape[0]`, `n` -> its only
        value), or None when an atom may change its value during the function."""
        out = Affine.constant(expr.const)
        for atom, coef in expr.terms:
            value = self._canon_atom(atom, depth)
            if value is None:
                return None
            out = out + value.scale(coef)
        return out

    def _canon_atom(self, atom: str, depth: int) -> Affine | None:
        m = re.fullmatch(r"len\((\w+)\)", atom)
        if m:
            return self._canon_atom(f"{m.group(1)}.shape[0]", depth)
        m = re.fullmatch(r"(\w+)\.shape\[(\d+)\]", atom)
        if m:
            return Affine.atom(atom) if self._stable(m.group(1)) else None
        if not re.fullmatch(r"\w+", atom) or depth > 6 or not self._stable(atom):
            return None
        value = self._single_value(atom) or self._unpacked(atom)
        if value is not None:
            parsed = to_affine(value, bound_atom(self.ctx.resolver))
            if parsed is not None:
                return self.canon(parsed, depth + 1)
        return Affine.atom(atom)

    def extents(self, name: str, dim: int, depth: int = 0) -> list[Affine]:
        """Expressions (canonical) provably equal to `name.shape[dim]`."""
        out: list[Affine] = []
        own = self._canon_atom(f"{name}.shape[{dim}]", depth)
        if own is not None:
            out.append(own)
        if depth > 6 or not self._stable(name) or name in self.ctx.facts.params:
            return out
        value = self._single_value(name)
        while type(value) is cst.BinaryOperation and isinstance(value.operator, _ARITHMETIC):
            # `a = np.arange(n) * 1.0`: a literal broadcasts, the array keeps its shape
            if type(value.right) in (cst.Integer, cst.Float):
                value = value.left
            elif type(value.left) in (cst.Integer, cst.Float):
                value = value.right
            else:
                return out
        if type(value) is cst.Name and self.is_ndarray(value.value, depth + 1):
            out.extend(self.extents(value.value, dim, depth + 1))
            return out
        if type(value) is not cst.Call or any(a.star for a in value.args):
            return out
        func = value.func
        positional = [a.value for a in value.args if a.keyword is None]
        keywords = {a.keyword.value for a in value.args if a.keyword is not None}
        if type(func) is cst.Attribute and func.attr.value == "copy" and not value.args:
            if type(func.value) is cst.Name:
                out.extend(self.extents(func.value.value, dim, depth + 1))
            return out
        np_name = self.ctx.resolver.numpy_name(func)
        if np_name in _LIKE or np_name == "copy":
            if "shape" not in keywords and positional and type(positional[0]) is cst.Name:
                out.extend(self.extents(positional[0].value, dim, depth + 1))
        elif np_name == "arange" and dim == 0 and len(positional) == 1 and not keywords:
            parsed = to_affine(positional[0], bound_atom(self.ctx.resolver))
            extent = self.canon(parsed, depth + 1) if parsed is not None else None
            if extent is not None:
                out.append(extent)  # max(n, 0) elements: at least the n a range(n) needs
        elif np_name in ("linspace", "logspace") and dim == 0 and len(positional) >= 3:
            parsed = to_affine(positional[2], bound_atom(self.ctx.resolver))
            extent = self.canon(parsed, depth + 1) if parsed is not None else None
            if extent is not None:
                out.append(extent)
        elif np_name in ("random.rand", "random.randn") and dim < len(positional):
            parsed = to_affine(positional[dim], bound_atom(self.ctx.resolver))
            extent = self.canon(parsed, depth + 1) if parsed is not None else None
            if extent is not None:
                out.append(extent)
        elif np_name in ("empty", "zeros", "ones", "full") and positional:
            shape = positional[0]
            if type(shape) in (cst.Tuple, cst.List):
                if dim < len(shape.elements) and not any(
                    type(el) is cst.StarredElement for el in shape.elements
                ):
                    shape = shape.elements[dim].value
                else:
                    return out
            elif dim != 0:
                return out
            parsed = to_affine(shape, bound_atom(self.ctx.resolver))
            extent = self.canon(parsed, depth + 1) if parsed is not None else None
            if extent is not None:
                out.append(extent)
        return out

    def within(self, name: str, dim: int, needed: Affine) -> bool:
        """True when `name.shape[dim] >= needed` provably (`needed` not yet canonical)."""
        want = self.canon(needed)
        if want is None:
            return False
        nonneg = self.ctx.nonneg
        for extent in self.extents(name, dim):
            diff = extent - want
            if diff.nonneg(lambda a: ".shape[" in a or a in nonneg):
                return True
        return False


def _check_static(
    stmts: list[_Stmt], accesses: list[Access], nest: LoopNest, proof: _Proof, unsafe: _Unsafe
) -> list[str]:
    """What the loop's text does not prove: refuse what is known to differ, and mark
    static_safe False for what depends on values the function does not show.

    Returns the length checks (`len(y) < len(x)`) to emit before the rewrite when an
    array may be shorter than the loop needs and raising IndexError up front is exactly
    what the loop would do (nothing else in it can raise; what it writes is invisible)."""
    ctx = proof.ctx
    arrays = sorted({a.array for a in accesses} | _index_arrays(stmts, ctx))
    lists = [a for a in arrays if not proof.is_ndarray(a)]
    if lists:
        unsafe.add(
            f"{', '.join(lists)} may be a Python list or tuple (nothing that has run before "
            "the loop shows a NumPy array; `*` and `+` repeat and concatenate lists)"
        )
    loops = {lp.var: lp for lp in nest.loops}
    short: list[str] = []
    checks: list[str] = []
    checkable = not _may_raise(stmts, proof, nest) and not _visible_writes(stmts, proof)
    conditional = _conditional_subscripts(stmts)
    # (array, dim, extent needed) of the accesses every iteration evaluates
    always: set[tuple[str, int, str]] = set()
    for acc in accesses:
        if id(acc.node) in conditional:
            continue
        for dim, ix in enumerate(acc.indices):
            used = [] if ix is None else [v for v in nest.vars if ix.coef(v)]
            if ix is not None and len(used) == 1 and ix.coef(used[0]) > 0:
                lp = loops[used[0]]
                needed = ix.substitute(lp.var, lp.stop.plus(-1)).plus(1)
                always.add((acc.array, dim, needed.code()))
    for acc in accesses:
        for dim, ix in enumerate(acc.indices):
            if ix is None:
                continue
            used = [v for v in nest.vars if ix.coef(v)]
            if len(used) != 1 or ix.coef(used[0]) <= 0:
                continue  # no loop index (evaluated as written), or refused when emitted
            lp = loops[used[0]]
            needed = ix.substitute(lp.var, lp.stop.plus(-1)).plus(1)
            if proof.within(acc.array, dim, needed):
                continue
            extent = f"len({acc.array})" if dim == 0 else f"{acc.array}.shape[{dim}]"
            if extent == needed.code():
                continue  # `x[i]` for i in range(len(x)), whatever `x` was bound to
            if acc.array not in short:
                short.append(acc.array)
            check = f"{extent} < {needed.code()}"
            checkable = checkable and lp.step == 1
            if id(acc.node) in conditional and (acc.array, dim, needed.code()) not in always:
                # only some iterations evaluate it (an `if` branch, the right side of
                # `and`/`or`): the loop may never read past the end where np.where
                # reads every element, so neither an up-front IndexError nor the
                # slice is what the loop does
                checkable = False
            if check not in checks:
                checks.append(check)
    if short and not checkable:
        ranges = ", ".join(f"range({lp.start.code()}, {lp.stop.code()})" for lp in nest.loops)
        unsafe.add(
            f"the bounds of {', '.join(short)} are not provably within {ranges} (a short "
            "array raises IndexError in the loop; a slice is silently shorter or broadcasts)"
        )
        checks = []

    for s in stmts:
        if s.kind not in ("elementwise", "augwrite", "where", "scan", "scatter"):
            continue
        assert type(s.target) is cst.Subscript
        flat = flatten_subscript(s.target)
        assert flat is not None
        base = flat[0].value
        cls = proof.dtype_class(base)
        values = [v for v in (s.value, s.other) if v is not None]
        if cls in ("int", "bool", "object"):
            if cls != "object" and all(_literal_of(v, cls) for v in values):
                continue
            raise Refusal(
                f"it stores into {base}, a{'n' if cls[0] in 'io' else ''} {cls} array: an element "
                "store casts (and raises on NaN or overflow) differently from a slice "
                "assignment or an in-place ufunc"
            )
        if cls is None:
            unsafe.add(
                f"the dtype of {base} is not visible here (a store into an integer array "
                "raises per element on NaN or overflow, where a slice assignment wraps)"
            )
        if s.kind == "scatter":
            unreal = sorted(
                {n for v in values for n in _names_in(v)}
                - set(nest.vars)
                - {ctx.np}
                - {
                    n
                    for v in values
                    for n in _names_in(v)
                    if proof.dtype_class(n) in ("float", "int", "bool")
                }
            )
            if unreal:
                unsafe.add(
                    f"np.add.at casts like an in-place ufunc and {', '.join(unreal)} may be "
                    f"complex (the dtype is not visible here)"
                )
    _check_where_literals(stmts, nest, proof, unsafe)
    _check_builtin_minmax(stmts, nest, proof, unsafe)
    _check_where_branches(stmts, proof, unsafe)
    _check_indirect(stmts, proof, unsafe)
    _check_partial_state(stmts, proof, nest, unsafe)
    _check_array_rounding(stmts, nest, proof, unsafe)
    return checks


def _check_scalar_names(stmts: list[_Stmt], nest: LoopNest, proof: _Proof, unsafe: _Unsafe) -> bool:
    """Loop-invariant names the loop uses as numbers but the function does not prove to
    be (parameters): an array there broadcasts against the slices. Returns True when
    that needs the slices behind `if n > 0:` (the loop evaluates nothing then, where
    `x[:0] * t` with `t` of shape (2,) raises); marks static_safe False for a name that
    only an `if` branch reads, which the loop may never evaluate (`out[i] = t` under a
    test no element passes) where np.where broadcasts it against every element."""
    ctx = proof.ctx
    local = (
        set(nest.vars) | {ctx.np} | {s.target.value for s in stmts if type(s.target) is cst.Name}
    )

    def unproven(node: cst.CSTNode | None) -> set[str]:
        """Names read as values in `node`, outside subscripts (arrays, integer indices)."""
        found: set[str] = set()
        if node is None or type(node) is cst.Subscript:  # `walk` never prunes its root
            return found
        skip: set[int] = set()
        for n in walk(node, prune=_is_subscript):
            if type(n) is cst.Attribute:
                skip.add(id(n.attr))
            elif type(n) is cst.Call:
                skip.add(id(n.func))
            elif type(n) is cst.Arg and n.keyword is not None:
                skip.add(id(n.keyword))
            elif type(n) is cst.Name and id(n) not in skip and n.value not in local:
                if n.value in ("True", "False", "None") or ctx.resolver.numpy_name(n) is not None:
                    continue
                if ctx.resolver.builtin_name(n) is None and not _proven_number(n.value, proof):
                    found.add(n.value)
        return found

    temps = {
        s.target.value: s.value
        for s in stmts
        if s.kind == "temp" and type(s.target) is cst.Name and s.value is not None
    }

    def through_temps(node: cst.CSTNode | None, seen: frozenset[str] = frozenset()) -> set[str]:
        """`unproven` of `node` and of the values of the temporaries it reads (a branch
        storing `v = t * 2.0` stores `t`, evaluated on every iteration but stored only
        there)."""
        if node is None:
            return set()
        found = unproven(node)
        for name in _names_in(node) & set(temps) - seen:
            found |= through_temps(temps[name], seen | {name})
        return found

    needs_nonempty = False
    for s in stmts:
        if s.kind == "where":
            tested = through_temps(s.cond)
            branch = (through_temps(s.value) | through_temps(s.other)) - tested
            if branch:
                unsafe.add(
                    f"{', '.join(sorted(branch))} may be an array (nothing shows a number): "
                    "np.where broadcasts it against every element, where the loop may "
                    "never evaluate its branch"
                )
            needs_nonempty = needs_nonempty or bool(tested)
        else:
            needs_nonempty = needs_nonempty or bool(
                unproven(s.value) | unproven(s.cond) | unproven(s.other)
            )
    return needs_nonempty


def _conditional_subscripts(stmts: list[_Stmt]) -> set[int]:
    """ids of the subscripts that the loop evaluates only on some iterations: the
    branches of `if c: t[..] = e1 else: t[..] = e2` (and its target when there is no
    `else`), and the right-hand side of `and`/`or` in the condition."""
    out: set[int] = set()

    def mark(node: cst.CSTNode | None) -> None:
        if node is not None:
            out.update(id(n) for n in walk(node) if type(n) is cst.Subscript)

    def condition(test: cst.BaseExpression) -> None:
        for n in walk(test):
            if type(n) is cst.BooleanOperation:
                mark(n.right)

    for s in stmts:
        if s.kind == "where":
            mark(s.value)
            mark(s.other)
            if s.other is None:
                mark(s.target)
            if s.cond is not None:
                condition(s.cond)
        elif s.kind == "reduction" and type(s.node) is cst.If:
            mark(s.value)
            if s.cond is not None:
                condition(s.cond)
            condition(s.node.test)
    return out


def _check_where_literals(
    stmts: list[_Stmt], nest: LoopNest, proof: _Proof, unsafe: _Unsafe
) -> None:
    """`np.where(c, a, b)` (from builtin `min`/`max` and conditional stores) casts both
    branches to their common dtype, where the loop keeps each value as it is: a literal
    meeting a narrower array changes (`np.where(c, 300, uint8)` wraps to 44,
    `np.where(c, 0.1, float32)` rounds to float32; `max(x[i], 300)` is 300). Static only
    when the literal is exact in every dtype or the other branch is float64."""
    ctx = proof.ctx

    def float64_branch(node: cst.BaseExpression) -> bool:
        if _narrow_exact(node) is not None:
            return True  # two literals: Python's own types, int64 or float64
        arrays = [flatten_subscript(r) for r in _subscripts_in(node)]
        if not arrays or any(a is None for a in arrays):
            return False
        return all(proof.is_float64(a[0].value) for a in arrays)  # type: ignore[index]

    varying = set(nest.vars) | {s.target.value for s in stmts if type(s.target) is cst.Name}

    def python_scalar(node: cst.BaseExpression) -> bool:
        """A loop-invariant value that may be a Python int or float (a parameter `a`,
        `a * 2`): NumPy casts it to the other branch's dtype like a literal, and its
        value is not visible (`max(x[i], a)` with `a = 300` is 300, `np.where` on an
        int8 `x` gives 44; `a = 0.1` on a float32 `x` is rounded)."""
        if _narrow_exact(node) is not None:
            return False  # a literal: judged by its value
        for n in walk(node):
            if type(n) is cst.Subscript or (type(n) is cst.Name and n.value in varying):
                return False  # an array operand (a NumPy scalar is not cast either)
        return True

    pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
    scalar_pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
    # min/max inside further arithmetic: the loop goes on with a Python number or an
    # element, np.where with one array of the element's dtype
    nested_pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
    for s in stmts:
        if s.kind == "where" and s.value is not None:
            pairs.append((s.value, s.other if s.other is not None else s.target))  # type: ignore[arg-type]
            if s.other is not None:  # without `else`, the cast is the store's own cast
                scalar_pairs.append((s.value, s.other))
        for part in (s.value, s.cond, s.other):
            if part is None:
                continue
            for n in walk(part):
                if (
                    type(n) is cst.Call
                    and ctx.resolver.builtin_name(n.func) in ("min", "max")
                    and len(n.args) == 2
                    and n is not s.node
                    and _names_in(n) & varying  # loop-invariant: kept as the builtin
                ):
                    pairs.append((n.args[0].value, n.args[1].value))
                    scalar_pairs.append((n.args[0].value, n.args[1].value))
                    if n is not part:
                        nested_pairs.append((n.args[0].value, n.args[1].value))
    for a, b in scalar_pairs:
        for value, other in ((a, b), (b, a)):
            if python_scalar(value) and not float64_branch(other):
                unsafe.add(
                    f"np.where casts `{node_code(value)}`, which may be a Python int or float "
                    f"of any value, to the dtype of `{node_code(other)}`, which is not visible "
                    "here (300 wraps to 44 in an int8 array, 0.1 is rounded in a float32 "
                    "one), where the loop keeps the value"
                )
    for a, b in nested_pairs:
        for lit, other in ((a, b), (b, a)):
            if _narrow_exact(lit) is not None and not float64_branch(other):
                unsafe.add(
                    f"`min`/`max` of `{node_code(lit)}` and `{node_code(other)}` feeds more "
                    "arithmetic: the loop goes on with the Python number where np.where "
                    "gives the array's dtype (`max(x[i], 7) / 3` is 7/3 in float64 for the "
                    "loop, in float32 for a float32 `x`; an int64 `x` becomes float64)"
                )
    for a, b in pairs:
        for lit, other in ((a, b), (b, a)):
            if _narrow_exact(lit) is False and not float64_branch(other):
                unsafe.add(
                    f"np.where casts `{node_code(lit)}` to the dtype of `{node_code(other)}`, "
                    "which is not visible here (an int outside 0..127 wraps in a uint8 or int8 "
                    "array, a float that float16 cannot hold is rounded in a float16 or "
                    "float32 one), where the loop keeps the literal"
                )


def _check_builtin_minmax(
    stmts: list[_Stmt], nest: LoopNest, proof: _Proof, unsafe: _Unsafe
) -> None:
    """Builtin `min(a, b)`/`max(a, b)` compare their arguments and branch on the result:
    the loop raises when an argument is not a number (a row of an array with more
    dimensions than the loop's subscripts: "truth value ... ambiguous"; a list bound:
    TypeError), where `np.where` broadcasts and returns an array. Static only when every
    argument is proven a number per element: an element of an array whose rank is
    proven equal to its number of subscripts (`ArrayFacts.rank`: an allocation in the
    function), a loop index, a numeric literal, a temporary computed from those, or a
    loop-invariant name bound before the loop to a number (`lo = float(lo)`, `len(x)`).
    An element of an array of unproven rank also counts when the call's value is stored
    into an element of an array of proven rank (`out[i] = max(x[i], 0.0)` with
    `out = np.zeros(n)`): a row makes the loop raise and the slice store raise alike
    (a row of shape (n, m) does not fit into `out[:n]`), except for inputs of shape
    (1, 1) or (0, 1), which the stated assumption that subscripted names have as many
    dimensions as subscripts covers, as it covers `out[i] = x[i] * 2.0`, where the
    same shapes differ (the loop raises on (1, 1) and returns on (0, 1); the slice
    store the reverse). Bounds must be numbers anyway:
    a list or array bound broadcasts in `np.where` whatever the target."""
    ctx = proof.ctx
    temps: dict[str, list[cst.BaseExpression]] = {}
    for s in stmts:
        if s.kind == "temp" and type(s.target) is cst.Name and s.value is not None:
            temps.setdefault(s.target.value, []).append(s.value)
    varying = set(nest.vars) | {s.target.value for s in stmts if type(s.target) is cst.Name}
    unproven: list[str] = []

    def number(node: cst.BaseExpression, depth: int = 0, stored: bool = False) -> bool:
        if depth > 8:
            return False
        t = type(node)
        if t in (cst.Integer, cst.Float):
            return True
        if t is cst.Name:
            name = node.value  # type: ignore[attr-defined]
            if name in nest.vars:
                return True
            if name in temps:
                return all(number(v, depth + 1) for v in temps[name])
            return name not in varying and _proven_number(name, proof)
        if t is cst.Subscript:
            flat = flatten_subscript(node)  # type: ignore[arg-type]
            if flat is None:
                return False
            base, elements = flat
            if any(type(e.slice) is not cst.Index for e in elements):
                return False
            rank_ok = stored or ctx.arrays.rank(base.value) == len(elements)
            return rank_ok and all(
                number(e.slice.value, depth + 1)  # type: ignore[attr-defined]
                for e in elements
            )
        if t is cst.UnaryOperation:
            return type(node.operator) in (cst.Minus, cst.Plus) and number(  # type: ignore[attr-defined]
                node.expression,  # type: ignore[attr-defined]
                depth + 1,
                stored,
            )
        if t is cst.BinaryOperation:
            left, right = node.left, node.right  # type: ignore[attr-defined]
            return number(left, depth + 1, stored) and number(right, depth + 1, stored)
        if t is cst.Call:
            func = node.func  # type: ignore[attr-defined]
            args = node.args  # type: ignore[attr-defined]
            if any(a.keyword is not None or a.star for a in args):
                return False
            known = ctx.resolver.builtin_name(func) in ("abs", "min", "max") or (
                ctx.resolver.numpy_name(func) in ELEMENTWISE_UFUNCS
            )
            return known and all(number(a.value, depth + 1, stored) for a in args)
        return False

    for s in stmts:
        stored = False
        if s.kind in ("elementwise", "augwrite") and type(s.target) is cst.Subscript:
            flat = flatten_subscript(s.target)
            stored = flat is not None and ctx.arrays.rank(flat[0].value) == len(flat[1])
        for part in (s.value, s.cond, s.other):
            if part is None:
                continue
            for n in walk(part):
                if not (
                    type(n) is cst.Call
                    and ctx.resolver.builtin_name(n.func) in ("min", "max")
                    and n is not s.node
                    and _names_in(n) & varying  # loop-invariant: kept as the builtin
                ):
                    continue
                for arg in n.args:
                    nested = type(arg.value) is cst.Call and ctx.resolver.builtin_name(
                        arg.value.func  # type: ignore[attr-defined]
                    ) in ("min", "max")  # judged as a call of its own
                    if not nested and not number(arg.value, stored=stored and part is s.value):
                        text = node_code(arg.value)
                        if text not in unproven:
                            unproven.append(text)
    if unproven:
        unsafe.add(
            f"builtin min/max raise on {', '.join(f'`{u}`' for u in unproven)} unless "
            "each is a number (an element of an array with more dimensions than its "
            "subscripts is a row, a bound may be a list), where np.where broadcasts and "
            "returns; their rank or type is not proven here"
        )


def _invariant_number(node: cst.BaseExpression, proof: _Proof, depth: int = 0) -> bool:
    """True when loop-invariant `node` is certainly a real number: int/float literals,
    names `_proven_number` proves, elements of float64 arrays of proven rank at number
    indices, and arithmetic of these."""
    if depth > 8:
        return False
    t = type(node)
    if t in (cst.Integer, cst.Float):
        return True
    if t is cst.Name:
        return _proven_number(node.value, proof)  # type: ignore[attr-defined]
    if t is cst.UnaryOperation:
        return type(node.operator) in (cst.Minus, cst.Plus) and _invariant_number(  # type: ignore[attr-defined]
            node.expression,  # type: ignore[attr-defined]
            proof,
            depth + 1,
        )
    if t is cst.BinaryOperation and type(node.operator) in _ARITHMETIC:  # type: ignore[attr-defined]
        left, right = node.left, node.right  # type: ignore[attr-defined]
        return _invariant_number(left, proof, depth + 1) and _invariant_number(
            right, proof, depth + 1
        )
    if t is cst.Subscript:
        flat = flatten_subscript(node)  # type: ignore[arg-type]
        if flat is None or any(type(e.slice) is not cst.Index for e in flat[1]):
            return False
        base = flat[0].value
        return (
            proof.is_float64(base)
            and proof.ctx.arrays.rank(base) == len(flat[1])
            and all(_invariant_number(e.slice.value, proof, depth + 1) for e in flat[1])  # type: ignore[attr-defined]
        )
    return False


#: builtins whose result is a number (or that raise)
_NUMBER_BUILTINS = frozenset({"float", "int", "len"})


def _proven_number(name: str, proof: _Proof, depth: int = 0) -> bool:
    """True when loop-invariant `name` certainly holds a number when the loop runs: bound
    once, before the loop, to a numeric literal, `float(...)`/`int(...)`/`len(...)`,
    `x.shape[k]`/`x.size`/`x.ndim`, a `math` function, or arithmetic of those (a
    parameter only when that binding is its only rebinding and has run before the loop)."""
    if depth > 6:
        return False
    ctx = proof.ctx
    facts = ctx.facts
    if name in facts.declared_nonlocal or name in facts.rebound_in_nested:
        return False
    bindings = facts.bindings.get(name, [])
    if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].value is None:
        return False
    value = bindings[0].value
    if name in facts.params:
        dominating = {id(n) for stmt in proof.dominators for n in walk(stmt)}
        if id(value) not in dominating:
            return False
    elif not proof._stable(name):
        return False
    return _number_value(value, proof, depth)


def _number_value(value: cst.BaseExpression, proof: _Proof, depth: int) -> bool:
    ctx = proof.ctx
    t = type(value)
    if t in (cst.Integer, cst.Float):
        return True
    if t is cst.Name:
        return _proven_number(value.value, proof, depth + 1)  # type: ignore[attr-defined]
    if t is cst.UnaryOperation:
        return type(value.operator) in (cst.Minus, cst.Plus) and _number_value(  # type: ignore[attr-defined]
            value.expression,  # type: ignore[attr-defined]
            proof,
            depth + 1,
        )
    if t is cst.BinaryOperation:
        return _number_value(value.left, proof, depth + 1) and _number_value(  # type: ignore[attr-defined]
            value.right,  # type: ignore[attr-defined]
            proof,
            depth + 1,
        )
    if t is cst.Attribute:
        return value.attr.value in ("size", "ndim") and _ndarray_base(  # type: ignore[attr-defined]
            value.value,  # type: ignore[attr-defined]
            proof,
        )
    if t is cst.Subscript:
        base = value.value  # type: ignore[attr-defined]
        return (
            type(base) is cst.Attribute
            and base.attr.value == "shape"
            and _ndarray_base(base.value, proof)
            and len(value.slice) == 1  # type: ignore[attr-defined]
            and type(value.slice[0].slice) is cst.Index  # type: ignore[attr-defined]
            and type(value.slice[0].slice.value) is cst.Integer  # type: ignore[attr-defined]
        )
    if t is cst.Call:
        func = value.func  # type: ignore[attr-defined]
        if ctx.resolver.builtin_name(func) in _NUMBER_BUILTINS:
            return True
        return any(
            qn.name.startswith("math.") and qn.name[len("math.") :] not in _MATH_NOT_NUMBERS
            for qn in ctx.resolver.qualified(func)
        )
    return False


#: `math` functions whose result may be a tuple or an array: `math.frexp`/`math.modf`
#: return pairs, `math.prod`/`math.sumprod` multiply whatever they are given (a list
#: of arrays gives an array)
_MATH_NOT_NUMBERS = frozenset({"frexp", "modf", "prod", "sumprod"})


def _ndarray_base(node: cst.BaseExpression, proof: _Proof) -> bool:
    """True when `node` (the `x` of `x.size`, `x.ndim`, `x.shape[k]`) is a name proven a
    NumPy ndarray by its bindings: a local bound only by numpy allocations, or a
    parameter converted by `x = np.asarray(x)` before the loop. Not by the attribute
    read itself: a PIL image's `.size` is a tuple (`(w, h)`), which `np.full` and
    `np.where` broadcast where the loop raises."""
    if type(node) is not cst.Name:
        return False
    name = node.value
    root, _ = proof.ctx.arrays.root(name)
    if root in proof.ctx.facts.params:
        return proof._converted(root) is not None and proof.is_ndarray(name)
    return proof.is_ndarray(name)


#: elementwise numpy functions that raise TypeError for a bool array (even an empty one)
_BOOL_REFUSING = frozenset({"negative", "positive", "sign", "subtract"})
#: ... and those that raise TypeError for a complex array (even an empty one)
_COMPLEX_REFUSING = frozenset({
    "arctan2", "cbrt", "ceil", "copysign", "deg2rad", "degrees", "fabs", "floor",
    "floor_divide", "fmod", "heaviside", "hypot", "mod", "rad2deg", "radians", "remainder",
    "trunc",
})  # fmt: skip


def _dtype_kind(node: cst.CSTNode, proof: _Proof | None) -> str | None:
    """The dtype class ("bool", "int", "real", "float", "complex") that `node`'s value
    provably has, None when it is not visible: literals, subscripts of arrays whose
    dtype the function shows, and + - * of those."""
    if int_literal(node) is not None:
        return "int"
    t = type(node)
    if t is cst.Float or (t is cst.UnaryOperation and type(node.expression) is cst.Float):
        return "float"
    if t is cst.Imaginary:
        return "complex"
    if proof is None:
        return None
    if t is cst.Subscript:
        flat = flatten_subscript(node)
        cls = proof.dtype_class(flat[0].value) if flat is not None else None
        return cls if cls in ("bool", "int", "real", "float", "complex") else None
    if t is cst.BinaryOperation and type(node.operator) in (cst.Add, cst.Subtract, cst.Multiply):
        kinds = {_dtype_kind(node.left, proof), _dtype_kind(node.right, proof)}
        if None in kinds:
            return None
        for k in ("complex", "float", "real", "int", "bool"):
            if k in kinds:
                return k
    return None


def _raises_for_some_dtype(node: cst.CSTNode, proof: _Proof | None, resolver: NameResolver) -> str:
    """Why the operation at the top of `node` may raise TypeError or OverflowError for
    some array dtype the function does not rule out (a bool array refuses `-` and
    `np.negative`, a float one `&`/`|`/`^`/`~`, a complex one `np.floor`, a uint8 one
    `+ 300`), even on an empty array; "" when it cannot."""

    def not_bool(n: cst.CSTNode) -> bool:
        return _dtype_kind(n, proof) in ("int", "real", "float", "complex")

    def integral(n: cst.CSTNode) -> bool:
        return _dtype_kind(n, proof) in ("int", "bool")

    def real(n: cst.CSTNode) -> bool:
        return _dtype_kind(n, proof) in ("bool", "int", "real", "float")

    t = type(node)
    if t is cst.UnaryOperation and int_literal(node) is None:
        op = type(node.operator)
        if op in (cst.Minus, cst.Plus) and not not_bool(node.expression):
            return f"`{node_code(node)}` raises TypeError for a bool array"
        if op is cst.BitInvert and not integral(node.expression):
            return f"`{node_code(node)}` raises TypeError for a float array"
    elif t is cst.BinaryOperation:
        op = type(node.operator)
        for side in (node.left, node.right):
            if int_literal(side) is not None and not _fits_every_int_dtype(side):
                if op not in (cst.Divide, cst.Power, cst.LeftShift, cst.RightShift):
                    return (
                        f"`{node_code(node)}` raises OverflowError for an integer array "
                        f"that cannot hold {node_code(side)}"
                    )
        if op is cst.Subtract and not (not_bool(node.left) or not_bool(node.right)):
            return f"`{node_code(node)}` raises TypeError for bool arrays"
        if op in (cst.BitAnd, cst.BitOr, cst.BitXor) and not (
            integral(node.left) and integral(node.right)
        ):
            return f"`{node_code(node)}` raises TypeError for a float array"
    elif t is cst.Call:
        name = resolver.numpy_name(node.func)
        args = [a.value for a in node.args]
        if name in _BOOL_REFUSING and not any(not_bool(a) for a in args):
            return f"`{node_code(node)}` raises TypeError for a bool array"
        if name in _COMPLEX_REFUSING and not all(real(a) for a in args):
            return f"`{node_code(node)}` raises TypeError for a complex array"
    return ""


def _check_where_branches(stmts: list[_Stmt], proof: _Proof, unsafe: _Unsafe) -> None:
    """`np.where` evaluates both branches for every element, where the loop evaluates
    only the branch taken: an operation that raises for the arrays' dtype
    (`if x[i] < 0: out[i] = x[i] - 300` on uint8, `-b[i]` on bool) raises in the
    rewrite although the loop never reaches it. Static only when the dtypes rule
    that out."""
    for s in stmts:
        if s.kind != "where":
            continue
        for part in (s.value, s.other):
            if part is None:
                continue
            for n in walk(part):
                why = _raises_for_some_dtype(n, proof, proof.ctx.resolver)
                if why:
                    unsafe.add(
                        f"np.where evaluates both branches for every element: {why} "
                        "(the dtype is not visible here), where the loop evaluates only "
                        "the branch taken"
                    )
                    return


#: why a power is never static_safe: NumPy evaluates `x ** 0.5` on an array as `sqrt` and
#: `x ** 2` as `square`, while `x[i] ** 0.5` is C `pow` ((-inf) ** 0.5: inf vs nan,
#: (-0.0) ** 0.5: 0.0 vs -0.0); other results differ by an ulp (0.1-5% of elements)
_POWER_REASON = (
    "`**` on arrays uses NumPy's fast paths (sqrt for `** 0.5`, square for `** 2`) and "
    "array loops, which differ from the per-element power on -0.0 and -inf and by an ulp"
)

#: numpy power functions, never proven statically either (same operation as `**`)
_POWER_FUNCS = frozenset({"power", "float_power"})

#: dtype classes whose elements are real numbers
_REAL_DTYPES = frozenset({"float", "int", "bool"})


def _check_array_rounding(
    stmts: list[_Stmt], nest: LoopNest, proof: _Proof, unsafe: _Unsafe
) -> None:
    """Operations whose NumPy array loops round differently from the scalar operation
    the loop applies to one element: any power, and for complex elements `*` of two
    vectorised operands, `abs` and `np.square` (NumPy's array loops use fused
    multiply-adds; float64 and float32 elements agree bit for bit); `np.fmax`/`np.fmin`,
    whose array loops pick the other zero of 0.0 and -0.0 (`np.maximum` does not)."""
    ctx = proof.ctx
    resolver = ctx.resolver
    loop_vars = set(nest.vars)
    varying = loop_vars | {s.target.value for s in stmts if type(s.target) is cst.Name}
    real_temps: set[str] = set()
    not_real: list[str] = []
    temps = {
        s.target.value: s.value
        for s in stmts
        if s.kind == "temp" and type(s.target) is cst.Name and s.value is not None
    }

    def vectorised(node: cst.CSTNode) -> bool:
        return bool(_names_in(node) & varying)

    def complex_names(node: cst.CSTNode) -> list[str]:
        """Names in `node` that may hold complex numbers (and its imaginary literals);
        an element's value depends on its array, not on the (integer) subscripts."""
        out: list[str] = []
        skip: set[int] = set()
        nodes = [node] if type(node) is cst.Subscript else walk(node, prune=_is_subscript)
        for n in nodes:
            if type(n) is cst.Subscript:
                flat = flatten_subscript(n)
                base = flat[0].value if flat is not None else node_code(n)
                if flat is None or proof.dtype_class(base) not in _REAL_DTYPES:
                    out.append(base)
            elif type(n) is cst.Imaginary:
                out.append(node_code(n))
            elif type(n) is cst.Attribute:
                skip.add(id(n.attr))
            elif type(n) is cst.Call and resolver.builtin_name(n.func) is not None:
                skip.add(id(n.func))
            elif type(n) is cst.Arg and n.keyword is not None:
                skip.add(id(n.keyword))
            elif type(n) is cst.Name and id(n) not in skip:
                name = n.value
                if name in loop_vars or name in real_temps or resolver.numpy_name(n) is not None:
                    continue
                if name in varying or proof.dtype_class(name) not in _REAL_DTYPES:
                    out.append(name)
        return out

    def complex_pair(left: cst.CSTNode, right: cst.CSTNode) -> None:
        if vectorised(left) and vectorised(right):
            a, b = complex_names(left), complex_names(right)
            if a and b:
                not_real.extend(a + b)

    for s in stmts:
        for node in walk(s.node):
            if type(node) is cst.BinaryOperation:
                if type(node.operator) is cst.Power and vectorised(node):
                    unsafe.add(_POWER_REASON)
                elif type(node.operator) is cst.Multiply:
                    complex_pair(node.left, node.right)
            elif type(node) is cst.Call and vectorised(node):
                np_name = resolver.numpy_name(node.func)
                builtin = resolver.builtin_name(node.func)
                if np_name in _POWER_FUNCS or builtin == "pow":
                    unsafe.add(
                        f"{'numpy.' + np_name if np_name else 'pow'} is a power, never "
                        f"proven statically ({_POWER_REASON})"
                    )
                elif np_name == "square" or builtin == "abs":
                    not_real.extend(complex_names(node))
                if np_name in _OBJECT_METHOD_UFUNCS:
                    hidden = sorted(
                        {
                            flat[0].value
                            for part in [node, *(temps[n] for n in _names_in(node) if n in temps)]
                            for sub in walk(part)
                            if type(sub) is cst.Subscript
                            and (flat := flatten_subscript(sub)) is not None
                            and proof.dtype_class(flat[0].value) in (None, "object")
                        }
                    )
                    if hidden:
                        unsafe.add(
                            f"{', '.join(hidden)} may be an object array (the dtype is not "
                            f"visible here): numpy.{np_name} of one calls each element's "
                            f"`.{np_name}()` method, which a Python float lacks"
                        )
                if np_name in ("fmax", "fmin"):
                    unsafe.add(
                        f"numpy.{np_name} of 0.0 and -0.0 returns the other zero in its array "
                        "loop than on one element (1 / the result: inf vs -inf)"
                    )
        if s.op == "prod" and s.kind in ("augwrite", "scatter") and s.value is not None:
            assert s.target is not None
            complex_pair(s.target, s.value)
        if s.kind == "temp" and type(s.target) is cst.Name and s.value is not None:
            if not complex_names(s.value):
                real_temps.add(s.target.value)
    if not_real:
        known = [n for n in dict.fromkeys(not_real) if proof.dtype_class(n) == "complex"]
        unknown = [n for n in dict.fromkeys(not_real) if n not in known]
        what = [f"{', '.join(known)} {'is' if len(known) == 1 else 'are'} complex"] if known else []
        if unknown:
            what.append(f"{', '.join(unknown)} may be complex (the dtype is not visible here)")
        unsafe.add(
            f"{' and '.join(what)}: NumPy's array loops for complex `*`, `abs` and "
            "`np.square` round differently from the per-element operation"
        )


#: ufuncs that an object array runs as a method of each element (`np.sqrt` calls
#: `element.sqrt()`): they raise on an object array of Python floats, not on one float
_OBJECT_METHOD_UFUNCS = frozenset(
    {
        "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cbrt",
        "copysign", "cos", "cosh", "deg2rad", "degrees", "exp", "exp2", "expm1", "fabs",
        "float_power", "fmod", "heaviside", "hypot", "isfinite", "isinf", "isnan", "log",
        "log10", "log1p", "log2", "logical_xor", "rad2deg", "radians", "rint", "sin", "sinh",
        "sqrt", "tan", "tanh",
    }
)  # fmt: skip


def _is_subscript(node: cst.CSTNode) -> bool:
    return type(node) is cst.Subscript


def _length_check(checks: list[str], trips: list[str]) -> str:
    """Statements raising IndexError, as the loop would, when an array is too short
    (every loop runs at least once and some access passes an array's end)."""
    if not checks:
        return ""
    short = " or ".join(checks)
    if trips and len(checks) > 1:
        short = f"({short})"
    cond = " and ".join(dict.fromkeys([*trips, short]))
    return f'if {cond}:\n    raise IndexError("index out of bounds: an array is shorter than the loop")\n'


def _visible_writes(stmts: list[_Stmt], proof: _Proof) -> list[str]:
    """Arrays and accumulators written by the loop whose partial results another part
    of the program could see if the loop raised part-way."""
    ctx = proof.ctx
    seen: list[str] = []
    for s in stmts:
        if type(s.target) is cst.Subscript:
            flat = flatten_subscript(s.target)
            name = flat[0].value if flat is not None else ""
            if proof.in_try or not ctx.arrays.is_local_fresh(name) or _escapes(name, ctx):
                seen.append(name)
        elif s.kind == "reduction" and type(s.target) is cst.Name:
            if proof.in_try or s.target.value in ctx.facts.declared_nonlocal:
                seen.append(s.target.value)
    return list(dict.fromkeys(seen))


def _check_partial_state(
    stmts: list[_Stmt], proof: _Proof, nest: LoopNest, unsafe: _Unsafe
) -> None:
    """When the loop may raise part-way, the arrays (and accumulators) it wrote hold
    other partial results after a rewrite: fine only when nobody can see them (local
    arrays that never escape, no enclosing `try`)."""
    if not _may_raise(stmts, proof, nest):
        return
    seen = _visible_writes(stmts, proof)
    if seen:
        unsafe.add(
            f"if the loop raises part-way, {', '.join(seen)} would hold other "
            "partial results than the loop leaves (they are visible to the caller or to an "
            "enclosing try)"
        )


def _escapes(name: str, ctx: _Context) -> bool:
    """True when `name` is read other than by subscripting it, `len()`, an attribute
    (`.shape`) or `return name`: it may have been handed to other code.

    Asked for the arrays of every loop, so the function is walked once (`escape_facts`)
    and each name's answer is kept."""
    known = ctx.escapes.get(name)
    if known is not None:
        return known
    if ctx.escape_facts is None:
        ctx.escape_facts = _escape_facts(ctx)
    in_scopes, allowed = ctx.escape_facts
    # a closure or class body reads it: whoever calls it sees the array
    known = name in in_scopes or any(id(n) not in allowed for n in ctx.facts.loads.get(name, []))
    ctx.escapes[name] = known
    return known


def _escape_facts(ctx: _Context) -> tuple[set[str], set[int]]:
    """For `_escapes`: the names in the function's nested scopes (closures, classes,
    lambdas) and the ids of the nodes whose reads do not hand the array on."""
    in_scopes: set[str] = set()
    allowed: set[int] = set()
    for node in walk(ctx.facts.node.body, prune=is_scope):
        if is_scope(node):
            in_scopes.update(n.value for n in names_in(node))
        elif type(node) is cst.Subscript:
            allowed.add(id(node.value))
        elif type(node) is cst.Attribute:
            allowed.add(id(node.value))
        elif type(node) is cst.Return and node.value is not None:
            allowed.add(id(node.value))
        elif type(node) in (cst.AssignTarget, cst.AnnAssign):
            allowed.add(id(node.target))  # a (re)binding of the name, not a read
        elif type(node) is cst.Call and ctx.resolver.is_builtin(node.func, "len"):
            allowed.update(id(a.value) for a in node.args)
    return in_scopes, allowed


def _literal_of(value: cst.BaseExpression, cls: str) -> bool:
    """True when `value` is a literal that an element store and a slice store of a
    `cls` array treat alike (an int for int arrays, True/False for bool arrays)."""
    if type(value) is cst.UnaryOperation and type(value.operator) is cst.Minus:
        value = value.expression
    if cls == "int":
        return type(value) is cst.Integer
    if type(value) is cst.Comparison and len(value.comparisons) == 1:
        return True  # a NumPy bool per element, stored unchanged
    return type(value) is cst.Name and value.value in ("True", "False")


def _index_arrays(stmts: list[_Stmt], ctx: _Context) -> set[str]:
    """Arrays subscripted inside the index of an indirect access (`idx` in `h[idx[i]]`)."""
    out: set[str] = set()
    for node in _indirect_indices(stmts, ctx):
        for sub in _subscripts_in(node):
            flat = flatten_subscript(sub)
            if flat is not None:
                out.add(flat[0].value)
    return out


def _indirect_indices(stmts: list[_Stmt], ctx: _Context) -> list[cst.BaseExpression]:
    """The index expressions of the non-affine accesses (`idx[i]` in `x[idx[i]]`)."""
    atom_of = _index_atom(ctx)
    found: list[cst.BaseExpression] = []
    for s in stmts:
        for part in (s.target, s.value, s.cond, s.other):
            if part is None:
                continue
            for node in walk(part):
                if type(node) is not cst.Subscript:
                    continue
                acc = summarize(node, False, 0, atom_of)
                if acc is None or acc.affine:
                    continue
                for el in node.slice:
                    if type(el.slice) is cst.Index:
                        found.append(el.slice.value)
    return found


def _check_indirect(stmts: list[_Stmt], proof: _Proof, unsafe: _Unsafe) -> None:
    """Gathers `x[idx[i]]` and scatters `h[idx[i]]` use `idx` as a whole index array:
    exact only for a 1-D integer ndarray (a 2-D one indexes rows, a bool one masks)."""
    ctx = proof.ctx
    for name in sorted(_index_arrays(stmts, ctx)):
        if ctx.arrays.is_python_container(name):
            raise Refusal(f"the index array {name} is a Python list/tuple, not a NumPy array")
        rank = ctx.arrays.rank(name)
        if rank is not None and rank != 1:
            raise Refusal(f"the index array {name} has {rank} dimensions (its rows would index)")
        cls = proof.dtype_class(name)
        if cls is not None and cls != "int":
            raise Refusal(f"the index array {name} is a {cls} array, not an integer one")
        if rank != 1 or cls != "int" or not proof.is_ndarray(name):
            unsafe.add(
                f"{name} is not provably a 1-D integer NumPy array (a 2-D index array "
                "indexes rows, a bool one masks, a tuple indexes several axes)"
            )


_SAFE_WHEN_EMPTY_BINOPS = (cst.Add, cst.Subtract, cst.Multiply)


def _may_raise_when_empty(stmts: list[_Stmt], proof: _Proof, nest: LoopNest) -> bool:
    """True unless running the rewritten statements over zero iterations provably does
    nothing: only +, -, * of whole-loop slices, numeric literals, bound names and
    elementwise ufuncs (no constant subscript `a[0]`, division, unbound name, int literal
    outside 0..127, which NumPy 2 refuses for a uint8/int8 array even when empty)."""
    if any(s.kind not in ("elementwise", "augwrite", "where", "temp") for s in stmts):
        return True  # reductions change the accumulator's type, scans and scatters index
    for s in stmts:
        # a loop-invariant value is stored as a scalar: a complex one raises TypeError
        # in a float slice even when it is empty (an array value only warns)
        if (
            s.kind == "elementwise"
            and s.value is not None
            and not any(type(n) is cst.Subscript for n in walk(s.value))
            and type(signed(s.value)[1]) not in (cst.Integer, cst.Float)
        ):
            return True
    return _may_raise(stmts, proof, nest)


def _may_raise(stmts: list[_Stmt], proof: _Proof, nest: LoopNest) -> bool:
    """True when a statement may raise for some input (division by a Python zero, an
    unbound name, a constant or indirect subscript out of range, a scatter index)."""
    ctx = proof.ctx
    atom_of = _index_atom(ctx)
    known = set(proof.bound) | set(nest.vars) | {ctx.np}
    for s in stmts:
        if s.kind == "scatter":
            return True
        for part in (s.target, s.value, s.cond, s.other):
            if part is not None and not _empty_safe(part, ctx, atom_of, known, nest, proof):
                return True
        if s.kind == "temp":
            assert type(s.target) is cst.Name
            known.add(s.target.value)
    return False


def _empty_safe(
    node: cst.CSTNode,
    ctx: _Context,
    atom_of: Callable[[cst.BaseExpression], str | None],
    known: set[str],
    nest: LoopNest,
    proof: _Proof | None = None,
) -> bool:
    if type(node) in (cst.Float, cst.Imaginary):
        return True
    if int_literal(node) is None and _raises_for_some_dtype(node, proof, ctx.resolver):
        return False  # `-b` of a bool array, `np.floor` of a complex one: even when empty
    if type(node) is cst.Integer or int_literal(node) is not None:
        # NumPy 2 raises OverflowError for a Python int outside an integer array's
        # dtype, even on an empty array (`np.uint8 array - 300`, `+ (-1)`, `int8 * 200`)
        return _fits_every_int_dtype(node)
    if type(node) is cst.Name:
        return node.value in known
    if type(node) is cst.Subscript:
        flat = flatten_subscript(node)
        acc = summarize(node, False, 0, atom_of)
        if flat is None or acc is None or not acc.affine or flat[0].value not in known:
            return False
        return all(any(ix.coef(v) for v in nest.vars) for ix in acc.indices if ix is not None)
    if type(node) is cst.BinaryOperation:
        return isinstance(node.operator, _SAFE_WHEN_EMPTY_BINOPS) and all(
            _empty_safe(p, ctx, atom_of, known, nest, proof) for p in (node.left, node.right)
        )
    if type(node) is cst.UnaryOperation:
        return type(node.operator) in (cst.Minus, cst.Plus) and _empty_safe(
            node.expression, ctx, atom_of, known, nest, proof
        )
    if type(node) is cst.Comparison:
        # a comparison with any Python int is fine (NumPy 2 compares out-of-range ints)
        return all(
            int_literal(p) is not None or _empty_safe(p, ctx, atom_of, known, nest, proof)
            for p in (node.left, *(c.comparator for c in node.comparisons))
        ) and all(
            type(c.operator) not in (cst.In, cst.NotIn, cst.Is, cst.IsNot) for c in node.comparisons
        )
    if type(node) is cst.Call:
        ok_func = ctx.resolver.builtin_name(node.func) in ("abs", "min", "max") or (
            ctx.resolver.numpy_name(node.func) in ELEMENTWISE_UFUNCS
        )
        return ok_func and all(
            a.keyword is None
            and not a.star
            and _empty_safe(a.value, ctx, atom_of, known, nest, proof)
            for a in node.args
        )
    return False


def _fits_every_int_dtype(node: cst.CSTNode) -> bool:
    """True for an integer literal that every integer dtype holds (0..127: int8 and
    uint8 both); NumPy 2 raises OverflowError when another meets a narrower array."""
    value = int_literal(node)
    return value is not None and 0 <= value <= 127


def _narrow_exact(node: cst.CSTNode) -> bool | None:
    """None when `node` is no numeric literal; else whether every real dtype holds it
    exactly (an int in 0..127, a float that float16 represents exactly), so that
    `np.where` mixing it with an array of any dtype keeps its value."""
    value = int_literal(node)
    if value is not None:
        return 0 <= value <= 127
    sign, node = signed(node)
    if type(node) is not cst.Float:
        return None
    number = sign * float(node.evaluated_value)
    try:
        return struct.unpack("<e", struct.pack("<e", number))[0] == number
    except (OverflowError, struct.error):
        return False


# --------------------------------------------------------------------------------------------
# emission


class _Emitter:
    """Turns classified statements into slice-expression code for one loop nest."""

    def __init__(self, nest: LoopNest, ctx: _Context, unsafe: _Unsafe, proof: _Proof) -> None:
        self.nest = nest
        self.ctx = ctx
        self.proof = proof
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

    def trip_clauses(self) -> list[str]:
        """`stop > start` for each loop of the nest not provably run at least once."""
        clauses: list[str] = []
        for lp in self.nest.loops:
            trip = lp.stop - lp.start
            if trip.plus(-1).nonneg(self._nonneg_atom):
                continue
            pos = Affine(tuple((a, c) for a, c in trip.terms if c > 0), 0)
            neg = Affine(tuple((a, -c) for a, c in trip.terms if c < 0), -trip.const)
            clauses.append(f"{pos.code()} > {neg.code()}")
        return clauses

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
        return " and ".join(dict.fromkeys(clauses))  # `n > 0 and n > 0` once

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

    def _in_place_exact(self, s: _Stmt) -> bool:
        """True when `t[...] op= v` on slices equals the element-wise `t[i] op= v`: `t` is a
        float array and `v` only float arrays and numeric literals (no complex, no int
        array that could be uint64, no scalar of unknown type)."""
        assert type(s.target) is cst.Subscript and s.value is not None
        flat = flatten_subscript(s.target)
        if flat is None or self.proof.dtype_class(flat[0].value) != "float":
            return False
        for node in walk(s.value):
            if type(node) in (cst.Imaginary, cst.Call, cst.Attribute):
                return False
        names = _names_in(s.value) - set(self.vars)
        return all(self.proof.dtype_class(n) == "float" for n in names)

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
            assert type(s.target) is cst.Subscript and s.value is not None
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
            assert type(s.target) is cst.Subscript
            target = node_code(self.slice_of(s.target))
            if target.isidentifier():
                target += "[:]" if len(self.vars) == 1 else "[...]"
        if s.kind == "elementwise":
            return f"{target} = {self.code(s.value)}"  # type: ignore[arg-type]
        if s.kind == "augwrite":
            assert s.value is not None
            value = self.code(s.value)
            if self._in_place_exact(s):
                return f"{target} {_AUG_TEXT[s.op]} {value}"
            # `t[i] += v` stores `t[i] + v` back with an element store's cast; an in-place
            # ufunc would refuse (or wrap) the cast instead
            sym = {"sum": "+", "sub": "-", "prod": "*"}[s.op]
            read = target.removesuffix("[:]").removesuffix("[...]")
            return f"{target} = {read} {sym} {value if is_atomic(value) else f'({value})'}"
        if s.kind == "temp":
            assert type(s.target) is cst.Name and s.value is not None
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
        if top and type(test) is cst.Subscript:
            return self.code(test)
        if type(test) is cst.BooleanOperation:
            op = "&" if type(test.operator) is cst.And else "|"
            return f"({self._condition(test.left)}) {op} ({self._condition(test.right)})"
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            return f"~({self._condition(test.expression)})"
        if type(test) is not cst.Comparison:
            raise Refusal("a condition that is not a comparison")
        return self.code(test.with_changes(lpar=(), rpar=()))

    def _reduction(self, s: _Stmt) -> str:
        np_ = self.ctx.np
        assert type(s.target) is cst.Name and s.value is not None
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
        if type(s.node) is cst.Assign:
            sym = {"sum": "+", "sub": "-", "prod": "*"}[s.op]
            return f"{name} = {name} {sym} {reduced}"
        return f"{name} {op_text} {reduced}"

    def _contraction(self, value: cst.BaseExpression, kept: Sequence[str]) -> str | None:
        """`np.dot(X, Y)` for `X[a, c] * Y[c, b]` summed over the one missing index `c`
        (matrix-matrix, matrix-vector and vector-matrix products), else None."""
        missing = [v for v in self.vars if v not in kept]
        if len(missing) != 1 or not (
            type(value) is cst.BinaryOperation
            and type(value.operator) is cst.Multiply
            and type(value.left) is cst.Subscript
            and type(value.right) is cst.Subscript
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
            type(value) is cst.BinaryOperation
            and type(value.operator) is cst.Multiply
            and type(value.left) is cst.Subscript
            and type(value.right) is cst.Subscript
            and not value.lpar
        ):
            return None
        left = node_code(self.slice_of(value.left))
        right = node_code(self.slice_of(value.right))
        return f"{self.ctx.np}.dot({left}, {right})"

    def _scatter(self, s: _Stmt) -> str:
        if len(self.vars) != 1:
            raise Refusal("a scatter inside a loop nest")
        assert type(s.target) is cst.Subscript and s.value is not None
        flat = flatten_subscript(s.target)
        assert flat is not None
        base, elements = flat
        index = elements[0].slice
        if type(index) is not cst.Index:
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
        assert type(s.target) is cst.Subscript and type(s.value) is cst.BinaryOperation
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
        if not (type(prev) is cst.Subscript and flatten_subscript(prev)[0].value == base):  # type: ignore[index]
            prev, elem = value.right, value.left
        pacc = summarize(prev, False, 0, self.atom_of)  # type: ignore[arg-type]
        if pacc is None or len(pacc.indices) != 1 or pacc.indices[0] != ix.plus(-1):
            raise Refusal("a recurrence that is not a running sum/product of the previous element")
        if _mentions(elem, base):
            raise Refusal("a recurrence that reads its array elsewhere")
        constant = not self._covers_all_vars(elem)
        if constant and (_names_in(elem) & (set(self.temp_vars) | {var})):
            raise Refusal("the scanned term depends on the loop only through a temporary")
        first = ix.substitute(var, lp.start)
        seed_start = first.plus(-1)
        if not seed_start.nonneg(self._nonneg_atom):
            raise Refusal(f"the scan reads {base}[{seed_start.code()}], which may be negative")
        func = "cumsum" if type(value.operator) is cst.Add else "cumprod"
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
        terms = self.code(elem)
        if constant:
            # `x[i + 1] = x[i] + dx`: the same term every step; seeded with x[lo - 1] so
            # that cumsum adds left to right exactly as the loop does (x[0] +
            # np.cumsum(dx...) would round differently); np.full needs a count >= 0
            self.needs_guard = True
            self.guard_vars.add(var)
            trip = (lp.stop - lp.start).code()
            terms = f"{self.ctx.np}.full({trip}, {terms})"
            if not _invariant_number(elem, self.proof):
                self.unsafe.add(
                    f"the scanned term `{node_code(elem)}` is not proven a number (a list or "
                    "an array broadcasts in np.full)"
                )
        return f"{target} = {self.ctx.np}.{func}({self.ctx.np}.concatenate(({seed}, {terms})))[1:]"


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
        if len(elements) != 1 or type(elements[0].slice) is not cst.Index:
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
        if builtin in ("abs", "min", "max") and not (
            _names_in(original_node) & (set(self.e.vars) | set(self.e.temp_vars))
        ):
            # loop-invariant (`abs(a)`, `max(k, 1)` of scalars): the loop evaluates the
            # builtin on Python numbers; `np.abs`/`np.where` would give a NumPy scalar or
            # 0-d array, which NumPy 2 does not treat as weak (`x * abs(a)` on a float32
            # `x` would compute in float64) and whose int64 overflows (`abs(k) * 10**12`)
            return updated_node
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
        if type(node.comparisons[0].operator) in (cst.In, cst.NotIn, cst.Is, cst.IsNot):
            raise Refusal("an is/in comparison (object identity and membership, not elementwise)")
        return True

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> bool:
        if type(node.operator) is cst.Not:
            raise Refusal("`not` on an element (on an array it asks for one truth value)")
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
        guard = str(opp.data.get("rank_guard", ""))
        if guard:
            # other ranks run the loop as written (its comments stay in it)
            return cst.If(
                test=cst.parse_expression(guard),
                body=cst.IndentedBlock(body=statements),
                orelse=cst.Else(
                    body=cst.IndentedBlock(body=[original_node.with_changes(leading_lines=())])
                ),
                leading_lines=original_node.leading_lines,
            )
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
