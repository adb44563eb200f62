"""The `dtype-reduction` pass (GO3xx): float64 -> float32 inside a function.

Half the bytes per element halves memory traffic and doubles SIMD width, at the
cost of precision. So the pass is never applied statically and the pipeline only
tries it when the user loosened the tolerance (`--rtol/--atol`); the validator then
reports the worst relative and absolute error it saw.

What it rewrites, for one function at a time (one opportunity per function, so the
function is converted consistently):

- allocations that produce float64: `np.zeros/empty/ones(shape)` without dtype or
  with a float64 dtype, `np.full(shape, <float literal>)`, `np.arange` with float
  arguments, `np.linspace/logspace/geomspace`, `np.eye/identity`, the `*_like`
  functions and `np.array/asarray` given a float64 dtype, `np.array([...])` constants
  of number literals containing a float: `dtype=np.float32` is added or replaces
  the float64 one;
- float64 random draws (`np.random.rand/randn/random/uniform/normal/...`): the draw
  is unchanged (same stream) and cast, `np.random.rand(n).astype(np.float32)`;
- `x.astype(np.float64)` (or `float`, `"float64"`, `"f8"`) -> `x.astype(np.float32)`;
- NumPy 2 promotion: a Python float is "weak" and keeps float32, but a
  `np.float64(...)` scalar is not and would widen the result back to float64, so
  `np.float64(...)`/`np.double(...)` calls become `np.float32(...)`;
- array parameters (subscripted or passed to NumPy, never written to, never used as
  an index) are converted once on entry: `x = np.asarray(x, dtype=np.float32)`;
- results are cast back on exit so callers see the same dtypes: a returned array
  allocated in the function (or a copy of a converted one) gets `.astype(np.float64)`,
  another float result
  `np.float64(...)`; with `DtypeReductionPass(propagate=True)` results stay float32.

Not converted: parameters that are written to (the caller would not see the
writes; also through an alias or a view, a NumPy writer or an unknown function),
calls in decorators and parameter defaults (they run once, when the `def` runs, and
their arrays are shared with every caller), arrays whose elements are
compared with integer literals (categories, counts), values that are rounded to an
integer (`int(x[i] * nb)`, `np.floor`, `//`, `.astype(np.uint8)`: float32 can move a
value across the integer boundary, a whole bin or grey level), index arrays, module-level
globals (a float64 global read in the function still widens the arithmetic where it
appears), integer arrays, and running sums in loops (`s += x[i]`, `s = s + e`,
`h[idx[i]] += 1.0`, `acc[0] += x[i]`: a float32 accumulator stops growing once the
terms fall below half its ulp, so a count stays at 2**24 and the sum of 6e7 uniform
values is 44% low, while a shorter workload shows an error of 1e-6 or none; the
accumulator array stays float64, and the data of a scalar accumulator are not
converted; also a running sum started from an array, a parameter or a name, `acc +=
X[k]`, `pos = pos + v * dt`, `x[:] = x + e`, sums into list, dict or attribute
elements, whose terms stay float64, and running products, `p *= x[i]`), scans and sequential
reductions (`np.cumsum`/`cumprod`/`cumulative_sum`/`nancumsum`, `ufunc.accumulate`,
sums and means along a leading axis, `X.sum(axis=0)`: NumPy adds the rows one after
another; the target of `np.add.at`), and float grids (`np.linspace`, float `np.arange`,
`k * dt`) whose neighbours are subtracted (`np.diff(t)`, `t[i + 1] - t[i]`) or whose
unbounded extent reaches `sin`/`cos`/`tan` (see `_grid_hazards`), and values a `while`
loop's exit compares with a tolerance below float32's resolution (`while err > 1e-12`:
float32 may never get there), or a difference compared with one (`if abs(x[i] - y[i]) <
1e-12`, a guard against cancellation; see `_convergence_tests`). Integer narrowing is
not done at all: it needs a proven value range, which a static pass does not have.

Range: float32 is finite only up to about 3.4e38 and normal down to 1.2e-38. A
function holding a float literal outside that range (a `1e300` "not found" sentinel, a
`1e-300` guard against division by zero) is not converted: the literal would be inf or
0. Data outside the range (`x[i] * x[i]` with |x| ~ 1e20, `np.exp(x)` with x > 88.7,
`1.0 / x` with x < 3e-39) also become inf or 0; only a workload whose data reach those
magnitudes shows it (the validator then reports "infinities differ").

Codes: GO301 float64 allocations/conversions in a function; GO302 the same in a
function with loops (float64 arithmetic in a hot loop). Never `static_safe`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from greenopt.optimizer.cst_nodes import iter_children, walk
from greenopt.optimizer.numpy_names import (
    ELEMENTWISE_UFUNCS,
    alias_for_rewrite,
    ensure_numpy_import,
)
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Example, Opportunity, Pass, Site
from greenopt.passes.function_defs import DefSites, FunctionInfo, iter_functions, positions
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import (
    NUMPY_VIEW_FUNCTIONS,
    PURE_BUILTINS,
    PURE_METHODS,
    FastVisitor,
    base_name,
    binding_sites,
    is_fresh_allocation,
    names_in,
    ordered_children,
    parameter_names,
)

#: allocation -> index of the positional `dtype` parameter
DTYPE_POSITION = {
    "zeros": 1, "empty": 1, "ones": 1, "full": 2, "arange": 3, "linspace": 5,
    "logspace": 6, "geomspace": 5, "eye": 3, "identity": 1, "array": 1, "asarray": 1,
    "zeros_like": 1, "empty_like": 1, "ones_like": 1, "full_like": 2,
}  # fmt: skip
#: float64 by default (no dtype given)
DEFAULT_FLOAT64 = frozenset(
    {"zeros", "empty", "ones", "linspace", "logspace", "geomspace", "eye", "identity"}
)
#: legacy `numpy.random` functions returning float64 arrays
FLOAT64_RANDOM = frozenset(
    {"rand", "randn", "random", "random_sample", "ranf", "sample", "standard_normal",
     "uniform", "normal", "exponential", "standard_exponential", "gamma", "beta",
     "standard_gamma", "lognormal", "laplace", "logistic", "rayleigh", "triangular"}
)  # fmt: skip
#: numpy functions whose array arguments are data (evidence that a parameter is a float array)
ARRAY_CONSUMERS = ELEMENTWISE_UFUNCS | frozenset(
    {"sum", "mean", "std", "var", "prod", "dot", "vdot", "inner", "matmul", "convolve",
     "correlate", "cumsum", "cumprod", "max", "min", "amax", "amin", "outer", "gradient",
     "diff", "interp", "trapezoid", "linalg.norm", "fft.fft", "fft.rfft"}
)  # fmt: skip
#: array methods that read the data (evidence that a parameter is an array)
ARRAY_METHODS = frozenset(
    {"copy", "sum", "mean", "std", "var", "prod", "dot", "cumsum", "max", "min", "clip"}
)
#: numpy functions whose arguments are sizes, bounds or counts (scalars, never data)
SIZE_TAKERS = frozenset(
    {"zeros", "empty", "ones", "full", "arange", "linspace", "logspace", "geomspace", "eye",
     "identity", "tri", "indices", "reshape"}
)  # fmt: skip
#: string dtypes that mean float64
FLOAT64_STRINGS = frozenset({"float64", "f8", "d", "float", "double", "<f8"})
#: calls whose result is an integer (not tainted by float inputs)
_INT_RESULTS = frozenset(
    {
        "len",
        "int",
        "argmax",
        "argmin",
        "argsort",
        "searchsorted",
        "count_nonzero",
        "round",
        "shape",
        "size",
        "ndim",
        "nonzero",
        "where",
        "isnan",
        "isinf",
        "isfinite",
        "bool",
    }
)


@dataclass
class _Plan:
    """What to rewrite in one function."""

    qualname: str
    calls: list[cst.Call] = field(default_factory=list)  # allocation/astype/np.float64 sites
    params: list[str] = field(default_factory=list)  # parameters converted on entry
    returns: list[cst.Return] = field(default_factory=list)  # returns to cast back
    arrays: set[str] = field(default_factory=set)  # names known to be arrays here
    tainted: set[str] = field(default_factory=set)  # names that may hold float32 results
    ranks: dict[str, int] = field(default_factory=dict)  # known ndim of names in `arrays`
    refused: str = ""  # why a function with float64 work to narrow is left alone

    @property
    def empty(self) -> bool:
        return not (self.calls or self.params)


#: float32's largest finite value and smallest normal magnitude
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.1754943508222875e-38


def _outside_float32_range(body: cst.CSTNode) -> str:
    """Why float32 cannot hold a float literal of `body` ("the literal 1e300 is outside
    float32's range (it would become inf)"), or "": above FLOAT32_MAX (a `1e300`
    sentinel becomes inf) or non-zero below FLOAT32_TINY (a `1e-300` guard against
    division by zero becomes 0 or loses its digits). The loosened tolerance is about
    precision, not range; a workload rarely reaches the sentinel or the guard."""
    for node in walk(body):
        if isinstance(node, cst.Float):
            try:
                value = abs(float(node.value.replace("_", "")))
            except ValueError:
                continue
            if value > FLOAT32_MAX or 0.0 < value < FLOAT32_TINY:
                becomes = "inf" if value > FLOAT32_MAX else "0"
                return (
                    f"the literal {node.value} is outside float32's range "
                    f"(it would become {becomes})"
                )
    return ""


class _Sites(FastVisitor):
    """Collects the float64-producing calls of one function body (not nested defs)."""

    def __init__(self, func: cst.FunctionDef, imports: ImportedNames) -> None:
        self.func = func
        self.imports = imports
        self.calls: list[cst.Call] = []
        self.already_cast: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.func

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "astype":
            self.already_cast.add(id(func.value))  # `draw(...).astype(...)`: cast already
        kind = classify_call(node, self.imports)
        if kind is not None and not (kind == "random" and id(node) in self.already_cast):
            self.calls.append(node)


def _means_float64(expr: cst.BaseExpression, imports: ImportedNames) -> bool:
    """True for `np.float64`, `np.double`, `float`, `"float64"`, `"f8"`..."""
    qualified = imports.qualify(expr)
    if qualified in ("numpy.float64", "numpy.double", "numpy.float_"):
        return True
    if isinstance(expr, cst.Name) and expr.value == "float" and qualified is None:
        return True
    return isinstance(expr, cst.SimpleString) and expr.evaluated_value in FLOAT64_STRINGS


def _dtype_arg(call: cst.Call, name: str) -> tuple[int, cst.Arg] | None:
    """(index in call.args, arg) of the dtype argument, keyword or positional."""
    for index, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "dtype":
            return index, arg
    position = DTYPE_POSITION.get(name)
    positional = [(i, a) for i, a in enumerate(call.args) if a.keyword is None and not a.star]
    if position is not None and len(positional) > position:
        return positional[position]
    return None


def _float_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation):
        expr = expr.expression
    return isinstance(expr, cst.Float)


def _number_literals(expr: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The leaves of a (nested) list/tuple of number literals, or None if anything else."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        leaves: list[cst.BaseExpression] = []
        for element in expr.elements:
            sub = _number_literals(element.value)
            if sub is None:
                return None
            leaves.extend(sub)
        return leaves
    inner = expr.expression if isinstance(expr, cst.UnaryOperation) else expr
    if isinstance(inner, (cst.Integer, cst.Float)):
        return [expr]
    return None


def classify_call(call: cst.Call, imports: ImportedNames) -> str | None:
    """How a call produces float64, or None: "dtype" (add/replace dtype), "random"
    (cast the draw), "astype" (replace the argument), "scalar" (np.float64(...))."""
    qualified = imports.qualify(call.func)
    if qualified is not None and qualified.startswith("numpy."):
        name = qualified[len("numpy.") :]
        if name in ("float64", "double"):
            return "scalar"
        if name.startswith("random.") and name[len("random.") :] in FLOAT64_RANDOM:
            dtype = _dtype_arg(call, "")
            return "random" if dtype is None else None
        if name in DTYPE_POSITION:
            found = _dtype_arg(call, name)
            if found is not None:
                return "dtype" if _means_float64(found[1].value, imports) else None
            positional = [a.value for a in call.args if a.keyword is None]
            if name in DEFAULT_FLOAT64:
                return "dtype"
            if name == "full" and len(positional) > 1 and _float_literal(positional[1]):
                return "dtype"
            if name == "arange" and any(_float_literal(p) for p in positional):
                return "dtype"
            if name == "array" and positional:
                leaves = _number_literals(positional[0])
                if leaves and any(_float_literal(leaf) for leaf in leaves):
                    return "dtype"
        return None
    if (
        isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "astype"
        and imports.qualify(call.func) is None
        and call.args
        and call.args[0].keyword is None
        and _means_float64(call.args[0].value, imports)
    ):
        return "astype"
    return None


def _array_params(
    func: cst.FunctionDef, imports: ImportedNames
) -> tuple[list[str], dict[str, list[cst.CSTNode]] | None]:
    """Parameters used as float arrays: read as `p[...]` or passed whole to NumPy, and
    never written (directly or through an alias, see `_written_through`), rebound,
    used as an index, a bound or a shape, and whose elements are not compared with
    integer literals other than a lone `0` (categories, counts).

    Also returns `binding_sites(func)` when it was needed to decide (None otherwise:
    without a parameter that is used as an array, binding sites are never collected).
    """
    # `*args` / `**kwargs` are a tuple and a dict, never a float array to cast
    packed = {
        star.name.value
        for star in (func.params.star_arg, func.params.star_kwarg)
        if isinstance(star, cst.Param)
    }
    params = [p for p in parameter_names(func) if p not in ("self", "cls") and p not in packed]
    if not params:
        return [], None
    evidence: set[str] = set()
    excluded: set[str] = set()
    element_of: dict[str, str] = {}  # `d = p[...]`: local name -> parameter it reads
    int_literals: dict[str, set[str]] = {}  # name -> int literals it is compared ==/!= with

    def compared_name(expr: cst.BaseExpression) -> str | None:
        """`p` for `p[...]`, `d` for a name: what an `==` comparison is about."""
        if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name):
            return expr.value.value
        if isinstance(expr, cst.Name):
            return expr.value
        return None

    class Look(FastVisitor):
        def visit_Comparison(self, node: cst.Comparison) -> None:
            left = node.left
            for target in node.comparisons:
                right = target.comparator
                if isinstance(target.operator, (cst.Equal, cst.NotEqual)):
                    for a, b in ((left, right), (right, left)):
                        name = compared_name(a)
                        if name is not None and isinstance(b, cst.Integer):
                            int_literals.setdefault(name, set()).add(b.value)
                left = right

        def visit_Assign(self, node: cst.Assign) -> None:
            value = node.value
            if (
                len(node.targets) == 1
                and isinstance(node.targets[0].target, cst.Name)
                and isinstance(value, cst.Subscript)
                and isinstance(value.value, cst.Name)
            ):
                element_of[node.targets[0].target.value] = value.value.value

        def visit_Subscript(self, node: cst.Subscript) -> None:
            if isinstance(node.value, cst.Name):
                evidence.add(node.value.value)
            for element in node.slice:
                excluded.update(names_in(element.slice))

        def visit_Call(self, node: cst.Call) -> None:
            qualified = imports.qualify(node.func)
            if isinstance(node.func, cst.Name) and node.func.value == "range":
                for arg in node.args:
                    excluded.update(_scalar_names(arg.value))
            if qualified is not None and qualified.startswith("numpy."):
                name = qualified[len("numpy.") :]
                for arg in node.args:
                    if arg.keyword is not None and arg.keyword.value in ("out", "dtype", "shape"):
                        excluded.update(names_in(arg.value))
                    elif name in ARRAY_CONSUMERS and isinstance(arg.value, cst.Name):
                        evidence.add(arg.value.value)
                    elif name in SIZE_TAKERS or name.startswith("random."):
                        excluded.update(_scalar_names(arg.value))  # sizes, bounds, counts
            if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
                if node.func.attr.value in ARRAY_METHODS and qualified is None:
                    evidence.add(node.func.value.value)

    Look().visit(func.body)
    # elements compared with several integer literals (`d == 0`, `d == 1`, ...) are
    # categories or counts: an integer array, which float32 can only damage
    for name, literals in int_literals.items():
        if len(literals) >= 2 or literals - {"0"}:
            excluded.add(element_of.get(name, name))
    candidates = [p for p in params if p in evidence and p not in excluded]
    if not candidates:
        return [], None
    sites = binding_sites(func)
    written = _written_through(func, imports, sites)
    chosen = [
        p
        for p in candidates
        if p not in written and len(sites.get(p, ())) == 1 and not _annotated_scalar(func, p)
    ]
    return chosen, sites


#: numpy functions that may return (a view of) an argument: their result aliases it
_NUMPY_ALIASING = NUMPY_VIEW_FUNCTIONS | frozenset(
    {"asarray_chkfinite", "asmatrix", "permute_dims", "matrix_transpose", "dsplit", "unstack",
     "trim_zeros", "diag", "lib.stride_tricks.as_strided",
     "lib.stride_tricks.sliding_window_view"}
)  # fmt: skip
#: numpy functions that write into their first argument
_NUMPY_WRITERS = frozenset(
    {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis", "random.shuffle"}
)
#: numpy functions of two inputs whose next positional argument is the output
_BINARY_UFUNCS = frozenset(
    {"add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "power",
     "float_power", "mod", "fmod", "remainder", "arctan2", "hypot", "minimum", "maximum",
     "fmin", "fmax", "copysign", "heaviside", "logical_and", "logical_or", "logical_xor",
     "matmul", "dot"}
)  # fmt: skip
#: modules whose functions never write their arguments
_PURE_MODULES = ("math.", "cmath.")
#: builtins that never write their arguments but may return (a part of) one
_PASSING_BUILTINS = frozenset(
    {"enumerate", "zip", "sorted", "list", "tuple", "reversed", "iter", "next", "min", "max"}
)
#: builtins that neither write their arguments nor return (a part of) one
_VALUE_BUILTINS = (PURE_BUILTINS - _PASSING_BUILTINS) | frozenset(
    {"print", "str", "repr", "format", "hash", "id", "type", "callable", "hasattr",
     "issubclass"}
)  # fmt: skip
#: attributes that are never array memory (`x.shape`, `x.dtype`...)
_SCALAR_ATTRIBUTES = frozenset(
    {"shape", "size", "ndim", "dtype", "itemsize", "nbytes", "strides", "flags"}
)
#: methods whose result is new memory or a scalar, and which write neither their object
#: nor their arguments (other than `out=`)
_FRESH_METHODS = (
    PURE_METHODS
    | ARRAY_METHODS
    | frozenset(
        {"argsort", "argpartition", "ptp", "tobytes", "tofile", "flatten", "take", "repeat",
         "compress", "searchsorted", "format", "join", "count", "index", "startswith",
         "endswith"}
    )
)  # fmt: skip
#: methods that write nothing and may return (a view or an element of) their object
_VIEW_METHODS = frozenset(
    {"reshape", "ravel", "view", "transpose", "swapaxes", "squeeze", "diagonal", "__array__",
     "get", "keys", "values", "items"}
)  # fmt: skip
#: container methods that store their arguments in their object (which then aliases them)
_STORING_METHODS = frozenset({"append", "extend", "insert", "add", "appendleft", "extendleft"})


def _base_names(expr: cst.BaseExpression) -> set[str]:
    """`base_name` as a set (empty when the chain does not start at a name)."""
    name = base_name(expr)
    return {name} if name is not None else set()


def _may_alias(expr: cst.BaseExpression | None, imports: ImportedNames) -> set[str]:
    """Names whose memory the value of `expr` may share (conservative): the name itself,
    a subscript, attribute or method call of it, a NumPy view of it, a container holding
    it. Arithmetic, `.copy()` and other NumPy functions give new memory."""
    if expr is None:
        return set()
    if isinstance(expr, cst.Name):
        return {expr.value}
    if isinstance(expr, cst.Subscript):
        return _may_alias(expr.value, imports)
    if isinstance(expr, cst.Attribute):
        if expr.attr.value in _SCALAR_ATTRIBUTES:
            return set()
        return _may_alias(expr.value, imports)
    if isinstance(expr, cst.Call):
        return _call_aliases(expr, imports)
    parts: list[cst.BaseExpression | None] = []
    if isinstance(expr, cst.IfExp):
        parts = [expr.body, expr.orelse]
    elif isinstance(expr, cst.BooleanOperation):
        parts = [expr.left, expr.right]
    elif isinstance(expr, cst.BinaryOperation):
        # list/tuple concatenation or repetition keeps the elements (`[x] * 2`)
        containers = (cst.List, cst.Tuple, cst.ListComp)
        if isinstance(expr.left, containers) or isinstance(expr.right, containers):
            parts = [expr.left, expr.right]
    elif isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        parts = [e.value for e in expr.elements]
    elif isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.DictElement):
                parts += [element.key, element.value]
            else:
                parts.append(element.value)
    elif isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        parts = [expr.elt]
    elif isinstance(expr, cst.DictComp):
        parts = [expr.key, expr.value]
    elif isinstance(expr, (cst.NamedExpr, cst.Await, cst.StarredElement)):
        parts = [expr.value]
    elif isinstance(expr, cst.Lambda):
        parts = [expr.body]
    found: set[str] = set()
    for part in parts:
        found |= _may_alias(part, imports)
    return found


def _call_aliases(call: cst.Call, imports: ImportedNames) -> set[str]:
    """Names whose memory the result of `call` may share (see `_may_alias`)."""
    found: set[str] = set()
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "out":
            found |= _may_alias(arg.value, imports)  # the result is `out`
    every_arg = set().union(*(_may_alias(a.value, imports) for a in call.args))
    func = call.func
    qualified = imports.qualify(func)
    if qualified is not None:
        if not qualified.startswith("numpy."):
            return found if qualified.startswith(_PURE_MODULES) else found | every_arg
        name = qualified[len("numpy.") :]
        if name in _NUMPY_ALIASING or _copy_false(call) or any(a.star for a in call.args):
            return found | every_arg
        if name == "array" and not is_fresh_allocation(call, imports):
            return found | every_arg
        return found
    if isinstance(func, cst.Name):
        if func.value in _VALUE_BUILTINS:
            return found
        return found | every_arg | {func.value}
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        if method == "astype" and _copy_false(call):  # may return the array itself
            return found | _may_alias(func.value, imports)
        if method in _FRESH_METHODS or method in _STORING_METHODS:
            return found
        if method in _VIEW_METHODS:
            return found | _may_alias(func.value, imports)
        return found | every_arg | _may_alias(func.value, imports)
    return found | every_arg | _may_alias(func, imports)


def _written_through(
    func: cst.FunctionDef, imports: ImportedNames, sites: dict[str, list[cst.CSTNode]]
) -> set[str]:
    """Names whose memory `func` may write, directly or through an alias.

    A write: a store to `a[...]` or `a.attr` (also chained, `a.reshape(-1)[0] = 3`, or
    in a tuple target), `a += ...`, `out=a`, a positional ufunc output, a NumPy writer
    (`np.copyto(a, ...)`, `np.add.at(a, ...)`...), a mutating or unknown method of `a`,
    or `a` passed to a user-defined or unknown function (its effects are not visible).
    Then every name that a written name may alias (`_may_alias` of its bindings, or of
    values stored into it) is written too, transitively: `y = x[1:]; y[0] = 7` writes `x`.

    `sites`: the function's `binding_sites`.
    """
    written: set[str] = set()
    stores: dict[str, set[str]] = {}  # container name -> names whose values it holds
    # names bound to a list, dict or set: by some binding (may hold references), by
    # every binding (storing into them writes no array)
    made = {
        name: [isinstance(n, cst.Assign) and _python_container(n.value, imports) for n in nodes]
        for name, nodes in sites.items()
    }
    containers = {name for name, kinds in made.items() if any(kinds)}
    only_containers = {name for name, kinds in made.items() if kinds and all(kinds)}

    def alias(expr: cst.BaseExpression | None) -> set[str]:
        return _may_alias(expr, imports)

    def write(expr: cst.BaseExpression) -> None:
        written.update(alias(expr))

    def store(target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                store(element.value, value)
        elif isinstance(target, cst.StarredElement):
            store(target.value, value)
        elif isinstance(target, (cst.Subscript, cst.Attribute)):
            bases = _base_names(target.value)
            # `d[k] = v` replaces an element of a list or dict: no array is written
            if not (
                isinstance(target, cst.Subscript)
                and isinstance(target.value, cst.Name)
                and target.value.value in only_containers
            ):
                written.update(alias(target.value) | bases)
            # `self.a = x` and `d[k] = x` into a list or dict keep `x` itself (an array
            # element store copies the value)
            if isinstance(target, cst.Attribute) or bases & containers:
                for name in bases:
                    stores.setdefault(name, set()).update(alias(value))

    class Look(FastVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                store(target.target, node.value)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            store(node.target, node.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name):
                written.add(node.target.value)  # in place for arrays
            store(node.target, None)

        def visit_For(self, node: cst.For) -> None:
            store(node.target, None)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            store(node.target, None)

        def visit_Del(self, node: cst.Del) -> None:
            store(node.target, None)

        def visit_Call(self, node: cst.Call) -> None:
            args = node.args
            positional = [a.value for a in args if a.keyword is None and not a.star]
            for arg in args:
                if arg.keyword is not None and arg.keyword.value == "out":
                    write(arg.value)
            func = node.func
            qualified = imports.qualify(func)
            if qualified is not None:
                if qualified.startswith("numpy."):
                    name = qualified[len("numpy.") :]
                    method = name.removeprefix("ndarray.")
                    if (
                        name in _NUMPY_WRITERS
                        or name.endswith(".at")
                        or (name == "nan_to_num" and _copy_false(node))
                        or (
                            name.startswith("ndarray.")
                            and method not in _FRESH_METHODS | _VIEW_METHODS
                        )
                    ):
                        for value in positional[:1] or [a.value for a in args]:
                            write(value)
                    else:
                        for value in positional[_ufunc_inputs(name) :]:
                            write(value)  # a positional output: `np.add(a, b, out)`
                    if any(a.star for a in args) and name not in _NUMPY_ALIASING:
                        for arg in args:  # `*args`, `**kwargs` may hold `out=`
                            write(arg.value)
                elif not qualified.startswith(_PURE_MODULES):
                    for arg in args:
                        write(arg.value)
                return
            if isinstance(func, cst.Name):
                if func.value not in _VALUE_BUILTINS and func.value not in _PASSING_BUILTINS:
                    for arg in args:
                        write(arg.value)
                return
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if method in _FRESH_METHODS or method in _VIEW_METHODS:
                    return
                if method in _STORING_METHODS:
                    for name in _base_names(func.value):
                        stores.setdefault(name, set()).update(*(alias(a.value) for a in args))
                    return
                write(func.value)  # mutating (`fill`, `sort`...) or unknown method
            for arg in args:
                write(arg.value)

    Look().visit(func.body)
    # `y = x`, `v = x[1:]`, `for row in x`: what each name may alias
    aliases: dict[str, set[str]] = {name: set(held) for name, held in stores.items()}
    for name, nodes in sites.items():
        for node in nodes:
            value: cst.BaseExpression | None = None
            if isinstance(node, (cst.Assign, cst.AnnAssign, cst.NamedExpr)):
                value = node.value
            elif isinstance(node, (cst.For, cst.CompFor)):
                value = node.iter
            elif isinstance(node, cst.WithItem):
                value = node.item
            if value is not None:
                aliases.setdefault(name, set()).update(alias(value))
    frontier = set(written)
    while frontier:
        reached = set().union(*(aliases.get(name, set()) for name in frontier)) - written
        written |= reached
        frontier = reached
    return written


#: calls that make a Python container (which holds references, not copies)
_CONTAINER_MAKERS = frozenset({"list", "dict", "set"})


def _python_container(value: cst.BaseExpression, imports: ImportedNames) -> bool:
    """A list, dict or set display, comprehension or constructor, or `[...] * n`."""
    if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
        return True
    if isinstance(value, cst.BinaryOperation):
        return _python_container(value.left, imports) or _python_container(value.right, imports)
    if not isinstance(value, cst.Call):
        return False
    qualified = imports.qualify(value.func) or ""
    return qualified.startswith("collections.") or (
        isinstance(value.func, cst.Name) and value.func.value in _CONTAINER_MAKERS
    )


def _ufunc_inputs(name: str) -> int:
    """How many positional arguments of NumPy function `name` are inputs (a big number
    when its positional outputs, if any, are not known)."""
    if name in _BINARY_UFUNCS:
        return 2
    if name in ("clip", "where"):
        return 3
    if name in ELEMENTWISE_UFUNCS and name not in ("real", "imag"):
        return 1
    return 1_000


def _copy_false(call: cst.Call) -> bool:
    """`copy=False` (or another non-True value) given: `np.nan_to_num(x, copy=False)`
    works in place."""
    return any(
        a.keyword is not None
        and a.keyword.value == "copy"
        and not (isinstance(a.value, cst.Name) and a.value.value == "True")
        for a in call.args
    )


def _scalar_names(expr: cst.BaseExpression) -> set[str]:
    """Names used as scalars in `expr`: not inside `len(...)`, an attribute or a subscript."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

        def visit_Call(self, node: cst.Call) -> bool:
            if isinstance(node.func, cst.Name) and node.func.value == "len":
                return False
            for arg in node.args:
                self.visit(arg.value)
            return False

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            return False

        def visit_Subscript(self, node: cst.Subscript) -> bool:
            for element in node.slice:
                self.visit(element.slice)
            return False

    Look().visit(expr)
    return found


def _annotated_scalar(func: cst.FunctionDef, name: str) -> bool:
    """True if parameter `name` is annotated with a scalar type (int, float, bool, complex)."""
    every = [*func.params.posonly_params, *func.params.params, *func.params.kwonly_params]
    for param in every:
        if param.name.value == name and param.annotation is not None:
            text = cst.Module(body=[]).code_for_node(param.annotation.annotation)
            return text in ("int", "float", "bool", "complex")
    return False


def _returns(func: cst.FunctionDef) -> list[cst.Return]:
    found: list[cst.Return] = []

    class Collect(FastVisitor):
        def visit_Return(self, node: cst.Return) -> None:
            if node.value is not None:
                found.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    Collect().visit(func)
    return found


def _taint(sites: dict[str, list[cst.CSTNode]], seeds: set[str]) -> set[str]:
    """Names that may hold reduced-precision floats: the seeds and everything computed
    from them, except through integer-valued calls (`len`, `argmax`, `.shape`...).

    `sites`: the function's `binding_sites`."""
    tainted = set(seeds)

    def carries(expr: cst.BaseExpression | None) -> bool:
        if expr is None:
            return False
        return bool(_float_names(expr) & tainted)

    changed = True
    while changed:
        changed = False
        for name, nodes in sites.items():
            if name in tainted:
                continue
            for node in nodes:
                value = None
                if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                    value = node.value
                elif isinstance(node, cst.For):
                    value = node.iter
                if carries(value) or (isinstance(node, cst.AugAssign) and carries(node.value)):
                    tainted.add(name)
                    changed = True
                    break
    return tainted


def _float_names(expr: cst.CSTNode) -> set[str]:
    """Names whose value flows into `expr` (not through integer-valued calls or attributes)."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            if node.attr.value in ("shape", "size", "ndim", "dtype", "T", "real", "imag"):
                if node.attr.value in ("T", "real", "imag"):
                    self.visit(node.value)
                return False
            self.visit(node.value)
            return False

        def visit_Call(self, node: cst.Call) -> bool:
            func = node.func
            last = _callee_name(func)
            if last in _INT_RESULTS:
                return False
            if isinstance(func, cst.Attribute):
                self.visit(func.value)
            for arg in node.args:
                self.visit(arg.value)
            return False

        def visit_Subscript(self, node: cst.Subscript) -> bool:
            self.visit(node.value)  # the index does not carry floats into the result
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            self.visit(node.value)
            return False

    Look().visit(expr)
    return found


#: Calls whose result is their float argument rounded to an integer value.
_ROUNDING_BUILTINS = frozenset({"int", "round"})
_ROUNDING_QUALIFIED = frozenset(
    {"math.floor", "math.ceil", "math.trunc"}
    | {f"numpy.{name}" for name in ("floor", "ceil", "trunc", "rint", "round", "around", "fix")}
)
#: Calls that round (bin, divide to an integer, or take a remainder of) every positional
#: argument: float32 moves a value across a bin edge or a multiple of the divisor, and
#: a remainder keeps the absolute error of a large operand in a small result.
_ROUNDING_ALL_ARGS_BUILTINS = frozenset({"divmod"})
_ROUNDING_ALL_ARGS_QUALIFIED = frozenset(
    {"math.fmod", "math.remainder", "math.modf"}
    | {
        f"numpy.{name}"
        for name in (
            "floor_divide", "divmod", "mod", "remainder", "fmod", "modf", "digitize",
            "searchsorted", "histogram", "histogram2d", "histogramdd", "histogram_bin_edges",
        )
    }
)  # fmt: skip


def _int_dtype(expr: cst.BaseExpression, imports: ImportedNames) -> bool:
    """`int`, `np.int32`, `np.uint8`, `"int64"`...: an integer dtype argument."""
    if isinstance(expr, cst.Name) and expr.value == "int":
        return True
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value.lstrip("<>=").startswith(("int", "uint", "i", "u"))
    qualified = imports.qualify(expr)
    return qualified is not None and qualified.startswith(("numpy.int", "numpy.uint"))


def _rounded_values(func: cst.FunctionDef, imports: ImportedNames) -> list[cst.BaseExpression]:
    """Expressions of `func`'s body whose value is rounded to an integer: arguments of
    `int`, `round`, `math.floor`/`ceil`/`trunc`, `np.floor`/`ceil`/`trunc`/`rint`/
    `round`, every argument of `divmod`, `np.floor_divide`/`mod`/`fmod`/`digitize`/
    `searchsorted`/`histogram`... (see `_ROUNDING_ALL_ARGS_QUALIFIED`), operands of `//`
    and `%`, receivers of `.astype(<integer dtype>)`, `.searchsorted` and `.round`."""
    found: list[cst.BaseExpression] = []

    class Look(FastVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_Call(self, node: cst.Call) -> None:
            f = node.func
            qualified = imports.qualify(f)
            if isinstance(f, cst.Name) and f.value in _ROUNDING_BUILTINS:
                found.extend(a.value for a in node.args[:1])
            elif qualified in _ROUNDING_QUALIFIED:
                found.extend(a.value for a in node.args[:1])
            elif (
                isinstance(f, cst.Name) and f.value in _ROUNDING_ALL_ARGS_BUILTINS
            ) or qualified in _ROUNDING_ALL_ARGS_QUALIFIED:
                found.extend(a.value for a in node.args)
            elif isinstance(f, cst.Attribute) and f.attr.value == "searchsorted":
                found.append(f.value)  # `edges.searchsorted(x)`: edges and values
                found.extend(a.value for a in node.args[:1])
            elif isinstance(f, cst.Attribute) and f.attr.value == "round" and qualified is None:
                found.append(f.value)  # `y.round()`, the method of `np.round(y)`
            elif (
                isinstance(f, cst.Attribute)
                and f.attr.value == "astype"
                and node.args
                and _int_dtype(node.args[0].value, imports)
            ):
                found.append(f.value)

        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            if isinstance(node.operator, (cst.FloorDivide, cst.Modulo)):
                found.extend((node.left, node.right))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.operator, (cst.FloorDivideAssign, cst.ModuloAssign)):
                found.extend((node.target, node.value))

    Look().visit(func.body)
    return found


def _accumulations(
    func: cst.FunctionDef, binding: dict[str, list[cst.CSTNode]], imports: ImportedNames
) -> list[cst.BaseExpression]:
    """Running sums over a whole loop nest, whose float32 error grows with the trip
    count: a float32 accumulator stops growing once the terms fall below half its ulp
    (a count stays at 2**24 = 16,777,216; the sum of 6e7 uniform values is 44% low),
    so a workload shorter than production shows a tiny error, or none for counts,
    while production gets a wrong result. Returns the expressions that must stay
    float64, for `_drop_rounded_seeds`:

    - a name `s += e`, `s -= e`, `s = s + e`, `s = e + s`, `s = s - e`,
      `np.add(s, e, out=s)` in a loop, where `s` is otherwise bound only outside loops
      (to a number, an element, `float(...)`, a parameter or a name, `s = s0`, or a
      whole array, `acc = np.zeros(m)` for `acc += X[k]`, Euler's `pos = pos + v *
      dt`): `s` and `e` (a Python float plus a float32 element is float32);
    - an element `a[k] += e` (or `a[k] = a[k] + e`) in a loop whose subscript moves
      with none of the enclosing loops' variables (`h[idx[i]] += 1.0`,
      `acc[0] += x[i]`): the array `a`.

    Sums restarted for each iteration of an outer loop (`y[i] += A[i, j] * x[j]`,
    `s = 0.0` inside the outer loop) run over one row or window and are left to the
    validator, like other float32 rounding."""
    found: list[cst.BaseExpression] = []
    in_loops: set[int] = set()

    def mark(node: cst.CSTNode, inside: bool) -> None:
        kind = type(node)
        if kind in _SCOPES and node is not func:
            return
        if inside:
            in_loops.add(id(node))
        inside = inside or kind is cst.For or kind is cst.While
        for child in iter_children(node):
            mark(child, inside)

    mark(func.body, False)

    def scalar_binding(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.AugAssign):
            return True
        if (
            isinstance(node, cst.Assign)
            and len(node.targets) == 1
            and (
                _self_add(node.targets[0].target, node.value) is not None
                or _self_scale(node.targets[0].target, node.value) is not None
            )
        ):
            return True
        if id(node) in in_loops:
            return False  # restarted inside a loop: a sum over part of the nest
        # any start outside the loops: a number, an array (`acc = np.zeros(m)`,
        # `pos = np.ones(3)`), a parameter or a name (`s = s0`)
        return isinstance(node, (cst.Assign, cst.AnnAssign, cst.Param))

    def moves_with(index: cst.BaseExpression, var: str) -> bool:
        """`index` is an affine expression of `var` (i, i + 1, 2 * i, i * n + j)."""
        if var not in {n.value for n in _walk_names(index)}:
            return False
        for n in _walk_all(index):
            if isinstance(n, (cst.Subscript, cst.Call)):
                return False
            if isinstance(n, cst.BinaryOperation) and not isinstance(
                n.operator, (cst.Add, cst.Subtract, cst.Multiply)
            ):
                return False
        return True

    def visit(
        node: cst.CSTNode, loop_vars: tuple[str, ...], outer: cst.CSTNode | None = None
    ) -> None:
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not func:
            return
        if isinstance(node, (cst.For, cst.While)):
            var = (
                node.target.value
                if isinstance(node, cst.For) and isinstance(node.target, cst.Name)
                else ""
            )
            visit(node.body, (*loop_vars, var), outer or node)
            if node.orelse is not None:
                visit(node.orelse, loop_vars, outer)
            return
        if loop_vars and isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            # `np.add(acc, e, out=acc)`, `np.copyto(acc, acc + e)`
            out = _ufunc_self_add(node.value) or _copyto_self_add(node.value)
            if out is not None and all(scalar_binding(b) for b in binding.get(out[0].value, ())):
                found.extend(out)
            return
        if loop_vars and isinstance(node, (cst.AugAssign, cst.Assign)):
            term: cst.BaseExpression | None = None
            if isinstance(node, cst.AugAssign):
                target = node.target
                if isinstance(
                    node.operator,
                    (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign),
                ):
                    term = node.value
            elif len(node.targets) == 1:
                target = node.targets[0].target
                if _whole(target):  # `x[:] = x + e`: the whole array, like `x = x + e`
                    assert isinstance(target, cst.Subscript)
                    target = target.value
                term = _self_add(target, node.value) or _self_scale(target, node.value)
                if term is None and isinstance(target, cst.Subscript):
                    term = _dict_get_add(target, node.value)
            if term is not None and isinstance(target, cst.Name):
                if all(scalar_binding(b) for b in binding.get(target.value, ())):
                    found.extend((target, term))
            elif term is not None and isinstance(target, cst.Attribute):
                found.extend((target, term))  # `self.total += x[i]`: a Python float
            elif term is not None and isinstance(target, cst.Subscript):
                # a sum over the outermost loop (`acc[j] += x[i]` under `for i: for j
                # in range(3)`, `u[i] += ...` under `for step in ...`) runs the whole nest
                if not any(
                    isinstance(el.slice, cst.Index) and moves_with(el.slice.value, var)
                    for el in target.slice
                    for var in loop_vars
                    if var
                ) or _sums_over_outermost(target, loop_vars, outer, moves_with):
                    found.append(target)
                    base = base_name(target)
                    if base is not None and any(
                        isinstance(b, cst.Assign) and _python_container(b.value, imports)
                        for b in binding.get(base, ())
                    ):
                        # `acc = [0.0] * 4`, `totals = {}`: a Python float element plus
                        # a float32 term is float32, so the terms stay float64 too
                        found.append(term)
            return
        for child in iter_children(node):
            visit(child, loop_vars, outer)

    visit(func.body, ())
    return found


def _whole(target: cst.BaseExpression) -> bool:
    """`x[:]`, `x[...]`, `x[:, :]`: a store into every element of `x`."""
    if not isinstance(target, cst.Subscript) or not isinstance(target.value, cst.Name):
        return False
    for el in target.slice:
        part = el.slice
        if isinstance(part, cst.Slice):
            if part.lower is not None or part.upper is not None or part.step is not None:
                return False
        elif not (isinstance(part, cst.Index) and isinstance(part.value, cst.Ellipsis)):
            return False
    return True


def _copyto_self_add(call: cst.Call) -> tuple[cst.Name, cst.BaseExpression] | None:
    """`(acc, e)` for `np.copyto(acc, acc + e)` (or `acc * e`): a running sum into `acc`."""
    if _callee_name(call.func) != "copyto" or len(call.args) < 2:
        return None
    dst, src = call.args[0].value, call.args[1].value
    if not isinstance(dst, cst.Name) or any(a.keyword is not None for a in call.args[:2]):
        return None
    term = _self_add(dst, src) or _self_scale(dst, src)
    return None if term is None else (dst, term)


def _dict_get_add(target: cst.Subscript, value: cst.BaseExpression) -> cst.BaseExpression | None:
    """`value` for `d[k] = d.get(k, 0.0) + e`: a running sum into a dict element."""
    module = cst.Module([])
    base = module.code_for_node(target.value)
    for sign, term in _additive_terms(value):
        if (
            sign == 1
            and isinstance(term, cst.Call)
            and isinstance(term.func, cst.Attribute)
            and term.func.attr.value == "get"
            and module.code_for_node(term.func.value) == base
        ):
            return value
    return None


def _ufunc_self_add(call: cst.Call) -> tuple[cst.Name, cst.BaseExpression] | None:
    """`(acc, e)` for `np.add(acc, e, out=acc)`, `np.add(e, acc, acc)` or
    `np.subtract(acc, e, out=acc)`: an in-place running sum into the name `acc`."""
    if _callee_name(call.func) not in ("add", "subtract") or any(a.star for a in call.args):
        return None
    positional = [a.value for a in call.args if a.keyword is None]
    out = [a.value for a in call.args if a.keyword is not None and a.keyword.value == "out"]
    if not out:
        out = positional[2:3]
    if len(positional) < 2 or len(out) != 1:
        return None
    target = out[0]
    if isinstance(target, cst.Tuple) and len(target.elements) == 1:
        target = target.elements[0].value
    if not isinstance(target, cst.Name):
        return None
    first, second = positional[0], positional[1]
    if isinstance(first, cst.Name) and first.value == target.value:
        return target, second
    if (
        _callee_name(call.func) == "add"
        and isinstance(second, cst.Name)
        and second.value == target.value
    ):
        return target, first
    return None


def _sums_over_outermost(
    target: cst.Subscript,
    loop_vars: tuple[str, ...],
    outer: cst.CSTNode | None,
    moves_with: Callable[[cst.BaseExpression, str], bool],
) -> bool:
    """True when the element `target` accumulates over every iteration of the outermost
    enclosing loop `outer`: no subscript moves with its variable and the array is not
    bound again inside it (`acc[j] += x[i]` under `for i: for j in range(3)`, per-bin
    sums; `u[i] += ...` under `for step in range(nt)`). A sum restarted by `v = ...`
    inside `outer` runs over one of its iterations only."""
    if outer is None:
        return False
    var = loop_vars[0] if loop_vars else ""
    if var and any(
        isinstance(el.slice, cst.Index) and moves_with(el.slice.value, var) for el in target.slice
    ):
        return False
    base: cst.BaseExpression = target
    while isinstance(base, cst.Subscript):
        base = base.value
    if not isinstance(base, cst.Name):
        return True
    for node in walk(outer):
        bound: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            bound = [t.target for t in node.targets]
        elif isinstance(node, (cst.AnnAssign, cst.NamedExpr)):
            bound = [node.target]
        elif isinstance(node, cst.For):
            bound = [node.target]
        while bound:
            b = bound.pop()
            if isinstance(b, (cst.Tuple, cst.List)):
                bound.extend(el.value for el in b.elements)
            elif isinstance(b, cst.StarredElement):
                bound.append(b.value)
            elif isinstance(b, cst.Name) and b.value == base.value:
                return False  # restarted: `v = a[:, j].copy()` inside `outer`
    return True


def _self_add(target: cst.BaseExpression, value: cst.BaseExpression) -> cst.BaseExpression | None:
    """`e` when `value` is `target + e`, `e + target` or `target - e`, else None; also
    the whole `value` for a chain `target + a - b` (target leftmost), and `e` for
    `np.add(target, e)`, `np.add(e, target)`, `np.subtract(target, e)`."""
    chained = _chained_or_ufunc_add(target, value)
    if chained is not None:
        return chained
    if not isinstance(value, cst.BinaryOperation) or not isinstance(
        value.operator, (cst.Add, cst.Subtract)
    ):
        return None
    code = cst.Module([]).code_for_node(target)
    if cst.Module([]).code_for_node(value.left) == code:
        return value.right
    if isinstance(value.operator, cst.Add) and cst.Module([]).code_for_node(value.right) == code:
        return value.left
    return None


def _self_scale(target: cst.BaseExpression, value: cst.BaseExpression) -> cst.BaseExpression | None:
    """`e` when `value` is `target * e`, `e * target` or `target / e`: a running product
    (compound growth `bal = bal * g`, decay `u = u * 0.99`), whose relative float32
    error is the sum of one rounding per step, else None."""
    if not isinstance(value, cst.BinaryOperation) or not isinstance(
        value.operator, (cst.Multiply, cst.Divide)
    ):
        return None
    module = cst.Module([])
    code = module.code_for_node(target)
    if module.code_for_node(value.left) == code:
        return value.right
    if isinstance(value.operator, cst.Multiply) and module.code_for_node(value.right) == code:
        return value.left
    return None


def _chained_or_ufunc_add(
    target: cst.BaseExpression, value: cst.BaseExpression
) -> cst.BaseExpression | None:
    """The terms of `target + a + b` / `target - a + b` (the whole `value`, `target`
    being the leftmost operand of a chain of at least two `+`/`-`), or `e` of
    `np.add(target, e)`, `np.add(e, target)`, `np.subtract(target, e)`; else None."""
    module = cst.Module([])
    code = module.code_for_node(target)
    if isinstance(value, cst.Call):
        func = value.func
        name = _callee_name(func)
        args = value.args
        if name not in ("add", "subtract") or len(args) < 2:
            return None
        if any(a.star or a.keyword is not None for a in args[:2]):
            return None
        first, second = args[0].value, args[1].value
        if module.code_for_node(first) == code:
            return second
        if name == "add" and module.code_for_node(second) == code:
            return first
        return None
    left = value
    depth = 0
    while isinstance(left, cst.BinaryOperation) and isinstance(
        left.operator, (cst.Add, cst.Subtract)
    ):
        left = left.left
        depth += 1
    if depth >= 2 and module.code_for_node(left) == code:
        return value
    return None


#: NumPy scans: the running total (or product) is kept in the array's dtype
_SCANS = frozenset(
    {"numpy.cumsum", "numpy.cumprod", "numpy.cumulative_sum", "numpy.cumulative_prod",
     "numpy.nancumsum", "numpy.nancumprod"}
)  # fmt: skip
#: reductions that add along an axis: NumPy adds the rows of a leading axis one after
#: another (pairwise summation only runs along the contiguous last axis)
_AXIS_SUMS = frozenset(
    {"sum", "nansum", "mean", "nanmean", "average", "var", "nanvar", "std", "nanstd",
     "prod", "nanprod", "add.reduce", "multiply.reduce"}
)  # fmt: skip
#: unbuffered scatter updates, one element after another into their first argument
_SCATTER_AT = frozenset({"numpy.add.at", "numpy.subtract.at", "numpy.multiply.at"})


#: what makes the last axis of an array a leading one in memory
_TRANSPOSING = frozenset(
    {"T", "mT", "transpose", "swapaxes", "moveaxis", "rollaxis", "asfortranarray",
     "permute_dims", "matrix_transpose"}
)  # fmt: skip


def _has_axis(call: cst.Call, position: int) -> bool:
    """An `axis` other than `None` is given (keyword or at positional index `position`)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "axis":
            return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return len(positional) > position and not (
        isinstance(positional[position].value, cst.Name)
        and positional[position].value.value == "None"
    )


def _transposed(expr: cst.BaseExpression, binding: dict[str, list[cst.CSTNode]]) -> bool:
    """`expr` may be a transposed array (`X.T`, `np.transpose(X)`, `X.swapaxes(0, 1)`,
    a name bound to one): its axis 1 runs along the memory's rows."""
    for node in walk(expr):
        if isinstance(node, cst.Attribute) and node.attr.value in _TRANSPOSING:
            return True
    if isinstance(expr, cst.Name):
        return any(
            isinstance(b, cst.Assign) and _transposed(b.value, {})
            for b in binding.get(expr.value, ())
        )
    return False


def _leading_axis(call: cst.Call, position: int) -> bool:
    """`call` reduces along an axis that may not be the last one: an `axis` (keyword or
    at positional index `position`) other than `-1` or `None` (`axis=0`, `axis=-2`,
    `axis=(0, 1)`, a name). `axis=1` is taken as the last axis of a 2-D array (unless
    the array is transposed, see `_transposed`)."""
    axis: cst.BaseExpression | None = None
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "axis":
            axis = arg.value
    if axis is None and len(positional) > position:
        axis = positional[position].value
    if axis is None:
        return False
    if isinstance(axis, cst.Name) and axis.value == "None":
        return False
    if isinstance(axis, cst.UnaryOperation) and isinstance(axis.expression, cst.Integer):
        return int(axis.expression.value, 0) != 1  # `-1` is the last axis, `-2` is not
    return not (isinstance(axis, cst.Integer) and int(axis.value, 0) >= 1)


def _sequential_sums(
    func: cst.FunctionDef,
    imports: ImportedNames,
    binding: dict[str, list[cst.CSTNode]] | None = None,
) -> list[cst.BaseExpression]:
    """Arguments summed one element after another in the array's own dtype: builtin
    `sum(y)` (Python adds the float32 elements in float32), scans (`np.cumsum(y)`,
    `y.cumsum()`, `np.cumulative_sum`, `np.nancumsum`, any `np.<ufunc>.accumulate`, and
    the running products `np.cumprod`, `y.cumprod()`, `np.cumulative_prod`: the running
    total is float32), sums and means along a leading axis (`X.sum(axis=0)`,
    `np.mean(X, 0)`, `np.add.reduce(X, axis=0)`: NumPy adds the rows one after another)
    and the target of an unbuffered scatter `np.add.at(h, idx, w)` (like
    `h[idx[i]] += w[i]`): the error grows with the length, as in a loop (`np.sum`'s
    pairwise sum over a whole array does not)."""
    found: list[cst.BaseExpression] = []
    for node in walk(func.body):
        if not isinstance(node, cst.Call):
            continue
        f = node.func
        qualified = imports.qualify(f)
        if (
            qualified is None
            and isinstance(f, cst.Attribute)
            and f.attr.value in ("cumsum", "cumprod")
        ):
            found.append(f.value)  # `y.cumsum()`, also without arguments
            continue
        if not node.args:
            continue
        if isinstance(f, cst.Name) and f.value == "sum":
            found.append(node.args[0].value)
        elif qualified is not None and qualified.startswith("numpy."):
            name = qualified[len("numpy.") :]
            if (
                qualified in _SCANS
                or qualified in _SCATTER_AT
                or (name.endswith(".accumulate") and "." not in name[: -len(".accumulate")])
                or (
                    name in _AXIS_SUMS
                    and (
                        _leading_axis(node, 1)
                        # a ufunc's `reduce` adds along axis 0 unless told otherwise
                        or (
                            name.endswith(".reduce")
                            and len([a for a in node.args if a.keyword is None]) < 2
                            and not any(
                                a.keyword is not None and a.keyword.value == "axis"
                                for a in node.args
                            )
                        )
                        or (_has_axis(node, 1) and _transposed(node.args[0].value, binding or {}))
                    )
                )
            ):
                found.append(node.args[0].value)
        elif (
            qualified is None
            and isinstance(f, cst.Attribute)
            and f.attr.value in _AXIS_SUMS
            and (
                _leading_axis(node, 0)
                or (_has_axis(node, 0) and _transposed(f.value, binding or {}))
            )
        ):
            found.append(f.value)
    return found


def _additive_terms(
    expr: cst.BaseExpression, sign: int = 1
) -> list[tuple[int, cst.BaseExpression]]:
    """The operands of a chain of `+` and `-` with their signs (+1 or -1), through
    parentheses, unary `+`/`-` and `np.add`/`np.subtract`: `a - (b + c)` is
    `[(1, a), (-1, b), (-1, c)]`; a product or any other expression is one operand."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        right = -sign if isinstance(expr.operator, cst.Subtract) else sign
        return _additive_terms(expr.left, sign) + _additive_terms(expr.right, right)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        return _additive_terms(
            expr.expression, -sign if isinstance(expr.operator, cst.Minus) else sign
        )
    if isinstance(expr, cst.Call) and len(expr.args) == 2:
        func = expr.func
        name = _callee_name(func)
        first, second = expr.args
        if name in ("add", "subtract") and not any(
            a.star or a.keyword is not None for a in expr.args
        ):
            right = -sign if name == "subtract" else sign
            return _additive_terms(first.value, sign) + _additive_terms(second.value, right)
    return [(sign, expr)]


def _loop_statements(func: cst.FunctionDef) -> list[cst.Assign | cst.AugAssign]:
    """The assignments and augmented assignments of `func`'s own body that run in a loop."""
    found: list[cst.Assign | cst.AugAssign] = []

    def visit(node: cst.CSTNode, inside: bool) -> None:
        if isinstance(node, _SCOPES) and node is not func:
            return
        if inside and isinstance(node, (cst.Assign, cst.AugAssign)):
            found.append(node)
            return
        inside = inside or isinstance(node, (cst.For, cst.While))
        for child in iter_children(node):
            visit(child, inside)

    visit(func.body, False)
    return found


def _carried_sums(
    func: cst.FunctionDef, binding: dict[str, list[cst.CSTNode]]
) -> list[cst.BaseExpression]:
    """Scalar running sums carried through a temporary or a tuple assignment, which
    `_accumulations` does not see: `t = s + x[i]; s = t`, `t = x[i] + s; s = t`,
    `s, t = t, t + x[i]`, `x, v = x + v * dt, v + a * dt`. The loop assignments make a
    graph, `n -> m` when `m = ... + n + ...` (`n` a plain name with coefficient 1) or
    `m = n`; a cycle through at least one addition is a running sum, whose float32 error
    grows with the trip count like `s += x[i]`. Its names must be bound only by the
    cycle's assignments or outside loops (a number, an element, an array `u =
    np.zeros(m)`, a parameter): a cycle restarted inside an outer loop (`s = 0.0` there)
    sums one row, left to the validator. Returns the values assigned along the cycle, for
    `_drop_rounded_seeds` (the names and the data summed stay float64)."""
    # (target, source, adds, statement, value): value flows from `source` into `target`
    edges: list[tuple[str, str, bool, cst.CSTNode, cst.BaseExpression]] = []
    for node in _loop_statements(func):
        pairs: list[
            tuple[cst.BaseExpression, list[tuple[int, cst.BaseExpression]], cst.BaseExpression]
        ] = []
        if isinstance(node, cst.AugAssign):
            if isinstance(node.target, cst.Name) and isinstance(
                node.operator, (cst.AddAssign, cst.SubtractAssign)
            ):
                sign = -1 if isinstance(node.operator, cst.SubtractAssign) else 1
                terms = [(1, node.target), *_additive_terms(node.value, sign)]
                pairs.append((node.target, terms, node.value))
        elif len(node.targets) == 1:
            target, value = node.targets[0].target, node.value
            if isinstance(target, cst.Name):
                pairs.append((target, _additive_terms(value), value))
            elif (
                isinstance(target, (cst.Tuple, cst.List))
                and isinstance(value, (cst.Tuple, cst.List))
                and len(target.elements) == len(value.elements)
                and not any(isinstance(e, cst.StarredElement) for e in target.elements)
                and not any(isinstance(e, cst.StarredElement) for e in value.elements)
            ):
                for t, v in zip(target.elements, value.elements, strict=True):
                    if isinstance(t.value, cst.Name):
                        pairs.append((t.value, _additive_terms(v.value), v.value))
        for target, terms, value in pairs:
            assert isinstance(target, cst.Name)
            for sign, term in terms:
                if sign == 1 and isinstance(term, cst.Name):
                    edges.append((target.value, term.value, len(terms) > 1, node, value))
    if not edges:
        return []
    successors: dict[str, set[str]] = {}
    for target, source, _, _, _ in edges:
        successors.setdefault(source, set()).add(target)

    def reach(start: str) -> set[str]:
        seen = {start}
        todo = [start]
        while todo:
            for nxt in successors.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reached = {name: reach(name) for name in successors}
    in_loops = {id(n) for n in _loop_statements(func)}
    found: list[cst.BaseExpression] = []
    done: set[frozenset[str]] = set()
    for target, source, adds, _, _ in edges:
        # an addition on a cycle: `source -> target ->* source`
        if not adds or source not in reached.get(target, {target}):
            continue
        cycle = frozenset(n for n in reached[source] if source in reached.get(n, ()))
        if cycle in done:
            continue
        done.add(cycle)
        carrying = [e for e in edges if e[0] in cycle and e[1] in cycle]
        statements = {id(e[3]) for e in carrying}
        if all(
            id(b) in statements
            or (id(b) not in in_loops and isinstance(b, (cst.Assign, cst.Param)))
            for name in cycle
            for b in binding.get(name, ())
        ):
            found.extend(e[4] for e in carrying)
    return found


def _subscript_parts(expr: cst.Subscript) -> tuple[str, list[tuple[str, int]]]:
    """The array (as code) and the index of `expr`, one `(base, offset)` a dimension,
    `x[i][j + 1]` -> `("x", [("i", 0), ("j", 1)])`; a slice is its code, offset 0."""
    module = cst.Module([])
    parts: list[tuple[str, int]] = []
    node: cst.BaseExpression = expr
    while isinstance(node, cst.Subscript):
        dims: list[tuple[str, int]] = []
        for el in node.slice:
            if not isinstance(el.slice, cst.Index):
                dims.append(("".join(module.code_for_node(el.slice).split()), 0))
                continue
            index = el.slice.value
            base, offset = index, 0
            if isinstance(index, cst.BinaryOperation) and isinstance(
                index.operator, (cst.Add, cst.Subtract)
            ):
                if isinstance(index.right, cst.Integer):
                    base, offset = index.left, int(index.right.value, 0)
                    if isinstance(index.operator, cst.Subtract):
                        offset = -offset
                elif isinstance(index.left, cst.Integer) and isinstance(index.operator, cst.Add):
                    base, offset = index.right, int(index.left.value, 0)
            elif isinstance(index, cst.Integer):
                base, offset = None, int(index.value, 0)
            code = "" if base is None else "".join(module.code_for_node(base).split())
            dims.append((code, offset))
        parts = dims + parts
        node = node.value
    return "".join(module.code_for_node(node).split()), parts


def _shifted(
    target: cst.Subscript,
    read: cst.BaseExpression,
    offsets: dict[str, tuple[str, int]] | None = None,
) -> bool:
    """`read` is another element of `target`'s array along a moving index, `target` moved
    by a constant: `x[i - 1]` for `x[i]`, `S[i - 1, j]` for `S[i, j]`, `x[i]` for
    `x[i + 1]` (an element computed in an earlier iteration). `offsets`: index names
    bound once to another moved by a constant (`k = i + 1`: `"k" -> ("i", 1)`)."""
    if not isinstance(read, cst.Subscript):
        return False
    (array, index), (other, shifted) = _subscript_parts(target), _subscript_parts(read)
    if offsets:  # `k = i + 1; y[k] = y[i] + x[i]`: `k` is `i` moved by 1
        index = [(offsets[b][0], o + offsets[b][1]) if b in offsets else (b, o) for b, o in index]
        shifted = [
            (offsets[b][0], o + offsets[b][1]) if b in offsets else (b, o) for b, o in shifted
        ]
    if array != other or len(index) != len(shifted):
        return False
    if any(a[0] != b[0] for a, b in zip(index, shifted, strict=True)):
        return False
    return any(a[0] and a[1] != b[1] for a, b in zip(index, shifted, strict=True))


def _recurrences(func: cst.FunctionDef) -> list[cst.BaseExpression]:
    """Additive element recurrences in loops: `x[i + 1] = x[i] + dx`, `c[i] = c[i - 1] +
    x[i]` (prefix sums), `c[i] += c[i - 1]`, `S[i, j] = S[i - 1, j] + S[i, j - 1] -
    S[i - 1, j - 1] + img[i, j]` (integral images). The element at `i` is a sum of `i`
    terms: its float32 error grows with the length like a running sum's (a float32
    progression with dx = 0.1 is 1e-5 off after 1e3 steps, 1e-2 after 1e6). Only a
    carried element with coefficient 1 counts (`x[i - 1] + e`, `e + x[i - 1]`,
    `x[i - 1] - e`); a multiplied one (`y[i] = a * y[i - 1] + b * x[i]`, smoothing, IIR
    filters) contracts the error and is left to the validator, and a copy (`buf[b + 1] =
    buf[b]`) adds nothing. Returns the target and the value of each: the array and the
    data summed into it stay float64. An index bound once in the loop to another moved
    by a constant counts as that one (`k = i + 1; y[k] = y[i] + x[i]`)."""
    found: list[cst.BaseExpression] = []
    statements = _loop_statements(func)
    offsets: dict[str, tuple[str, int]] = {}
    sites = binding_sites(func)
    for node in statements:
        if (
            isinstance(node, cst.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
            and len(sites.get(node.targets[0].target.value, ())) == 1
        ):
            probe = cst.Subscript(
                value=cst.Name("_"), slice=[cst.SubscriptElement(cst.Index(node.value))]
            )
            parts = _subscript_parts(probe)[1]
            if parts and parts[0][0] and parts[0][0].isidentifier():
                offsets[node.targets[0].target.value] = parts[0]
    for node in statements:
        if isinstance(node, cst.AugAssign):
            target = node.target
            if not isinstance(node.operator, cst.AddAssign):
                continue
        elif len(node.targets) == 1:
            target = node.targets[0].target
        else:
            continue
        if not isinstance(target, cst.Subscript):
            continue
        terms = _additive_terms(node.value)
        if isinstance(node, cst.Assign) and len(terms) < 2:
            continue  # a copy (`buf[b + 1] = buf[b]`, an insertion sort's shift) adds nothing
        if any(sign == 1 and _shifted(target, term, offsets) for sign, term in terms):
            found.extend((target, node.value))
    return found


#: NumPy grids: evenly spaced positions whose absolute error grows with their extent
_GRIDS = frozenset({"numpy.linspace", "numpy.arange", "numpy.logspace", "numpy.geomspace"})
#: periodic functions: a float32 phase keeps only ~7 digits of a large argument
_PERIODIC = frozenset(
    {f"{m}.{f}" for m in ("numpy", "math") for f in ("sin", "cos", "tan")} | {"numpy.sinc"}
)
#: differences of neighbouring elements (`np.interp` divides by `xp[i + 1] - xp[i]`)
_DIFFERENCES = frozenset({"numpy.diff", "numpy.ediff1d", "numpy.gradient", "numpy.interp"})


def _literal_extent(call: cst.Call, imports: ImportedNames) -> bool:
    """A grid whose start and stop are constants (`np.linspace(0.0, 2 * np.pi, n)`,
    `np.arange(0.0, 1.0, h)`): its extent does not grow with the input."""
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    start = positional[0] if positional else keywords.get("start")
    stop = positional[1] if len(positional) > 1 else keywords.get("stop")
    if start is None or stop is None:
        return False  # `np.arange(n)`: the stop is the first argument

    def constant(expr: cst.BaseExpression) -> bool:
        if isinstance(expr, (cst.Integer, cst.Float)):
            return True
        if isinstance(expr, cst.UnaryOperation):
            return constant(expr.expression)
        if isinstance(expr, cst.BinaryOperation):
            return constant(expr.left) and constant(expr.right)
        return imports.qualify(expr) in ("numpy.pi", "numpy.e", "math.pi", "math.e")

    return constant(start) and constant(stop)


def _grid_hazards(
    func: cst.FunctionDef, imports: ImportedNames, binding: dict[str, list[cst.CSTNode]]
) -> list[cst.BaseExpression]:
    """Uses of evenly spaced positions whose float32 error grows with their number.

    A float32 grid (`t = np.linspace(0.0, T, n)`, `np.arange(0.0, n * h, h)`,
    `np.arange(n) * dt`, `t = k * dt` with a loop counter `k`, an array filled from one,
    `t[i] = i * h`) is within 6e-8 of each
    value, but that is an absolute error of 6e-8 * T:

    - neighbours subtracted (`np.diff(t)`, `np.gradient(y, t)`, `np.interp(tq, t, y)`,
      `t[1:] - t[:-1]`, `t[i + 1] - t[i]`, also of values computed from the grid) lose
      n * 6e-8 of the spacing T / n: 5e-4 at 1e4 points, 40% at 1e7;
    - the argument of `sin`/`cos`/`tan` of a grid whose extent is not a constant (a
      phase `w * t` up to `w * n * h`) is off by 6e-8 of the whole phase, 3e-5 at 1e4
      points and 3e-2 at 1e7;
    - compared for equality (`ids == k` of `ids = np.arange(0.0, n)`): float32 holds
      integers exactly only up to 2**24 = 16,777,216, above it one id matches several
      elements (3 instead of 1 at 2e7).

    Returns those arguments and operands: the grid and what it is computed from stay
    float64."""
    grids: set[str] = set()
    unbounded: set[str] = set()
    counters: set[str] = set()
    for name, nodes in binding.items():
        for node in nodes:
            if isinstance(node, cst.For):
                it = node.iter
                if isinstance(it, cst.Call) and _callee_name(it.func) == "range":
                    counters.add(name)
            if not isinstance(node, cst.Assign):
                continue
            calls = [
                c
                for c in walk(node.value)
                if isinstance(c, cst.Call) and imports.qualify(c.func) in _GRIDS
            ]
            if calls:
                grids.add(name)
                if not all(_literal_extent(c, imports) for c in calls):
                    unbounded.add(name)
    if not grids and not counters:
        return []
    # arrays filled from a counter in a loop: `t[i] = i * h`
    for node in _loop_statements(func):
        if isinstance(node, cst.Assign) and _float_names(node.value) & counters:
            for target in node.targets:
                base = base_name(target.target)
                if isinstance(target.target, cst.Subscript) and base is not None:
                    grids.add(base)
                    unbounded.add(base)
    near = _taint(binding, grids) if grids else set()
    far = _taint(binding, unbounded | counters)
    found: list[cst.BaseExpression] = []

    def reads(expr: cst.BaseExpression, names: set[str]) -> bool:
        return bool(_float_names(expr) & names)

    for node in walk(func.body):
        if isinstance(node, cst.Call):
            qualified = imports.qualify(node.func)
            if qualified in _PERIODIC and node.args and reads(node.args[0].value, far):
                found.append(node.args[0].value)
            elif qualified in _DIFFERENCES:
                found.extend(a.value for a in node.args if reads(a.value, near))
        elif near and isinstance(node, cst.Comparison):
            # `ids == k` of `ids = np.arange(0.0, n)`: float32 holds integers exactly only
            # up to 2**24, and above it one id matches several elements
            operands = [node.left, *(c.comparator for c in node.comparisons)]
            if any(
                isinstance(c.operator, (cst.Equal, cst.NotEqual)) for c in node.comparisons
            ) and any(reads(o, near) for o in operands):
                found.extend(operands)
        elif (
            near
            and isinstance(node, cst.BinaryOperation)
            and isinstance(node.operator, cst.Subtract)
        ):
            terms = [(sign, t) for sign, t in _additive_terms(node) if isinstance(t, cst.Subscript)]
            by_base: dict[str, set[int]] = {}
            for sign, term in terms:
                base = base_name(term)
                if base is not None and base in near:
                    by_base.setdefault(base, set()).add(sign)
            for base, signs in by_base.items():
                if signs == {1, -1}:
                    found.extend(t for _, t in terms if base_name(t) == base)
    return found


#: below this a float literal is a tolerance finer than float32 resolves near 1 (its
#: machine epsilon is 1.2e-7)
_FLOAT32_TOLERANCE = 1e-6
#: `np.finfo(...)` attributes that are tolerances or guards below float32's resolution
_FINFO_TINY = frozenset({"eps", "epsneg", "resolution", "tiny", "smallest_normal"})


def _convergence_tests(
    func: cst.FunctionDef, imports: ImportedNames, binding: dict[str, list[cst.CSTNode]]
) -> list[cst.BaseExpression]:
    """Loop exits that float32 may never reach: a `while` test (or the test of an `if`
    that leaves a `while` loop) comparing a value with a tolerance below float32's
    resolution (`while err > 1e-10`, `while hi - lo > tol` with `tol = 1e-9`, `4 *
    np.finfo(np.float64).eps * g`). A float32 iteration stalls one ulp (6e-8 of the
    value) away, or cycles between two neighbours: the loop never ends (a bisection
    and a fixed-point iteration hung on every input). Also any comparison of a
    difference with such a tolerance (`if abs(x[i] - y[i]) < 1e-12: ... else: 1 / d`): a
    guard against cancellation that float32 cannot honour (the difference of two
    float32 inputs is only known to 6e-8 of them: 1 / d was 5e-6 off on 1e3 pairs and
    12% off on 1e6, whose closest pair is closer). Returns the compared values: what
    they are computed from stays float64."""

    def tiny(expr: cst.BaseExpression, depth: int = 0) -> bool:
        if isinstance(expr, cst.UnaryOperation):
            return tiny(expr.expression, depth)
        if isinstance(expr, cst.Float):
            try:
                value = abs(float(expr.value.replace("_", "")))
            except ValueError:
                return False
            return 0.0 < value < _FLOAT32_TOLERANCE
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.Multiply, cst.Divide)
        ):
            return tiny(expr.left, depth) or tiny(expr.right, depth)
        if isinstance(expr, cst.Attribute) and expr.attr.value in _FINFO_TINY:
            call = expr.value
            return isinstance(call, cst.Call) and imports.qualify(call.func) == "numpy.finfo"
        if isinstance(expr, cst.Name) and depth < 3:
            nodes = binding.get(expr.value, ())
            values: list[cst.BaseExpression] = []
            for node in nodes:
                if isinstance(node, cst.Assign) and len(node.targets) == 1:
                    values.append(node.value)
                elif isinstance(node, cst.Param) and node.default is not None:
                    values.append(node.default)
                else:
                    return False
            return bool(values) and all(tiny(v, depth + 1) for v in values)
        return False

    def exits(test: cst.BaseExpression) -> list[cst.BaseExpression]:
        compared: list[cst.BaseExpression] = []
        for node in walk(test):
            if not isinstance(node, cst.Comparison):
                continue
            operands = [node.left, *(c.comparator for c in node.comparisons)]
            if any(
                isinstance(
                    c.operator,
                    (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual),
                )
                for c in node.comparisons
            ) and any(tiny(o) for o in operands):
                compared.extend(o for o in operands if not tiny(o))
        return compared

    def difference(expr: cst.BaseExpression) -> bool:
        """`expr` subtracts, directly or through a local it reads (`d = x[i] - y[i]`)."""
        values = [expr]
        for name in _walk_names(expr):
            values += [b.value for b in binding.get(name.value, ()) if isinstance(b, cst.Assign)]
        return any(
            isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Subtract)
            for v in values
            for n in walk(v)
        )

    found: list[cst.BaseExpression] = []
    for node in walk(func.body):
        if isinstance(node, cst.Comparison):
            # a guard against cancellation, `if abs(x[i] - y[i]) < 1e-12`: float32
            # leaves a difference of neighbours only to within 6e-8 of its operands
            found.extend(c for c in exits(node) if difference(c))
        if not isinstance(node, cst.While):
            continue
        found.extend(exits(node.test))
        for inner in walk(node.body):
            if isinstance(inner, cst.If) and any(
                isinstance(n, (cst.Break, cst.Return)) for n in walk(inner.body)
            ):
                found.extend(exits(inner.test))
    return found


#: nodes that open a scope of their own (their bodies are not the function's)
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


def _walk_all(node: cst.CSTNode) -> list[cst.CSTNode]:
    return list(walk(node))


def _walk_names(node: cst.CSTNode) -> list[cst.Name]:
    return [n for n in walk(node) if type(n) is cst.Name]


def _drop_rounded_seeds(
    plan: _Plan,
    binding: dict[str, list[cst.CSTNode]],
    seeds: set[str],
    rounded: list[cst.BaseExpression],
) -> set[str]:
    """Take out of `plan` every parameter and float64 call whose values reach a rounding.

    Returns the seeds left. A call inside a rounded expression goes too.
    """
    read = set().union(*(_float_names(e) for e in rounded))
    dropped = {seed for seed in seeds if _taint(binding, {seed}) & read}
    call_ids = {id(c) for c in plan.calls}
    gone: set[int] = set()
    for expr in (
        *rounded,
        *(n.value for seed in dropped for n in binding.get(seed, ()) if isinstance(n, cst.Assign)),
    ):
        gone |= _ids_within(expr, call_ids)
    plan.params = [p for p in plan.params if p not in dropped]
    plan.calls = [c for c in plan.calls if id(c) not in gone]
    plan.arrays -= dropped
    return seeds - dropped


class DtypeReductionPass(Pass):
    """float64 -> float32 inside a function (see the module docstring).

    `propagate=True` leaves results in float32 instead of casting them back.
    """

    name = "dtype-reduction"
    needs_workload = True
    codes = {
        "GO301": "float64 allocations/conversions could be float32 (validated, loosened tolerance)",
        "GO302": "float64 arithmetic in a hot loop could be float32 (validated, loosened tolerance)",
        "GO390": "function not reported for float32: too little float64 work (report only)",
    }

    EXAMPLES = (
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def smooth(u):\n"
                "    v = np.zeros(len(u))\n"
                "    for i in range(1, len(u) - 1):\n"
                "        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]\n"
                "    return v\n"
            ),
            after=(
                "import numpy as np\n\n\n"
                "def smooth(u):\n"
                "    u = np.asarray(u, dtype=np.float32)\n"
                "    v = np.zeros(len(u), dtype=np.float32)\n"
                "    for i in range(1, len(u) - 1):\n"
                "        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]\n"
                "    return v.astype(np.float64)\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def simulate(n):\n"
                '    """Random walk."""\n'
                "    steps = np.random.rand(n) - 0.5\n"
                "    scale = np.float64(0.1)\n"
                "    grid = np.linspace(0.0, 1.0, n)\n"
                "    w = np.array([0.25, 0.5, 0.25])\n"
                "    return np.convolve(steps * scale + grid, w).astype(np.float64)\n"
            ),
            after=(
                "import numpy as np\n\n\n"
                "def simulate(n):\n"
                '    """Random walk."""\n'
                "    steps = np.random.rand(n).astype(np.float32) - 0.5\n"
                "    scale = np.float32(0.1)\n"
                "    grid = np.linspace(0.0, 1.0, n, dtype=np.float32)\n"
                "    w = np.array([0.25, 0.5, 0.25], dtype=np.float32)\n"
                "    return np.convolve(steps * scale + grid, w).astype(np.float64)\n"
            ),
        ),
        Example(
            before=(
                "import numpy as np\n\n\n"
                "def prod(x, y):\n"
                "    out = np.empty(len(x))\n"
                "    for i in range(len(x)):\n"
                "        out[i] = x[i] * y[i]\n"
                "    return out\n"
            ),
            after=(
                "import numpy as np\n\n\n"
                "def prod(x, y):\n"
                "    x = np.asarray(x, dtype=np.float32)\n"
                "    y = np.asarray(y, dtype=np.float32)\n"
                "    out = np.empty(len(x), dtype=np.float32)\n"
                "    for i in range(len(x)):\n"
                "        out[i] = x[i] * y[i]\n"
                "    return out\n"
            ),
            options={"propagate": True},
        ),
    )
    UNCHANGED = (
        # already float32
        "import numpy as np\n\n\ndef f(n):\n    return np.zeros(n, dtype=np.float32)\n",
        # integer allocations and index arrays are never narrowed
        "import numpy as np\n\n\ndef hist(idx, n):\n    h = np.zeros(n, dtype=np.int64)\n"
        "    for i in range(len(idx)):\n        h[idx[i]] += 1\n    return h\n",
        # an output parameter is written: converting it would hide the writes
        "def scale(out, a):\n    for i in range(len(out)):\n        out[i] = out[i] * a\n",
        # a running sum in a loop: a float32 accumulator stops growing once the terms
        # fall below half its ulp (2**24 for a count), far beyond a short workload
        "import numpy as np\n\n\ndef dot(x, y):\n    s = 0.0\n    for i in range(len(x)):\n"
        "        s += x[i] * y[i]\n    return s\n",
        # no float64 in sight
        "def count(xs):\n    n = 0\n    for x in xs:\n        n += 1\n    return n\n",
    )

    def __init__(self, propagate: bool = False) -> None:
        self.propagate = propagate

    # --- analysis ---------------------------------------------------------------------------

    def plan(self, info: FunctionInfo, imports: ImportedNames) -> _Plan:
        """What would be rewritten in `info` (empty plan: nothing to reduce).

        Most functions have neither a float64-producing call nor an array parameter:
        for them only two walks of the function run (the call sites and the parameter
        evidence); returns and binding sites are collected only where they matter.
        """
        func = info.node
        plan = _Plan(info.qualname)
        sites = _Sites(func, imports)
        # the body only: decorators and parameter defaults run once, at definition
        # time, outside the function; their arrays are not the function's to narrow
        sites.visit(func.body)
        returns: list[cst.Return] | None = None
        if any(classify_call(c, imports) in ("astype", "scalar") for c in sites.calls):
            returns = _returns(func)
            exits = _cast_back_calls(returns)
            plan.calls = [
                c
                for c in sites.calls
                if not (
                    any(c is e for e in exits) and classify_call(c, imports) in ("astype", "scalar")
                )
            ]
        else:
            plan.calls = list(sites.calls)
        plan.params, binding = _array_params(func, imports)
        if plan.empty:
            return plan
        refused = _outside_float32_range(func.body)
        if refused:
            return _Plan(info.qualname, refused=refused)
        seeds = set(plan.params)
        if binding is None:
            binding = binding_sites(func)
        call_ids = {id(c) for c in plan.calls}
        for name, nodes in binding.items():
            for node in nodes:
                if isinstance(node, cst.Assign) and _contains_any(node.value, call_ids):
                    seeds.add(name)
                    if isinstance(node.value, cst.Call) and classify_call(node.value, imports) in (
                        "dtype",
                        "random",
                    ):
                        plan.arrays.add(name)
        rounded = _rounded_values(func, imports) + _sequential_sums(func, imports, binding)
        if _has_loops(func):
            rounded += _accumulations(func, binding, imports)
            rounded += _carried_sums(func, binding) + _recurrences(func)
        rounded += _grid_hazards(func, imports, binding)
        rounded += _convergence_tests(func, imports, binding)
        if rounded:
            seeds = _drop_rounded_seeds(plan, binding, seeds, rounded)
            if plan.empty:
                return plan
        _add_derived_arrays(plan, binding, imports)
        plan.ranks = _array_ranks(plan, binding, imports)
        plan.tainted = _taint(binding, seeds)
        for ret in _returns(func) if returns is None else returns:
            assert ret.value is not None
            if _is_cast_back(ret.value, imports):
                continue
            if _float_names(ret.value) & plan.tainted or _contains_any(ret.value, call_ids):
                plan.returns.append(ret)
        return plan

    def find(self, module: SourceModule) -> list[Opportunity]:
        """One opportunity per function with float64 work to reduce.

        Every function with something to narrow is an opportunity (the validated
        rewrite tries them all); one whose float arithmetic is too little to pay for
        the conversions (`FloatWork.worth_reporting`) carries `data["quiet"]`, the
        reason, and the reporting front ends show it only as a GO390 note.
        """
        tree = module.tree
        imports = ImportedNames.of(tree)
        def_site = DefSites(module, positions(module))
        path = module.path or "<string>"
        found: list[Opportunity] = []
        for info in iter_functions(tree):
            plan = self.plan(info, imports)
            if plan.empty and not plan.refused:
                continue
            has_loops = _has_loops(info.node)
            code = "GO302" if has_loops else "GO301"
            if plan.refused:
                line, col, end_line, end_col = def_site(info.node)
                found.append(
                    Opportunity(
                        self.name,
                        "GO390",
                        f"`{info.qualname}` not reported ({code}): {plan.refused}",
                        "float32 is finite only up to about 3.4e38 and normal down to "
                        "1.2e-38; a loosened tolerance is about precision, not range",
                        Site(path, line, col, end_line, end_col, info.qualname),
                        fixable=False,
                        data={"function": info.qualname, "note": True},
                    )
                )
                continue
            parts = []
            if plan.calls:
                parts.append(f"{len(plan.calls)} float64 allocation/conversion(s)")
            if plan.params:
                parts.append("inputs " + ", ".join(f"`{p}`" for p in plan.params))
            line, col, end_line, end_col = def_site(info.node)
            site = Site(path, line, col, end_line, end_col, info.qualname)
            data: dict[str, object] = {"function": info.qualname, "propagate": self.propagate}
            work = float_work(info.node, plan, imports, self.propagate)
            if not work.worth_reporting:
                # still a candidate for a validated rewrite; `check`/`analyze` show it
                # only as a GO390 note (`--explain`): see `FloatWork.worth_reporting`
                data["quiet"] = work.reason()
            found.append(
                Opportunity(
                    self.name,
                    code,
                    f"compute `{info.qualname}` in float32: " + "; ".join(parts),
                    (
                        "float64 arithmetic in a loop: float32 halves memory traffic and doubles "
                        "SIMD width"
                        if has_loops
                        else "float32 halves the bytes allocated and moved"
                    )
                    + "; results "
                    + ("stay float32" if self.propagate else "are cast back to float64")
                    + "; only with a loosened tolerance, the worst error is reported",
                    site,
                    fixable=True,
                    static_safe=False,
                    data=data,
                )
            )
        return found

    # --- rewrite -------------------------------------------------------------------------------

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        """Rewrite each chosen function consistently (see the module docstring)."""
        chosen = {
            str(o.data.get("function") or o.site.function): bool(
                o.data.get("propagate", self.propagate)
            )
            for o in opportunities
            if o.pass_name == self.name and o.fixable
        }
        if not chosen:
            return module
        tree = module.tree
        imports = ImportedNames.of(tree)
        alias = alias_for_rewrite(tree) or "np"
        plans = {
            info.qualname: (info, self.plan(info, imports))
            for info in iter_functions(tree)
            if info.qualname in chosen
        }
        by_node = {id(info.node): (plan, chosen[name]) for name, (info, plan) in plans.items()}
        transformer = _Reduce(by_node, imports, alias)
        new_tree = tree.visit(transformer)
        if not transformer.changed:
            return module
        return module.with_tree(ensure_numpy_import(new_tree, alias))


def _is_cast_back(expr: cst.BaseExpression, imports: ImportedNames) -> bool:
    """`x.astype(np.float64)` or `np.float64(x)`: already a float64 result."""
    return isinstance(expr, cst.Call) and classify_call(expr, imports) in ("astype", "scalar")


def _cast_back_calls(returns: Sequence[cst.Return]) -> list[cst.BaseExpression]:
    """Expressions that are a whole returned value (or a whole element of a returned
    tuple) of `returns` (a function's `_returns`): there `x.astype(np.float64)` /
    `np.float64(x)` is the cast back, kept."""
    found: list[cst.BaseExpression] = []
    for ret in returns:
        assert ret.value is not None
        if isinstance(ret.value, cst.Tuple):
            found.extend(e.value for e in ret.value.elements)
        else:
            found.append(ret.value)
    return found


def _callee_name(func: cst.BaseExpression) -> str:
    """The last name of a call's callee (`sum` of `np.sum` or `x.sum`, `float` of
    `float`), or "" for any other callee expression."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _has_loops(func: cst.FunctionDef) -> bool:
    found = False

    class Look(FastVisitor):
        def visit_For(self, node: cst.For) -> None:
            nonlocal found
            found = True

        def visit_While(self, node: cst.While) -> None:
            nonlocal found
            found = True

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        # loops are statements: a simple statement line holds none
        def visit_SimpleStatementLine(self, line: cst.SimpleStatementLine) -> bool:
            return False

    Look().visit(func)
    return found


# --- reporting: is there float64 work worth narrowing? ---------------------------------------

#: numpy functions that compute on their array arguments (besides `ARRAY_CONSUMERS`):
#: what narrowing speeds up; allocations, conversions, copies, reshapes, stacking and
#: selection (`np.where`, `np.concatenate`) only move data and are not counted
_NUMPY_WORK = ARRAY_CONSUMERS | frozenset(
    {"add", "subtract", "multiply", "divide", "true_divide", "power", "float_power",
     "reciprocal", "einsum", "tensordot", "clip", "cross", "kron", "average", "median",
     "percentile", "quantile", "nansum", "nanmean", "nanstd", "nanvar", "nanmax", "nanmin",
     "ptp", "polyval", "cumprod", "trapz", "exp", "log", "sqrt"}
)  # fmt: skip
#: numpy submodules whose functions all compute (`np.linalg.solve`, `np.fft.ifft`)
_NUMPY_WORK_PREFIXES = ("linalg.", "fft.")
#: array methods that compute on the array (`x.copy()` only moves data)
_WORK_METHODS = ARRAY_METHODS - {"copy"}
#: binary operators that are float arithmetic (`//` and `%` round: never narrowed)
_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.Power, cst.MatrixMultiply)
_AUG_ARITHMETIC = (
    cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign, cst.PowerAssign,
    cst.MatrixMultiplyAssign,
)  # fmt: skip


@dataclass(frozen=True)
class FloatWork:
    """The float arithmetic that narrowing one function would speed up (`float_work`).

    `in_loops`: operations inside a `for`/`while` loop (run once per iteration);
    `outside`: the others (run once per call); `conversions`: the passes over data that
    narrowing adds at the function's boundary (parameters converted on entry, returned
    values cast back on exit).
    """

    in_loops: int
    outside: int
    conversions: int

    @property
    def worth_reporting(self) -> bool:
        """Float arithmetic in a loop (the entry/exit conversions run once, the loop body
        many times), or more whole-array operations outside loops than the conversions
        narrowing adds: each of those is one pass over the data, and converting an input
        (read 8 bytes, write 4 per element) or casting a result back costs about what
        narrowing saves on one elementwise operation (24 -> 12 bytes per element)."""
        return self.in_loops > 0 or self.outside > self.conversions

    def reason(self) -> str:
        """Why a function is not worth a GO301/GO302 finding (when `worth_reporting` is False)."""
        if not (self.in_loops or self.outside):
            return (
                "no float64 arithmetic to speed up (only allocations, conversions, copies, "
                "indexing or returns)"
            )
        return (
            f"too little float64 work: {self.outside} whole-array operation(s), no loop, "
            f"against {self.conversions} conversion(s) added at the function's boundary"
        )


def float_work(
    func: cst.FunctionDef, plan: _Plan, imports: ImportedNames, propagate: bool
) -> FloatWork:
    """Count the float arithmetic of `func` on the values `plan` narrows (see `FloatWork`).

    An operation counts when an operand may hold a narrowed value (a name in
    `plan.tainted` that flows into it as `_float_names` sees it, or one of
    `plan.calls`): `+ - * / ** @` and their augmented forms, unary minus, NumPy ufuncs,
    reductions and linear algebra, the computing array methods (`x.sum()`, `x.dot(y)`)
    and `math` functions. Allocation, conversion, copying, indexing, comparison and
    selection are not arithmetic. Nested functions and lambdas are not looked into;
    comprehensions count as outside loops. One walk, bottom-up.
    """
    call_ids = {id(c) for c in plan.calls}
    tainted = plan.tainted
    counts = [0, 0]  # outside loops, inside loops
    # returned tuple elements: whether each holds a narrowed value (one cast back each)
    watched = {
        id(e.value): False
        for ret in plan.returns
        if isinstance(ret.value, cst.Tuple)
        for e in ret.value.elements
    }

    def computes(call: cst.Call, args: list[bool], receiver: bool) -> bool:
        qualified = imports.qualify(call.func)
        if qualified is not None:
            if qualified.startswith("numpy."):
                name = qualified[len("numpy.") :]
                if not (name in _NUMPY_WORK or name.startswith(_NUMPY_WORK_PREFIXES)):
                    return False
            elif not qualified.startswith("math."):
                return False
            return any(args)
        return (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value in _WORK_METHODS
            and receiver
        )

    def visit(node: cst.CSTNode, in_loop: bool) -> bool:
        """Count the operations under `node`; whether `node` carries a narrowed value."""
        kind = type(node)
        if kind is cst.Name:
            carries = node.value in tainted  # type: ignore[attr-defined]
            if id(node) in watched:
                watched[id(node)] = carries
            return carries
        if (kind is cst.FunctionDef and node is not func) or kind is cst.Lambda:
            return False
        op = False
        if kind is cst.Attribute:
            assert isinstance(node, cst.Attribute)
            value = visit(node.value, in_loop)
            carries = value and node.attr.value not in ("shape", "size", "ndim", "dtype")
        elif kind is cst.Subscript:
            assert isinstance(node, cst.Subscript)
            carries = visit(node.value, in_loop)  # the index carries no float into it
            for element in node.slice:
                visit(element, in_loop)
        elif kind is cst.Call:
            assert isinstance(node, cst.Call)
            receiver = visit(node.func, in_loop) and isinstance(node.func, cst.Attribute)
            args = [visit(a.value, in_loop) for a in node.args]
            last = (
                node.func.attr.value
                if isinstance(node.func, cst.Attribute)
                else (node.func.value if isinstance(node.func, cst.Name) else "")
            )
            carries = id(node) in call_ids or (last not in _INT_RESULTS and (receiver or any(args)))
            op = computes(node, args, receiver)
        else:
            inner = in_loop or kind is cst.For or kind is cst.While
            parts = [visit(child, inner) for child in iter_children(node)]
            carries = any(parts)
            if kind is cst.BinaryOperation:
                assert isinstance(node, cst.BinaryOperation)
                op = carries and isinstance(node.operator, _ARITHMETIC)
            elif kind is cst.AugAssign:
                assert isinstance(node, cst.AugAssign)
                op = carries and isinstance(node.operator, _AUG_ARITHMETIC)
            elif kind is cst.UnaryOperation:
                assert isinstance(node, cst.UnaryOperation)
                op = carries and isinstance(node.operator, cst.Minus)
        if op:
            counts[in_loop] += 1
        if id(node) in watched:
            watched[id(node)] = carries
        return carries

    visit(func.body, False)
    conversions = len(plan.params)
    if not propagate:
        for ret in plan.returns:
            value = ret.value
            conversions += (
                sum(1 for e in value.elements if watched[id(e.value)])
                if isinstance(value, cst.Tuple)
                else 1
            )
    return FloatWork(in_loops=counts[1], outside=counts[0], conversions=conversions)


def _ids_within(expr: cst.CSTNode, targets: set[int]) -> set[int]:
    """The ids in `targets` of `expr` and the nodes inside it."""
    found = {id(expr)} & targets
    for child in ordered_children(expr):
        found |= _ids_within(child, targets)
    return found


def _contains_any(expr: cst.CSTNode, targets: set[int]) -> bool:
    """True if a node whose id is in `targets` is `expr` or inside it."""
    if id(expr) in targets:
        return True
    return any(_contains_any(child, targets) for child in ordered_children(expr))


class _Reduce(cst.CSTTransformer):
    """Applies the plans of the chosen functions."""

    def __init__(
        self, plans: dict[int, tuple[_Plan, bool]], imports: ImportedNames, alias: str
    ) -> None:
        super().__init__()
        self.plans = plans
        self.imports = imports
        self.alias = alias
        self.active: list[tuple[_Plan, bool] | None] = []
        self.changed = False

    def _f32(self) -> cst.BaseExpression:
        return cst.parse_expression(f"{self.alias}.float32")

    def _f64(self) -> cst.BaseExpression:
        return cst.parse_expression(f"{self.alias}.float64")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.active.append(self.plans.get(id(node)))

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        entry = self.active.pop()
        if entry is None or not entry[0].params:
            return updated
        plan = entry[0]
        body = list(updated.body.body) if isinstance(updated.body, cst.IndentedBlock) else []
        if not body:
            return updated
        insert_at = 1 if _is_docstring(body[0]) else 0
        lines = [
            cst.parse_statement(f"{p} = {self.alias}.asarray({p}, dtype={self.alias}.float32)\n")
            for p in plan.params
        ]
        if insert_at == 0 and body[0].leading_lines:
            lines[0] = lines[0].with_changes(leading_lines=body[0].leading_lines)
            body[0] = body[0].with_changes(leading_lines=[])
        self.changed = True
        return updated.with_changes(
            body=updated.body.with_changes(body=[*body[:insert_at], *lines, *body[insert_at:]])
        )

    def _current(self) -> tuple[_Plan, bool] | None:
        return self.active[-1] if self.active else None

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        entry = self._current()
        if entry is None or not any(original is c for c in entry[0].calls):
            return updated
        kind = classify_call(original, self.imports)
        self.changed = True
        if kind == "scalar":
            return updated.with_changes(func=self._f32())
        if kind == "astype":
            first = updated.args[0].with_changes(value=self._f32())
            return updated.with_changes(args=[first, *updated.args[1:]])
        if kind == "random":
            return cst.Call(
                func=cst.Attribute(value=updated, attr=cst.Name("astype")),
                args=[cst.Arg(self._f32())],
            )
        qualified = self.imports.qualify(original.func) or ""
        found = _dtype_arg(updated, qualified[len("numpy.") :])
        if found is not None:
            index, arg = found
            args = list(updated.args)
            args[index] = arg.with_changes(value=self._f32())
            return updated.with_changes(args=args)
        args = list(updated.args)
        if args:
            args[-1] = args[-1].with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
        args.append(
            cst.Arg(
                keyword=cst.Name("dtype"),
                value=self._f32(),
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""),
                    whitespace_after=cst.SimpleWhitespace(""),
                ),
            )
        )
        return updated.with_changes(args=args)

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        entry = self._current()
        if entry is None or entry[1] or updated.value is None:
            return updated
        plan = entry[0]
        if not any(original is r for r in plan.returns):
            return updated
        self.changed = True
        value = updated.value
        if isinstance(value, cst.Tuple) and value.elements:
            originals = original.value.elements if isinstance(original.value, cst.Tuple) else ()
            elements = []
            for orig, element in zip(originals, value.elements, strict=True):
                if _is_cast_back(orig.value, self.imports):
                    pass
                elif _float_names(orig.value) & plan.tainted or _contains_any(
                    orig.value, {id(c) for c in plan.calls}
                ):
                    element = element.with_changes(value=self._cast_back(element.value, plan))
                elements.append(element)
            return updated.with_changes(value=value.with_changes(elements=elements))
        return updated.with_changes(value=self._cast_back(value, plan))

    def _cast_back(self, value: cst.BaseExpression, plan: _Plan) -> cst.BaseExpression:
        if _is_array(value, plan):
            if not isinstance(value, (cst.Name, cst.Subscript)) and not value.lpar:
                value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            return cst.Call(
                func=cst.Attribute(value=value, attr=cst.Name("astype")),
                args=[cst.Arg(self._f64())],
            )
        return cst.Call(func=self._f64(), args=[cst.Arg(value.with_changes(lpar=[], rpar=[]))])


def _is_array(expr: cst.BaseExpression, plan: _Plan) -> bool:
    """Certainly an array: a known array, a slice of one, an index of fewer axes than a
    known rank (`f[0]` of `np.zeros((3, n))`), or arithmetic with one of those. The
    cast back is then `.astype(np.float64)`, which Numba compiles; `np.float64(...)`,
    which works on arrays only in NumPy, stays where it may be a scalar."""
    if isinstance(expr, cst.Name):
        return expr.value in plan.arrays
    if isinstance(expr, cst.BinaryOperation):
        return _is_array(expr.left, plan) or _is_array(expr.right, plan)
    if isinstance(expr, cst.UnaryOperation):
        return _is_array(expr.expression, plan)
    if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name):
        if expr.value.value not in plan.arrays:
            return False
        if any(isinstance(e.slice, cst.Slice) for e in expr.slice):
            return True
        rank = plan.ranks.get(expr.value.value)
        return rank is not None and len(expr.slice) < rank
    return False


#: numpy functions that return a new array shaped like their first argument
_LIKE_ALLOCATORS = frozenset({"empty_like", "zeros_like", "ones_like", "copy"})
#: numpy allocators whose first argument is the shape
_SHAPED_ALLOCATORS = frozenset({"zeros", "ones", "empty", "full"})


def _array_ranks(
    plan: _Plan, binding: dict[str, list[cst.CSTNode]], imports: ImportedNames
) -> dict[str, int]:
    """The ndim of each of `plan.arrays` that every binding agrees on: an allocation
    with a literal shape (`np.zeros((3, n))`: 2, `np.zeros(8)`: 1), a copy of an
    array of known rank, or another such name (`f = g`)."""

    def rank_of(value: cst.BaseExpression, ranks: dict[str, int]) -> int | None:
        if isinstance(value, cst.Name):
            return ranks.get(value.value)
        if not isinstance(value, cst.Call):
            return None
        func = value.func
        if isinstance(func, cst.Attribute) and func.attr.value == "copy" and not value.args:
            return rank_of(func.value, ranks) if isinstance(func.value, cst.Name) else None
        qualified = imports.qualify(func) or ""
        name = qualified.removeprefix("numpy.") if qualified.startswith("numpy.") else ""
        if not value.args or value.args[0].keyword is not None:
            return None
        first = value.args[0].value
        if name in _LIKE_ALLOCATORS and isinstance(first, cst.Name):
            return ranks.get(first.value)
        if name in _SHAPED_ALLOCATORS:
            if isinstance(first, (cst.Tuple, cst.List)) and all(
                isinstance(e, cst.Element) for e in first.elements
            ):
                return len(first.elements)
            if isinstance(first, cst.Integer):
                return 1
        return None

    ranks: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for name in plan.arrays - set(ranks):
            nodes = [n for n in binding.get(name, ()) if not isinstance(n, cst.AugAssign)]
            if not nodes or not all(isinstance(n, cst.Assign) for n in nodes):
                continue
            found = {rank_of(n.value, ranks) for n in nodes}  # type: ignore[attr-defined]
            if len(found) == 1 and None not in found:
                ranks[name] = found.pop()  # type: ignore[assignment]
                changed = True
    return ranks


def _add_derived_arrays(
    plan: _Plan, binding: dict[str, list[cst.CSTNode]], imports: ImportedNames
) -> None:
    """Add to `plan.arrays` the names that only ever hold copies of known arrays:
    `w = u.copy()` or `np.empty_like(u)` of a converted parameter or another known
    array, also when rebound to such a copy or to another such name (`cur = u.copy()`,
    then `nxt = cur.copy(); cur = nxt` in a time loop). Their results are cast back
    with `.astype(np.float64)`; `np.float64(w)` would do in NumPy but not under Numba,
    which has no `float64(array)`."""
    known = set(plan.params) | plan.arrays

    def source_of(value: cst.BaseExpression) -> str | None:
        """The array name a copy (or a plain rebinding) takes its values from."""
        if isinstance(value, cst.Name):
            return value.value
        if not isinstance(value, cst.Call):
            return None
        func = value.func
        source: cst.BaseExpression | None = None
        if isinstance(func, cst.Attribute) and func.attr.value == "copy" and not value.args:
            source = func.value
        else:
            qualified = imports.qualify(func)
            if (
                qualified is not None
                and qualified.startswith("numpy.")
                and qualified.removeprefix("numpy.") in _LIKE_ALLOCATORS
                and value.args
                and all(arg.keyword is None for arg in value.args)
            ):
                source = value.args[0].value
        return source.value if isinstance(source, cst.Name) else None

    # every binding an assignment from a copy (or a name); augmented assignments keep
    # an array an array
    sources: dict[str, list[str]] = {}
    for name, nodes in binding.items():
        if name in known:
            continue
        found: list[str] = []
        for node in nodes:
            if isinstance(node, cst.AugAssign):
                continue
            src = source_of(node.value) if isinstance(node, cst.Assign) else None
            if src is None or not isinstance(node, cst.Assign) or len(node.targets) != 1:
                found = []
                break
            found.append(src)
        if found:
            sources[name] = found
    # the largest set whose members copy only known arrays or each other
    derived = set(sources)
    changed = True
    while changed:
        changed = False
        for name in list(derived):
            if not all(src in known or src in derived for src in sources[name]):
                derived.discard(name)
                changed = True
    # a cycle of names that never reaches a known array holds nothing known
    reached = set()
    frontier = {n for n in derived if any(src in known for src in sources[n])}
    while frontier:
        reached |= frontier
        frontier = {n for n in derived - reached if any(src in reached for src in sources[n])}
    plan.arrays |= reached


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
