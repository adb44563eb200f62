"""The `jit` pass (GO4xx): compile loop-heavy functions with Numba in nopython mode.

What it rewrites: a module-level function whose Python loops do element-level work
gets `@numba.njit(cache=True)` (and `import numba`, once). Variants, offered as
separate opportunities on the same function so the validator can measure each:

- GO401 `plain`:    `@numba.njit(cache=True)`
- GO402 `parallel`: `@numba.njit(cache=True, parallel=True)` and `range` -> `numba.prange`
  on the function's top-level loops whose iterations are independent or a recognised
  `+=`/`-=`/`*=` reduction (`legality.parallel_blockers`), and where arrays that may
  be one (`f(x, x)`) are accessed only at one identical index (`_alias_race`);
- GO403 `fastmath`: `@numba.njit(cache=True, fastmath={"arcp", "contract", "reassoc"})`:
  LLVM may reassociate (vectorised reductions), fuse multiply-adds and multiply by a
  reciprocal, which changes results only by rounding (kept only if they stay within
  the user's tolerance). Not `fastmath=True`: that adds the no-NaN, no-Inf and
  no-signed-zero flags, under which LLVM rewrites `a < b` as `not (a >= b)`, folds
  `x != x`, `x - x` and `x * 0.0`, so a NaN in the data (a missing value) takes the
  other branch of a clip or a nearest-point loop, which a workload without NaN cannot
  show. On the corpus the three flags keep fastmath's speed (`FASTMATH_FLAGS`).

Module-level functions of the same file that the function calls are jitted with it
(same options, without `parallel`); if one of them cannot be, the function is not
proposed. GO490 reports, without a fix, why a loop-carrying function is not jitted.

Legality and profitability conditions (static; the validator then compiles the
candidate against the workload's argument types in a child process, see
`numba_check.check_compiles`, runs it and compares outputs):

- module-level `def`, no decorator other than Numba's (methods, nested functions and
  decorated functions are reported with GO490);
- at least one loop does work Numba speeds up: it indexes arrays with a loop
  variable, does pure scalar Python, or evaluates slice array expressions without
  NumPy calls (`v[1:-1] = 0.25 * v[:-2] + ...`, fused by Numba into one loop without
  temporaries). Functions without loops, or whose loops only call NumPy on whole
  arrays, are already vectorised: Numba would gain nothing and costs compile energy,
  so they are skipped silently;
- not all loops are single, un-nested `range(<small literal>)` loops (too little work
  to repay compilation);
- no construct Numba cannot compile in nopython mode: `with`, `global`/`nonlocal`,
  nested classes, `async`, built-ins such as `open`/`getattr`/`eval`, calls into
  modules other than numpy/math/cmath/random/numba/operator, functions of a global
  random state (`random.random`, `np.random.normal`: Numba's own generator ignores
  the caller's seed), calls of a parameter (`f(a + i * h)` in `trapezoid(f, a, b, n)`:
  nopython mode types it only when every caller passes a jitted function; a plain
  function, a lambda or `math.sin` fail), and methods that no type Numba supports has
  (`u.clone()` of a torch tensor; `NUMBA_METHODS` lists the array, list, dict, set,
  string and `np.random.Generator` methods accepted);
- no call that compiles to other results on ordinary inputs (`COMPILED_DIFFERENTLY`:
  `np.floor_divide`/`np.divmod` take floor(a / b), `np.median` misses NaNs; and
  `round(x, ndigits)`, which rounds Python floats like `np.round` once compiled);
- no visible int64 overflow: Python ints never overflow, Numba's int64 does, so
  multiplicative accumulations of integers in a loop (`p *= i`, `h = h * 31 + c`
  without a small modulus), `**` with a variable integer exponent, and Python ints
  whose estimated magnitude exceeds int64 (`i * i * i`, `s += i * i`,
  `h += int(x[i]) << 40`; `_magnitude_risk`) are refused;
- no module global that can change (Numba freezes globals at compile time and
  `cache=True` keeps them across runs; `module_globals.frozen_global_problem`), and no
  helper that other functions or module-level code also use (jitting it would change
  them unchecked);
- `fastmath` only where the loops do floating-point work (`_float_work`); NaN and
  infinity behave as in plain `@njit` (no `nnan`/`ninf`/`nsz` flags), so NaN tests
  and comparisons need no exclusion.

The pass never executes code; `static_safe` is always False (a jit candidate is
only accepted through the validated rewrite).
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import libcst as cst

from greenopt.optimizer.cst_nodes import signed
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Example, Opportunity, Pass, Site
from greenopt.passes.function_defs import DefSites, FunctionInfo, iter_functions, positions
from greenopt.passes.import_edits import ImportedNames, ensure_import
from greenopt.passes.int_overflow import loops_in, overflow_risk
from greenopt.passes.legality import (
    FastVisitor,
    Memory,
    Relation_fn,
    binding_sites,
    injective_dims,
    is_fresh_allocation,
    lazy_array_relations,
    names_in,
    names_outside,
    nonnegative_int_names,
    parallel_blockers,
    parameter_names,
    range_args,
    scan_loop_body,
    simple_range_loop,
    small_statements,
)
from greenopt.passes.module_globals import (
    ModuleFacts,
    frozen_global_problem,
    int_constants,
    module_facts,
    other_users,
)

#: loops whose trip count is a literal at most this large (and not nested) are too small
SMALL_TRIP_COUNT = 16
#: modules whose functions Numba can compile (nopython mode)
NUMBA_MODULES = frozenset({"numpy", "math", "cmath", "random", "numba", "operator"})
#: built-ins Numba cannot compile in nopython mode
UNSUPPORTED_BUILTINS = frozenset(
    {
        "open",
        "input",
        "eval",
        "exec",
        "getattr",
        "setattr",
        "hasattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "dir",
        "id",
        "object",
        "super",
        "type",
        "__import__",
        "compile",
        "memoryview",
        "bytearray",
        "breakpoint",
        "help",
    }
)
#: methods of NumPy ufuncs (`np.add.reduce`, `np.fmax.reduce`, `np.add.at`): none
#: compiles in nopython mode (Numba 0.68 types the ufunc, not its methods)
UFUNC_METHODS = frozenset({"reduce", "accumulate", "reduceat", "outer", "at"})
#: NumPy submodules, whose functions may share a name with a ufunc method
_NUMPY_SUBMODULES = frozenset(
    {"random", "linalg", "fft", "ma", "char", "polynomial", "lib", "testing", "emath", "rec"}
)
VARIANTS = ("plain", "parallel", "fastmath")
#: the LLVM fast-math flags GO403 asks for: reassociation, contraction into fused
#: multiply-adds, reciprocal multiplication. Only rounding changes; `fastmath=True`
#: would add nnan/ninf/nsz, which change what NaN, infinity and -0.0 do.
FASTMATH_FLAGS = ("arcp", "contract", "reassoc")
FASTMATH_TEXT = "{" + ", ".join(f'"{flag}"' for flag in FASTMATH_FLAGS) + "}"
_CODES_BY_VARIANT = {"plain": "GO401", "parallel": "GO402", "fastmath": "GO403"}


@dataclass(frozen=True)
class _ModuleContext:
    """What `analyse` needs to know about the whole module (computed once per module)."""

    imports: ImportedNames
    functions: dict[str, FunctionInfo]
    classes: set[str]
    facts: ModuleFacts
    #: the names of `functions`, and those plus `classes`: built once, not per function
    #: (copying them for each function made `find` quadratic in the number of functions)
    function_names: frozenset[str]
    not_data: frozenset[str]
    #: top-level function name -> its node (helpers whose results `overflow_risk` sizes)
    function_nodes: dict[str, cst.FunctionDef]
    #: module globals bound once to an int constant, with their values
    int_constants: dict[str, int]

    @classmethod
    def of(cls, module: cst.Module) -> _ModuleContext:
        functions = {f.qualname: f for f in iter_functions(module) if f.top_level}
        classes = {s.name.value for s in module.body if isinstance(s, cst.ClassDef)}
        names = frozenset(functions)
        facts = module_facts(module)
        return cls(
            ImportedNames.of(module),
            functions,
            classes,
            facts,
            names,
            names | classes,
            {q: f.node for q, f in functions.items() if "." not in q},
            int_constants(module, facts),
        )


@dataclass(frozen=True)
class JitAnalysis:
    """What the jit pass concluded about one function.

    `skip` is "" for a candidate; "silent" when the function is not worth reporting
    (no loops, already vectorised); otherwise the GO490 reason.
    """

    skip: str
    helpers: tuple[str, ...] = ()
    prange_loops: tuple[int, ...] = ()  # pre-order indices of loops that may become prange
    parallel_note: str = ""
    fastmath: bool = False


def is_numba_decorated(func: cst.FunctionDef, imports: ImportedNames) -> bool:
    """True if one of `func`'s decorators is a Numba decorator (`njit`, `jit`, `vectorize`...)."""
    for decorator in func.decorators:
        expr = decorator.decorator
        target = expr.func if isinstance(expr, cst.Call) else expr
        qualified = imports.qualify(target)
        if qualified is not None and qualified.split(".")[0] == "numba":
            return True
    return False


class _Prescreen(FastVisitor):
    """Finds constructs Numba cannot compile, calls to same-module functions, and
    whether loops do element-level work or float arithmetic."""

    def __init__(
        self,
        func: cst.FunctionDef,
        imports: ImportedNames,
        module_functions: AbstractSet[str],
        module_classes: set[str],
    ) -> None:
        self.func = func
        self.imports = imports
        self.module_functions = module_functions
        self.module_classes = module_classes
        self.problems: list[str] = []
        self.calls_local: set[str] = set()
        self.parameters = set(parameter_names(func))
        self.bound = set(binding_sites(func))  # parameters and locals

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is self.func:
            if node.asynchronous is not None:
                self.problems.append("`async def` cannot be compiled by Numba")
            return True
        self.problems.append(f"defines the nested function `{node.name.value}`")
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.problems.append(f"defines the class `{node.name.value}`")
        return False

    def visit_With(self, node: cst.With) -> bool:
        self.problems.append("uses a `with` statement (unsupported in nopython mode)")
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        self.problems.append("uses `global` (Numba freezes globals as constants)")
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        self.problems.append("uses `nonlocal`")
        return False

    def visit_Await(self, node: cst.Await) -> bool:
        self.problems.append("uses `await`")
        return False

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.imports.qualify(node.func)
        if qualified is not None:
            parts = qualified.split(".")
            if parts[0] not in NUMBA_MODULES:
                self.problems.append(f"calls `{qualified}`, which Numba cannot compile")
            elif _global_random_state(parts):
                self.problems.append(
                    f"calls `{qualified}`, which draws from a global random state: compiled, "
                    "it draws from Numba's own generator, which `random.seed`/"
                    "`np.random.seed` in the caller do not seed"
                )
            elif parts[0] == "numpy" and len(parts) == 2 and parts[1] in COMPILED_DIFFERENTLY:
                self.problems.append(f"calls `{qualified}`, {COMPILED_DIFFERENTLY[parts[1]]}")
            elif (
                parts[0] == "numpy"
                and len(parts) == 3
                and parts[2] in UFUNC_METHODS
                and parts[1] not in _NUMPY_SUBMODULES
            ):
                self.problems.append(
                    f"calls the ufunc method `{qualified}` (unsupported in nopython mode)"
                )
            return
        if isinstance(node.func, cst.Attribute):
            self._method_call(node.func)
            return
        if isinstance(node.func, cst.Name):
            name = node.func.value
            if name in self.parameters:
                self.problems.append(
                    f"calls its parameter `{name}`: Numba compiles it only if every caller "
                    "passes a jitted function"
                )
            elif name in UNSUPPORTED_BUILTINS:
                self.problems.append(f"calls the built-in `{name}` (unsupported in nopython mode)")
            elif name == "round" and len(node.args) >= 2 and name not in self.bound:
                self.problems.append(
                    "calls `round(x, ndigits)`, which rounds a Python float exactly (in "
                    "decimal) but compiled always like `np.round`: they differ in the last "
                    "digit kept for about 1 in 30 values ending in 5 "
                    "(`round(-2.9450000000000003, 2)` is -2.95, compiled -2.94)"
                )
            elif name in self.module_classes:
                self.problems.append(f"instantiates the class `{name}`")
            elif name in self.module_functions:
                self.calls_local.add(name)

    def _method_call(self, func: cst.Attribute) -> None:
        """A method call `obj.m(...)` on a value of the function (a parameter, a local or
        an expression): Numba compiles only the methods its types have. Methods of
        names the function does not bind (globals, unimported modules) are left to the
        other checks."""
        base = func.value
        while isinstance(base, (cst.Attribute, cst.Subscript)):
            base = base.value
        if isinstance(base, cst.Name) and base.value not in self.bound:
            return
        method = func.attr.value
        if method not in NUMBA_METHODS:
            self.problems.append(
                f"calls `{_code(func.value)}.{method}()`: Numba knows no method "
                f"`.{method}()` on NumPy arrays, lists, dicts, sets or strings "
                "(an object of another library, such as a torch tensor?)"
            )


_FLOOR_QUOTIENT = (
    "which Numba computes as floor(a / b) where NumPy (and `//`) take the quotient of "
    "divmod: for floats they differ by one in about a tenth of the quotients that are "
    "not exact (`np.floor_divide(-1.5, 0.3)` is -6.0, compiled -5.0)"
)
#: NumPy functions whose compiled results differ silently on inputs where NumPy's do
#: not fail, and why (`//`, `%`, np.percentile/np.quantile and the nan* reductions
#: compile like NumPy; `tests/passes/test_jit_semantics.py` pins each difference, so an
#: entry can go when Numba changes)
COMPILED_DIFFERENTLY: dict[str, str] = {
    "floor_divide": _FLOOR_QUOTIENT,
    "divmod": _FLOOR_QUOTIENT,
    "median": (
        "whose compiled version returns a number for about a third of the inputs that "
        "hold a NaN, where NumPy's median is nan (`np.median([1.0, 2.0, nan])`: nan, "
        "compiled 2.0)"
    ),
}

#: methods Numba compiles on the types it supports in nopython mode: NumPy arrays and
#: scalars, lists, dicts, sets, strings, complex numbers and `np.random.Generator`
NUMBA_METHODS = frozenset(
    # arrays
    {"all", "any", "argmax", "argmin", "argsort", "astype", "conj", "conjugate", "copy",
     "cumprod", "cumsum", "dot", "fill", "flatten", "item", "itemset", "max", "mean", "min",
     "nonzero", "prod", "ravel", "repeat", "reshape", "sort", "std", "sum", "take",
     "transpose", "var", "view", "squeeze", "swapaxes", "ptp", "round", "clip", "diagonal",
     "trace", "tolist", "searchsorted", "tobytes", "real", "imag", "is_integer",
     "as_integer_ratio", "bit_length"}
    # lists, dicts, sets
    | {"append", "extend", "insert", "pop", "remove", "reverse", "index", "count", "clear",
       "get", "items", "keys", "values", "popitem", "setdefault", "update", "add", "discard",
       "union", "intersection", "difference", "symmetric_difference", "issubset",
       "issuperset", "isdisjoint", "intersection_update", "difference_update",
       "symmetric_difference_update"}
    # strings
    | {"split", "rsplit", "join", "strip", "lstrip", "rstrip", "startswith", "endswith",
       "find", "rfind", "rindex", "upper", "lower", "title", "capitalize", "casefold",
       "swapcase", "center", "ljust", "rjust", "zfill", "replace", "expandtabs",
       "splitlines", "partition", "rpartition", "isdigit", "isalpha", "isalnum", "isspace",
       "isupper", "islower", "istitle", "isdecimal", "isnumeric", "isidentifier",
       "isprintable", "isascii", "format"}
    # np.random.Generator
    | {"random", "normal", "uniform", "integers", "standard_normal", "exponential",
       "standard_exponential", "gamma", "standard_gamma", "beta", "binomial", "chisquare",
       "f", "geometric", "gumbel", "laplace", "logistic", "lognormal", "logseries",
       "negative_binomial", "noncentral_chisquare", "noncentral_f", "pareto", "permutation",
       "poisson", "power", "rayleigh", "shuffle", "standard_cauchy", "standard_t",
       "triangular", "vonmises", "wald", "weibull", "zipf", "choice", "multinomial"}
)  # fmt: skip


#: `numpy.random` names that do not use NumPy's global random state
_NUMPY_RANDOM_OBJECTS = frozenset(
    {"default_rng", "Generator", "BitGenerator", "SeedSequence", "PCG64", "PCG64DXSM",
     "Philox", "SFC64", "MT19937"}
)  # fmt: skip


def _global_random_state(parts: list[str]) -> bool:
    """True for `random.<f>` (the standard library) and `numpy.random.<f>` functions of
    the legacy global state (`np.random.rand`, `np.random.seed`...): Numba implements
    them with a generator of its own, separate from the interpreter's, so compiled code
    ignores the caller's seeding (a `Generator` passed in, `rng.random()`, is shared)."""
    if parts[0] == "random":
        return True
    return (
        len(parts) >= 3
        and parts[:2] == ["numpy", "random"]
        and parts[2] not in _NUMPY_RANDOM_OBJECTS
    )


#: attributes that read no element of an array
_METADATA_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype", "itemsize", "nbytes"})
#: built-ins that, given an array, read no element of it or are given scalars
_SCALAR_BUILTINS = frozenset({"len", "range", "int", "float", "abs", "min", "max", "round", "bool"})


def _whole_uses(body: cst.BaseSuite, imports: ImportedNames) -> set[str]:
    """Names a loop body hands whole to code that may read any element: arguments of
    calls other than `math`/`cmath` functions and scalar built-ins (`np.sum(x)`,
    `helper(x, i)`), bases of methods and attributes (`x.sum()`, `x.T`)."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            qualified = imports.qualify(node.func) or ""
            if qualified.split(".")[0] in ("math", "cmath"):
                return
            if isinstance(node.func, cst.Name) and node.func.value in _SCALAR_BUILTINS:
                # `max(x)` / `min(x)` of one argument iterate over all of `x`
                if not (node.func.value in ("min", "max") and len(node.args) == 1):
                    return
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    found.add(arg.value.value)

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if (
                isinstance(node.value, cst.Name)
                and imports.qualify(node) is None
                and node.attr.value not in _METADATA_ATTRIBUTES
            ):
                found.add(node.value.value)

        def visit_Subscript(self, node: cst.Subscript) -> None:
            # `abs(x)[i + 1]`: the call's result is an array made from all of `x`
            if isinstance(node.value, cst.Call):
                for arg in node.value.args:
                    if isinstance(arg.value, cst.Name):
                        found.add(arg.value.value)

    Look().visit(body)
    return found


def _never_parameters(func: cst.FunctionDef, imports: ImportedNames) -> tuple[set[str], set[str]]:
    """(names every binding of which is a fresh allocation or another such name, so
    never the memory of a parameter; parameters never rebound). `f = np.zeros(n)` then
    `f = g` with `g = np.zeros(n)` in a time loop: `f` is no parameter's memory, which
    `array_relations` (a name bound twice is unknown) does not see."""
    sites = binding_sites(func)
    params = {
        name for name, nodes in sites.items() if len(nodes) == 1 and isinstance(nodes[0], cst.Param)
    }
    # a parameter rebound only to conversions of parameters (`x = np.asarray(x, dtype=np.
    # float32)`, what dtype-reduction writes) holds a parameter's memory or a copy of it:
    # never a fresh allocation's
    changed = True
    while changed:
        changed = False
        for name, nodes in sites.items():
            if name in params or not any(isinstance(n, cst.Param) for n in nodes):
                continue
            if all(
                isinstance(n, cst.Param)
                or (
                    isinstance(n, cst.Assign)
                    and len(n.targets) == 1
                    and isinstance(n.targets[0].target, cst.Name)
                    and _conversion_of(n.value, imports) in params | {name}
                )
                for n in nodes
            ):
                params.add(name)
                changed = True
    candidates = {
        name
        for name, nodes in sites.items()
        if all(
            isinstance(n, cst.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0].target, cst.Name)
            for n in nodes
        )
    }
    fresh: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in sorted(candidates - fresh):
            values = [n.value for n in sites[name]]  # type: ignore[attr-defined]
            if all(
                is_fresh_allocation(v, imports) or (isinstance(v, cst.Name) and v.value in fresh)
                for v in values
            ):
                fresh.add(name)
                changed = True
    return fresh, params


#: numpy calls that return their first argument's memory or a copy of it
_CONVERSIONS = frozenset(
    f"numpy.{name}"
    for name in ("asarray", "ascontiguousarray", "asfortranarray", "asanyarray", "array")
)


def _conversion_of(value: cst.BaseExpression, imports: ImportedNames) -> str | None:
    """`x` for `np.asarray(x, ...)`-like calls and `x.astype(...)` / `x.copy()`, else None."""
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("astype", "copy"):
        return func.value.value if isinstance(func.value, cst.Name) else None
    if imports.qualify(func) in _CONVERSIONS and value.args:
        first = value.args[0]
        if first.keyword is None and not first.star and isinstance(first.value, cst.Name):
            return first.value.value
    return None


def _plain_names(func: cst.FunctionDef, imports: ImportedNames) -> set[str]:
    """Names that are never a view the function made: every binding is a parameter, a
    fresh allocation, another such name, `x += ...`, or `np.asarray(x)` (and its kin,
    with at most a dtype) of another such name. `y = np.asarray(out)[1:]`,
    `y = out.reshape(-1)`, `x = x[::-1]` or `y = helper(out)` are not: two such names
    may be one array indexed differently, so equal index texts prove nothing."""
    sites = binding_sites(func)
    plain: set[str] = set()

    def ok(name: str, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Param, cst.AugAssign)):
            return True
        if not (
            isinstance(node, cst.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
        ):
            return False
        value = node.value
        if is_fresh_allocation(value, imports):
            return True
        if isinstance(value, cst.Name):
            return value.value in plain
        if (
            isinstance(value, cst.Call)
            and imports.qualify(value.func) in _CONVERSIONS
            and all(not a.star for a in value.args)
            and all(a.keyword is None or a.keyword.value == "dtype" for a in value.args)
            and len(value.args) <= 2
        ):
            first = value.args[0].value if value.args else None
            # `x = np.asarray(x, dtype=...)`: the name's own memory, converted
            return isinstance(first, cst.Name) and (first.value in plain or first.value == name)
        return False

    changed = True
    while changed:
        changed = False
        for name, nodes in sites.items():
            if name not in plain and all(ok(name, n) for n in nodes):
                plain.add(name)
                changed = True
    return plain


def _alias_race(
    loop: cst.For,
    imports: ImportedNames,
    relation: Relation_fn,
    local_functions: AbstractSet[str],
    separate: tuple[set[str], set[str]] = (set(), set()),
    plain: AbstractSet[str] | None = None,
) -> str | None:
    """Why `prange` could race if arrays that may share memory do, or None.

    `parallel_blockers` proves the iterations independent for distinct arrays; callers
    may still pass one array twice (`f(x, x)`). For every array the loop writes that may
    share memory with another array it uses (parameters, names of unknown origin: not a
    fresh allocation), the other must be accessed only at the very index tuple of every
    access to the written one, an index injective in the loop variable (`out[i] = 2.0 *
    x[i]`): an exact alias then meets itself in one iteration only. A different index
    (`out[i] = x[i - 1] + x[i + 1]`), a slice or a whole use (`np.sum(x)`, `f(x, i)`)
    refuses the parallel variant. With `plain` (`_plain_names`), a pair of which one is
    not plain (a view the function made, `y = np.asarray(out)[1:]`) is refused too:
    equal index texts do not mean equal elements then.
    """
    assert isinstance(loop.target, cst.Name)
    var = loop.target.value
    summary = scan_loop_body(loop.body, imports, local_functions)
    variant = summary.bound - {var}
    written = summary.arrays_written()
    if not written:
        return None
    whole = _whole_uses(loop.body, imports) - summary.bound
    used = {a.array for a in summary.accesses} | whole
    for w in sorted(written):
        for other in sorted(used - {w}):
            if relation(w, other) is Memory.DISJOINT:
                continue
            fresh, params = separate
            if (w in fresh and other in params) or (w in params and other in fresh):
                continue
            if other in whole:
                return f"`{other}` may be `{w}` and is used whole while `{w}` is written"
            if plain is not None and not {w, other} <= plain:
                view = other if other not in plain else w
                return f"`{view}` may be a view of `{w if view == other else other}` made here"
            accesses = summary.accesses_to(w) + summary.accesses_to(other)
            first = accesses[0].index
            if any(a.index != first for a in accesses) or not injective_dims(
                accesses, var, variant
            ):
                return f"`{w}` and `{other}` may be one array, accessed at different indices"
    return None


def _scalar_start(value: cst.BaseExpression) -> bool:
    """A numeric literal (`0.0`, `-1`, `1j`): a reduction started from it updates no memory."""
    _, operand = signed(value)
    return isinstance(operand, (cst.Integer, cst.Float, cst.Imaginary))


def _reduction_alias(
    loop: cst.For,
    func: cst.FunctionDef,
    reductions: Sequence[str],
    imports: ImportedNames,
    relation: Relation_fn,
    local_functions: AbstractSet[str],
) -> str | None:
    """Why a reduction variable may be an array that the loop also reads, or None.

    `acc += x[i]` updates an array `acc` in place: if `acc` is `x` (`acc = x`, or the
    caller passes one array twice, or `acc = A[0]` with rows `A[i]` read) each
    iteration reads what earlier ones added, which prange's private partial sums do not.
    A reduction variable bound outside the loop only to numeric literals or fresh
    allocations or arithmetic results is never such memory."""
    if not reductions:
        return None
    inside = {id(n) for n in small_statements(loop)}
    sites = binding_sites(func)
    summary = scan_loop_body(loop.body, imports, local_functions)
    used = {a.array for a in summary.accesses} | _whole_uses(loop.body, imports)
    for name in reductions:
        outside = [n for n in sites.get(name, []) if id(n) not in inside]
        if all(
            isinstance(n, cst.Assign)
            and (
                _scalar_start(n.value)
                or is_fresh_allocation(n.value, imports)
                # arithmetic always makes a new object (`np.zeros(m) + A[0]`)
                or isinstance(n.value, (cst.BinaryOperation, cst.UnaryOperation))
            )
            for n in outside
        ):
            continue
        for other in sorted(used - {name}):
            if relation(name, other) is not Memory.DISJOINT:
                return f"the reduction variable `{name}` may be the array `{other}` the loop reads"
    return None


def _element_level(loop: cst.For | cst.While, loop_vars: set[str], imports: ImportedNames) -> bool:
    """True if `loop` does work Numba speeds up.

    That is per-element work (arrays indexed with a loop variable, or pure scalar
    Python without NumPy calls), or slice array expressions (`v[1:-1] = 0.5 * v[:-2] +
    ...`), which Numba fuses into one loop without temporaries. A loop whose body only
    calls NumPy functions on whole arrays (`u = u + np.roll(u, 1)`) is already
    vectorised: the work happens inside NumPy either way.
    """
    if isinstance(loop, cst.While):
        return True
    indexed = False
    slices = False
    numpy_calls = False

    class Look(FastVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            nonlocal indexed, slices
            for element in node.slice:
                if isinstance(element.slice, cst.Slice):
                    slices = True
                elif names_in(element.slice) & loop_vars:
                    indexed = True

        def visit_Call(self, node: cst.Call) -> None:
            nonlocal numpy_calls
            qualified = imports.qualify(node.func)
            if qualified is not None and qualified.startswith("numpy"):
                numpy_calls = True
            elif isinstance(node.func, cst.Attribute) and qualified is None:
                numpy_calls = True  # array methods: a.sum(), a.dot(b)

    Look().visit(loop.body)
    return indexed or (slices and not numpy_calls) or not numpy_calls


def _small_literal_trip(loop: cst.For | cst.While) -> int | None:
    """Trip count of `for x in range(<literals>)`, or None if unknown."""
    if not isinstance(loop, cst.For) or not simple_range_loop(loop):
        return None
    bounds = range_args(loop)
    assert bounds is not None
    try:
        start, stop, step = (int(b, 0) for b in bounds)
    except ValueError:
        return None
    return len(range(start, stop, step))


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node).strip()


def _float_work(loops: Sequence[cst.For | cst.While]) -> bool:
    """True if the loops do arithmetic that fastmath could reassociate (floats, subscripts)."""
    found = False

    class Look(FastVisitor):
        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            nonlocal found
            if isinstance(node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)):
                for side in (node.left, node.right):
                    if isinstance(side, (cst.Float, cst.Subscript, cst.Call)):
                        found = True
            if isinstance(node.operator, cst.Divide):
                found = True

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            nonlocal found
            if isinstance(node.value, (cst.Float, cst.Subscript, cst.BinaryOperation, cst.Call)):
                found = True

    for loop in loops:
        Look().visit(loop.body)
    return found


class JitPass(Pass):
    """Numba JIT: `@numba.njit(cache=True)` on loop-heavy functions (see the module docstring).

    `variants` selects which opportunities `find` returns (default: all three).
    """

    name = "jit"
    needs_workload = True
    codes = {
        "GO401": "loop-heavy function can be compiled with @numba.njit(cache=True)",
        "GO402": "independent loop iterations: @numba.njit(parallel=True) with numba.prange",
        "GO403": "floating-point loop: @numba.njit(fastmath={...}) (within tolerance only)",
        "GO490": "function with loops not jitted (reason given; report only)",
    }

    EXAMPLES = (
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def dot(x, y):\n"
                "    s = 0.0\n"
                "    for i in range(len(x)):\n"
                "        s += x[i] * y[i]\n"
                "    return s\n"
            ),
            after=(
                "import numpy as np\n"
                "import numba\n\n\n"
                "@numba.njit(cache=True)\n"
                "def dot(x, y):\n"
                "    s = 0.0\n"
                "    for i in range(len(x)):\n"
                "        s += x[i] * y[i]\n"
                "    return s\n"
            ),
            options={"variants": ("plain",)},
        ),
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def scale(x, a):\n"
                "    # one pass over x\n"
                "    out = np.empty_like(x)\n"
                "    for i in range(len(x)):\n"
                "        out[i] = a * x[i]\n"
                "    return out\n"
            ),
            after=(
                "import numpy as np\n"
                "import numba\n\n\n"
                "@numba.njit(cache=True, parallel=True)\n"
                "def scale(x, a):\n"
                "    # one pass over x\n"
                "    out = np.empty_like(x)\n"
                "    for i in numba.prange(len(x)):\n"
                "        out[i] = a * x[i]\n"
                "    return out\n"
            ),
            options={"variants": ("parallel",)},
        ),
        Example(
            before=(
                "import math\n\n\n"
                "def norm(x):\n"
                "    s = 0.0\n"
                "    for i in range(len(x)):\n"
                "        s += x[i] * x[i]\n"
                "    return math.sqrt(s)\n"
            ),
            after=(
                "import math\n"
                "import numba\n\n\n"
                '@numba.njit(cache=True, fastmath={"arcp", "contract", "reassoc"})\n'
                "def norm(x):\n"
                "    s = 0.0\n"
                "    for i in range(len(x)):\n"
                "        s += x[i] * x[i]\n"
                "    return math.sqrt(s)\n"
            ),
            options={"variants": ("fastmath",)},
        ),
        Example(
            before=(
                "import numba as nb\n\n\n"
                "def sq(v):\n"
                "    return v * v\n\n\n"
                "def total(x):\n"
                "    s = 0.0\n"
                "    for i in range(len(x)):\n"
                "        s += sq(x[i])\n"
                "    return s\n"
            ),
            after=(
                "import numba as nb\n\n\n"
                "@nb.njit(cache=True)\n"
                "def sq(v):\n"
                "    return v * v\n\n\n"
                "@nb.njit(cache=True)\n"
                "def total(x):\n"
                "    s = 0.0\n"
                "    for i in range(len(x)):\n"
                "        s += sq(x[i])\n"
                "    return s\n"
            ),
            options={"variants": ("plain",)},
        ),
    )
    UNCHANGED = (
        # already vectorised NumPy: no Python-level loop over elements
        "import numpy as np\n\n\ndef f(x, y):\n    return np.sqrt(x * x + y * y)\n",
        # loops only over whole-array operations (time steps)
        "import numpy as np\n\n\ndef heat(u, steps):\n    for _ in range(steps):\n"
        "        u = u + 0.1 * (np.roll(u, 1) - 2 * u + np.roll(u, -1))\n    return u\n",
        # too small to repay compilation
        "def tiny(x):\n    s = 0.0\n    for i in range(3):\n        s += x[i]\n    return s\n",
        # Python ints never overflow, int64 does
        "def factorial(n):\n    r = 1\n    for i in range(2, n + 1):\n        r *= i\n    return r\n",
        # already jitted
        "import numba\n\n\n@numba.njit(cache=True)\ndef f(x):\n    s = 0.0\n"
        "    for i in range(len(x)):\n        s += x[i]\n    return s\n",
        # a method
        "class A:\n    def f(self, x):\n        s = 0.0\n        for i in range(len(x)):\n"
        "            s += x[i]\n        return s\n",
        # calls a library Numba cannot compile
        "import scipy.special\n\n\ndef f(x):\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s += scipy.special.gamma(x[i])\n    return s\n",
    )

    def __init__(self, variants: Sequence[str] = VARIANTS) -> None:
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown jit variant(s) {unknown}; known: {list(VARIANTS)}")
        self.variants = tuple(variants)

    # --- analysis -----------------------------------------------------------------------------

    def analyse(
        self, info: FunctionInfo, source: SourceModule, context: _ModuleContext | None = None
    ) -> JitAnalysis:
        """Decide whether `info` (a function of `source`) is a jit candidate (module docstring)."""
        context = context or _ModuleContext.of(source.tree)
        imports, functions, classes = context.imports, context.functions, context.classes
        func = info.node
        loops = loops_in(func)
        if not loops:
            return JitAnalysis("silent")
        loop_vars = {
            loop.target.value
            for loop in loops
            if isinstance(loop, cst.For) and isinstance(loop.target, cst.Name)
        }
        if not any(_element_level(loop, loop_vars, imports) for loop in loops):
            return JitAnalysis("silent")
        if not info.top_level:
            kind = "a method" if info.in_class else "a nested function"
            return JitAnalysis(
                f"`{info.qualname}` is {kind}; only module-level functions are jitted"
            )
        if func.decorators:
            return JitAnalysis(
                f"`{info.qualname}` has the decorator `@{_code(func.decorators[0].decorator)}`"
            )
        trips = [_small_literal_trip(loop) for loop in loops]
        nested = any(loops_in(loop.body) for loop in loops)
        if not nested and all(t is not None and t <= SMALL_TRIP_COUNT for t in trips):
            return JitAnalysis(
                f"its loops run at most {max(t or 0 for t in trips)} iterations: "
                "too little work to repay compilation"
            )
        helpers: list[str] = []
        pending = [info.qualname]
        seen: set[str] = set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            node = functions[current].node
            screen = _Prescreen(node, imports, context.function_names, classes)
            screen.visit(node)
            where = "" if current == info.qualname else f"helper `{current}` "
            if screen.problems:
                return JitAnalysis(f"{where}{screen.problems[0]}")
            risk = overflow_risk(node, imports, context.function_nodes, context.int_constants)
            if risk:
                return JitAnalysis(f"{where}{risk}")
            frozen = frozen_global_problem(node, context.facts, context.not_data)
            if frozen:
                return JitAnalysis(f"{where}{frozen}")
            if current != info.qualname:
                if is_numba_decorated(node, imports):
                    continue
                if node.decorators:
                    return JitAnalysis(f"helper `{current}` has a decorator")
                helpers.append(current)
            pending.extend(sorted(screen.calls_local - seen))
        jitted = {info.qualname, *helpers}
        for helper in sorted(helpers):
            others = other_users(helper, context.facts, jitted)
            if others:
                who = "module-level code" if others[0] == "<module>" else f"`{others[0]}`"
                return JitAnalysis(
                    f"its helper `{helper}` is also used by {who}, which jitting the helper "
                    "would change without a workload to check it"
                )
        prange: list[int] = []
        notes: list[str] = []
        relation = lazy_array_relations(source.tree, func, info.qualname, imports)
        body_statements = func.body.body if isinstance(func.body, cst.IndentedBlock) else ()
        loop_number: dict[int, int] = {}  # id(loop) -> its first index in `loops`
        for k, loop in enumerate(loops):
            loop_number.setdefault(id(loop), k)
        separate: tuple[set[str], set[str]] | None = None
        plain: set[str] = set()
        nonneg: frozenset[str] | None = None
        for stmt in body_statements:
            if not isinstance(stmt, cst.For):
                continue
            if nonneg is None:
                nonneg = nonnegative_int_names(func)
            verdict = parallel_blockers(
                stmt,
                imports,
                relation,
                names_outside(func, [stmt]),
                context.function_names,
                nonneg,
            )
            if verdict.reason is not None:
                continue
            if separate is None:
                separate = _never_parameters(func, imports)
                plain = _plain_names(func, imports)
            if _reduction_alias(
                stmt, func, verdict.reductions, imports, relation, context.function_names
            ):
                continue
            if not _alias_race(stmt, imports, relation, context.function_names, separate, plain):
                prange.append(loop_number[id(stmt)])
                if verdict.reductions:
                    notes.append("reduction on " + ", ".join(f"`{r}`" for r in verdict.reductions))
                fresh, params = separate
                for a, b in verdict.assumes_no_overlap:
                    if not ({a, b} <= fresh | params and {a, b} & fresh and {a, b} & params):
                        notes.append(
                            f"`{a}` and `{b}` may be one array, accessed at one index; "
                            "assumes they are not views of one array at an offset"
                        )
        return JitAnalysis(
            "",
            helpers=tuple(sorted(helpers)),
            prange_loops=tuple(prange),
            parallel_note="; ".join(notes),
            fastmath=_float_work(loops),
        )

    def find(self, module: SourceModule) -> list[Opportunity]:
        """Jit opportunities (GO401-403) and reasons for not jitting (GO490)."""
        tree = module.tree
        imports = ImportedNames.of(tree)
        def_site = DefSites(module, positions(module))
        path = module.path or "<string>"
        found: list[Opportunity] = []
        context = _ModuleContext.of(tree)
        for info in iter_functions(tree):
            if is_numba_decorated(info.node, imports):
                continue
            analysis = self.analyse(info, module, context)
            if analysis.skip == "silent":
                continue
            line, col, end_line, end_col = def_site(info.node)
            site = Site(path, line, col, end_line, end_col, info.qualname)
            if analysis.skip:
                found.append(
                    Opportunity(
                        self.name,
                        "GO490",
                        f"`{info.qualname}` not jitted: {analysis.skip}",
                        analysis.skip,
                        site,
                        fixable=False,
                        static_safe=False,
                        data={"function": info.qualname},
                    )
                )
                continue
            helper_text = (
                f"; jits its helper(s) {', '.join(f'`{h}`' for h in analysis.helpers)} too"
                if analysis.helpers
                else ""
            )
            base = {
                "function": info.qualname,
                "helpers": list(analysis.helpers),
                "also_changes": list(analysis.helpers),  # functions outside the site rewritten
            }
            for variant in self.variants:
                if variant == "parallel" and not analysis.prange_loops:
                    continue
                if variant == "fastmath" and not analysis.fastmath:
                    continue
                if variant == "plain":
                    message = f"compile `{info.qualname}` with @numba.njit(cache=True)"
                    rationale = (
                        "interpreted per-element loops; Numba compiles them to machine code "
                        "(checked against the workload's argument types)" + helper_text
                    )
                    options: dict[str, bool] = {}
                elif variant == "parallel":
                    message = (
                        f"compile `{info.qualname}` with @numba.njit(parallel=True) and "
                        f"numba.prange on {len(analysis.prange_loops)} loop(s)"
                    )
                    rationale = (
                        "iterations are independent"
                        + (f" ({analysis.parallel_note})" if analysis.parallel_note else "")
                        + helper_text
                    )
                    options = {"parallel": True}
                else:
                    message = (
                        f"compile `{info.qualname}` with @numba.njit(fastmath={FASTMATH_TEXT})"
                    )
                    rationale = (
                        "floating-point loop: fastmath lets LLVM reassociate and vectorise "
                        "reductions, fuse multiply-adds and multiply by reciprocals; results "
                        "may differ in the last bits, kept only within tolerance (NaN and "
                        "infinity behave as without fastmath)" + helper_text
                    )
                    options = {"fastmath": True}
                found.append(
                    Opportunity(
                        self.name,
                        _CODES_BY_VARIANT[variant],
                        message,
                        rationale,
                        site,
                        fixable=True,
                        static_safe=False,
                        data={
                            **base,
                            "variant": variant,
                            "options": options,
                            "prange_loops": list(analysis.prange_loops)
                            if variant == "parallel"
                            else [],
                        },
                    )
                )
        return found

    # --- rewrite --------------------------------------------------------------------------------

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        """Decorate the chosen functions (and their helpers) and add `import numba` once.

        Several opportunities for one function merge their options (parallel and
        fastmath together). Functions already decorated by Numba are left alone, so
        applying twice changes nothing.
        """
        plan: dict[str, dict[str, object]] = {}
        for opp in opportunities:
            if opp.pass_name != self.name or not opp.fixable:
                continue
            name = str(opp.data.get("function") or opp.site.function)
            entry = plan.setdefault(name, {"options": {}, "prange": set(), "helper_of": None})
            entry["options"].update(opp.data.get("options", {}))  # type: ignore[union-attr]
            entry["prange"].update(opp.data.get("prange_loops", ()))  # type: ignore[union-attr]
            for helper in opp.data.get("helpers", ()):
                helper_entry = plan.setdefault(
                    helper, {"options": {}, "prange": set(), "helper_of": name}
                )
                if opp.data.get("options", {}).get("fastmath"):
                    helper_entry["options"]["fastmath"] = True  # type: ignore[index]
        if not plan:
            return module
        tree = module.tree
        imports = ImportedNames.of(tree)
        alias = imports.alias_of("numba") or "numba"
        transformer = _Decorate(plan, alias, imports)
        new_tree = tree.visit(transformer)
        if not transformer.changed:
            return module
        new_tree, _ = ensure_import(new_tree, "numba")
        return module.with_tree(new_tree)


class _Decorate(cst.CSTTransformer):
    """Adds the njit decorator to planned module-level functions and swaps in prange."""

    def __init__(
        self, plan: dict[str, dict[str, object]], alias: str, imports: ImportedNames
    ) -> None:
        super().__init__()
        self.plan = plan
        self.alias = alias
        self.imports = imports
        self.depth = 0
        self.changed = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return False  # handled whole in leave_FunctionDef

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.depth += 1
        return False

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.depth -= 1
        entry = self.plan.get(original.name.value)
        if self.depth != 0 or entry is None or is_numba_decorated(original, self.imports):
            return updated
        options = dict(entry["options"])  # type: ignore[call-overload]
        prange = set(entry["prange"])  # type: ignore[call-overload]
        if entry["helper_of"] is not None:
            options.pop("parallel", None)
            prange = set()
        parts = ["cache=True"]
        if options.get("parallel"):
            parts.append("parallel=True")
        if options.get("fastmath"):
            parts.append(f"fastmath={FASTMATH_TEXT}")
        text = ", ".join(parts)
        decorator = cst.Decorator(decorator=cst.parse_expression(f"{self.alias}.njit({text})"))
        result = updated.with_changes(decorators=[decorator, *updated.decorators])
        if prange:
            loops = loops_in(original)
            chosen = {id(loops[k]) for k in prange if k < len(loops)}
            result = result.with_changes(body=original.body.visit(_Prange(chosen, self.alias)))
        self.changed = True
        return result


class _Prange(cst.CSTTransformer):
    """Replaces `range` by `<numba>.prange` in the iterators of the chosen loops."""

    def __init__(self, chosen: set[int], alias: str) -> None:
        super().__init__()
        self.chosen = chosen
        self.alias = alias

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        if id(original) not in self.chosen or not isinstance(updated.iter, cst.Call):
            return updated
        func = cst.parse_expression(f"{self.alias}.prange")
        return updated.with_changes(iter=updated.iter.with_changes(func=func))


__all__ = ["JitPass", "JitAnalysis", "overflow_risk", "is_numba_decorated"]
