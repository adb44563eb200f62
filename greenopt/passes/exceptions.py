"""Can a loop raise part-way, and would a caller or handler then see a difference?

Loop fusion interleaves two loops' iterations. If one of them raises part-way (a
division by zero, an index past the end, an `assert`), the fused loop has done part
of the *other* loop's work too; that is invisible only when that work lands in
fresh local arrays nobody else holds, outside any `try`/`with` of the function, and
when at most one of the loops can raise (otherwise which exception surfaces may
change). `loop_may_raise` says why a loop may raise; `exception_blockers` says why
fusing two loops could then be observed (docs/passes.md, loop-fusion).

An element `y[i]` of an array whose rank is not proven may be a row (`y` 2-D): stored
into an element, tested for truth, ordered by `min`/`max` or broadcast against another
row, it raises ValueError. Every row of an array has one shape, so such a construct
evaluated at every iteration raises at the first one or never; these reasons count for the
state an exception leaves, not for which exception surfaces (that changes only when a
caller passes such an array together with another wrong argument).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from greenopt.optimizer.cst_nodes import int_literal
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import (
    BindingFacts,
    FastVisitor,
    RenameName,
    _first_occurrence_is_binding,
    binding_sites,
    block_binding_sites,
    code_of,
    names_in,
    ordered_children,
    range_args,
    scan_loop_body,
    simple_range_loop,
    small_statements,
    top_level_statements,
)

#: numpy ufuncs that never raise on numbers (they return nan/inf and warn instead)
NON_RAISING_UFUNCS = frozenset(
    {"sqrt", "cbrt", "square", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
     "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
     "arcsinh", "arccosh", "arctanh", "hypot", "absolute", "abs", "fabs", "negative",
     "positive", "sign", "floor", "ceil", "trunc", "rint", "minimum", "maximum", "fmin",
     "fmax", "isnan", "isfinite", "isinf", "signbit", "copysign", "deg2rad", "rad2deg",
     "degrees", "radians"}
)  # fmt: skip
#: array attributes that are read without raising and hand no array on
_NUMBER_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype", "nbytes", "itemsize"})
#: dtype spellings of float allocations (a number stored into them never raises)
_FLOAT_DTYPES = frozenset({"float", "float64", "float32", "double", "single", "float_"})
#: key prefixes of the raise reasons of elements that may be rows (`_RaiseScanner._flag_row`),
#: followed by the keys of those parts: by a construct run at every iteration (so at the
#: first iteration or never), and by one run only at some iterations
ROW_AT_START = "<row at the first iteration>"
ROW_SOMETIME = "<row>"
#: the numpy allocators whose first argument is the shape
_SHAPED_ALLOCATORS = frozenset({"zeros", "ones", "empty", "full"})


def _number(expr: cst.BaseExpression) -> bool:
    """A number literal, possibly signed."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        expr = expr.expression
    return isinstance(expr, (cst.Integer, cst.Float))


def _nonzero_number_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        expr = expr.expression
    if isinstance(expr, cst.Integer):
        return int(expr.evaluated_value) != 0
    if isinstance(expr, cst.Float):
        return float(expr.evaluated_value) != 0.0
    return False


@dataclass
class ExceptionFacts:
    """What one function proves about the state an exception leaves behind.

    `fresh`: arrays bound once, by a fresh allocation (`BindingFacts.fresh_once`).
    `float_arrays`: fresh ones of a float dtype (storing a number never raises).
    `shapes`: fresh array -> the source text of each dimension of its shape.
    `lengths`: a name bound once by a top-level `n = len(a)` / `n = a.shape[k]`, with `a`
    bound once -> (a, k). `escaped`: names whose object other code may hold (passed to a
    call, stored in a container or attribute, aliased, viewed, yielded, captured by a
    nested scope, declared `global`/`nonlocal`). `guarded`: ids of the statements inside
    a `try` or `with` of the function (a handler or a context manager sees the state).
    """

    fresh: frozenset[str]
    float_arrays: frozenset[str]
    shapes: dict[str, tuple[str, ...]]
    lengths: dict[str, tuple[str, int]]
    escaped: set[str]
    guarded: set[int]
    captured: set[str]  # names a nested scope mentions, or declared `global`/`nonlocal`
    stable: frozenset[str] = frozenset()  # names bound exactly once (parameters included)
    #: local scalars that are never a Python int or complex (`s = 0.0`, `s += x[i]`)
    float_scalars: frozenset[str] = frozenset()
    #: those of them always bound to a float (never a NumPy int or bool): `t = x[i] * 2.0`
    real_floats: frozenset[str] = frozenset()
    #: fresh arrays of proven rank (`np.zeros(n)` with `n = len(x)`, `np.ones((n, m))`)
    ranks: dict[str, int] = field(default_factory=dict)
    #: names every binding of which is a number, never an array (`_number_value`)
    numbers: frozenset[str] = frozenset()
    #: ids of the statements run where floating-point errors may raise (`_fp_raising`)
    fp_raising: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, func: cst.FunctionDef, imports: ImportedNames) -> ExceptionFacts:
        """Analyse `func` (`imports`: the module's imported names)."""
        sites = binding_sites(func)
        bindings = BindingFacts.of(func, imports)
        fresh = bindings.fresh_once
        once = {id(s) for s in top_level_statements(func)}
        float_arrays: set[str] = set()
        shapes: dict[str, tuple[str, ...]] = {}
        lengths: dict[str, tuple[str, int]] = {}
        tupled: set[str] = set()  # shapes of proven rank: a literal tuple, `linspace`
        single_bound = {n for n, nodes in sites.items() if len(nodes) == 1}
        for name, nodes in sites.items():
            if len(nodes) != 1 or not isinstance(nodes[0], cst.Assign):
                continue
            value = nodes[0].value
            if name in fresh and isinstance(value, cst.Call):
                qualified = imports.qualify(value.func) or ""
                short = qualified.removeprefix("numpy.")
                positional = [a.value for a in value.args if a.keyword is None and not a.star]
                keywords = {a.keyword.value: a.value for a in value.args if a.keyword}
                if qualified.startswith("numpy.") and short in _SHAPED_ALLOCATORS and positional:
                    shape = positional[0]
                    if isinstance(shape, (cst.Tuple, cst.List)):
                        shapes[name] = tuple(code_of(e.value) for e in shape.elements)
                        tupled.add(name)
                    else:
                        shapes[name] = (code_of(shape),)
                    dtype = keywords.get("dtype")
                    if dtype is None and short != "full" and len(positional) > 1:
                        dtype = positional[1]
                    if dtype is None and short == "full":
                        if len(positional) > 1 and isinstance(positional[1], cst.Float):
                            float_arrays.add(name)
                    elif _float_dtype(dtype, imports):
                        float_arrays.add(name)
                elif qualified == "numpy.linspace" and "dtype" not in keywords:
                    float_arrays.add(name)
                    if (
                        len(positional) == 3
                        and not keywords
                        and all(_number(p) for p in positional[:2])
                    ):  # number bounds: 1-D of `num` elements
                        shapes[name] = (code_of(positional[2]),)
                        tupled.add(name)
            if id(nodes[0]) in once and len(nodes[0].targets) == 1:
                target = nodes[0].targets[0].target
                unpacked = _shape_unpacking(target, value, name)
                if unpacked is not None and unpacked[0] in single_bound:
                    lengths[name] = unpacked
                    continue
                if not (isinstance(target, cst.Name) and target.value == name):
                    continue
                witness = _length_witness(value)
                if witness is not None and witness[0] in single_bound:
                    lengths[name] = witness
        ranks = {
            name: len(shape)
            for name, shape in shapes.items()
            if len(shape) > 1 or name in tupled or _int_text(shape[0], lengths)
        }
        return cls(
            fresh,
            frozenset(float_arrays),
            shapes,
            lengths,
            _exception_escapes(func, imports, fresh),
            _guarded_statements(func),
            _captured_names(func),
            frozenset(single_bound),
            *_float_scalars(sites, imports, float_arrays),
            ranks=ranks,
            numbers=_number_names(sites, imports, ranks, lengths),
            fp_raising=_fp_raising(func, imports),
        )

    def visible(self, name: str) -> bool:
        """True when the object of `name` may be seen by other code after an exception."""
        return name not in self.fresh or name in self.escaped

    def length_of(self, stop: str, array: str, axis: int) -> bool:
        """True if the text `stop` is the length of `array` along `axis`."""
        if axis == 0 and stop == f"len({array})":
            return True
        if stop == f"{array}.shape[{axis}]":
            return True
        if self.lengths.get(stop) == (array, axis):
            return True
        shape = self.shapes.get(array)
        return shape is not None and len(shape) > axis and shape[axis] == stop


_FLOAT_CONSTANTS = frozenset(
    {"numpy.inf", "numpy.nan", "numpy.pi", "numpy.e", "math.inf", "math.nan", "math.pi", "math.e"}
)


def _float_scalars(
    sites: dict[str, list[cst.CSTNode]], imports: ImportedNames, float_arrays: set[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """Names every binding of which is `name = v` or `name += v` (`-=`, `*=`) with `v` a
    NumPy scalar (an operand is a subscript) or a Python float (float literals,
    `np.inf`, these names, small int literals): never a Python int or complex. Second:
    those of them whose every `name = v` has a float operand (a float literal, an
    element of a fresh float array, such a name): never a NumPy int or bool."""

    def kind(expr: cst.BaseExpression, safe: set[str], real: set[str]) -> str | None:
        if isinstance(expr, cst.Float):
            return "float"
        if isinstance(expr, cst.Integer):
            return "int" if int(expr.evaluated_value) <= 127 else None
        if isinstance(expr, cst.Subscript):
            if not isinstance(expr.value, cst.Name):
                return None
            return "float" if expr.value.value in float_arrays else "numpy"
        if isinstance(expr, cst.Name):
            if expr.value not in safe:
                return None
            return "float" if expr.value in real else "numpy"
        if isinstance(expr, cst.Attribute):
            return "float" if imports.qualify(expr) in _FLOAT_CONSTANTS else None
        if isinstance(expr, cst.UnaryOperation) and isinstance(
            expr.operator, (cst.Minus, cst.Plus)
        ):
            return kind(expr.expression, safe, real)
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.Add, cst.Subtract, cst.Multiply)
        ):
            kinds = {kind(expr.left, safe, real), kind(expr.right, safe, real)}
            if None in kinds:
                return None
            if "float" in kinds:  # a float operand makes a float (or complex) result
                return "float"
            return "numpy" if "numpy" in kinds else "int"
        return None

    def ok(node: cst.CSTNode, safe: set[str], real: set[str], want: tuple[str, ...]) -> bool:
        if isinstance(node, cst.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
                return False
            return kind(node.value, safe, real) in want
        if isinstance(node, cst.AugAssign):
            if not isinstance(
                node.operator, (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign)
            ):
                return False
            return kind(node.value, safe, real) is not None  # a float stays one
        return False

    def fixpoint(names: set[str], check: Callable[[cst.CSTNode, set[str]], bool]) -> set[str]:
        changed = True
        while changed:
            changed = False
            for name in sorted(names):
                if not all(check(node, names) for node in sites[name]):
                    names.discard(name)
                    changed = True
        return names

    every = {name for name, nodes in sites.items() if nodes}
    safe = fixpoint(set(every), lambda n, s: ok(n, s, set(), ("float", "numpy")))
    real = fixpoint(set(safe), lambda n, r: ok(n, safe, r, ("float",)))
    return frozenset(safe), frozenset(real)


def _int_text(text: str, lengths: dict[str, tuple[str, int]]) -> bool:
    """True if the shape text `text` is an int (so `np.zeros(text)` is 1-D): integer
    literals, `len(a)`, `a.shape[k]`, names bound once to those, and `+ - *` of them."""

    def is_int(expr: cst.BaseExpression) -> bool:
        if int_literal(expr) is not None or _length_witness(expr) is not None:
            return True
        if isinstance(expr, cst.Name):
            return expr.value in lengths
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.Add, cst.Subtract, cst.Multiply)
        ):
            return is_int(expr.left) and is_int(expr.right)
        return False

    try:
        return is_int(cst.parse_expression(text))
    except Exception:  # noqa: BLE001 - not an expression: not provably an int
        return False


#: builtins whose result is a number (or which raise)
_NUMBER_BUILTINS = frozenset({"len", "int", "float", "complex", "bool"})
#: array attributes that are numbers
_NUMBER_VALUED_ATTRIBUTES = frozenset({"size", "ndim", "nbytes", "itemsize"})


def _number_value(
    expr: cst.BaseExpression,
    numbers: set[str] | frozenset[str],
    ranks: dict[str, int],
    imports: ImportedNames,
) -> bool:
    """True if `expr` is a number, never an array: literals, `numbers` names, an element
    of a fresh array of proven rank (`a[i, j]` of `np.zeros((n, m))`) at number indices,
    `x.shape[k]`, `len(...)`, number constants, and arithmetic, comparisons and
    non-raising ufuncs of numbers. An element `y[i]` of any other array may be a row."""

    def number(e: cst.BaseExpression) -> bool:
        return _number_value(e, numbers, ranks, imports)

    if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(expr, cst.Name):
        return expr.value in numbers
    if isinstance(expr, cst.Attribute):
        return (
            imports.qualify(expr) in _FLOAT_CONSTANTS
            or expr.attr.value in _NUMBER_VALUED_ATTRIBUTES
        )
    if isinstance(expr, cst.Subscript):
        if _length_witness(expr) is not None:
            return True
        base = expr.value
        if not (isinstance(base, cst.Name) and ranks.get(base.value) == len(expr.slice)):
            return False
        return all(
            isinstance(e.slice, cst.Index) and e.slice.star is None and number(e.slice.value)
            for e in expr.slice
        )
    if isinstance(expr, cst.UnaryOperation):
        return isinstance(expr.operator, cst.Not) or number(expr.expression)
    if isinstance(expr, cst.BinaryOperation):
        return number(expr.left) and number(expr.right)
    if isinstance(expr, cst.Comparison):
        return number(expr.left) and all(number(t.comparator) for t in expr.comparisons)
    if isinstance(expr, cst.IfExp):
        return number(expr.body) and number(expr.orelse)
    if isinstance(expr, cst.Call):
        if any(a.star or a.keyword is not None for a in expr.args):
            return False
        if isinstance(expr.func, cst.Name) and imports.qualify(expr.func) is None:
            if expr.func.value in _NUMBER_BUILTINS:
                return True
            if expr.func.value in ("abs", "min", "max"):
                return all(number(a.value) for a in expr.args)
            return False
        qualified = imports.qualify(expr.func) or ""
        return (
            qualified.startswith("numpy.")
            and qualified.removeprefix("numpy.") in NON_RAISING_UFUNCS
            and all(number(a.value) for a in expr.args)
        )
    return False


def _number_names(
    sites: dict[str, list[cst.CSTNode]],
    imports: ImportedNames,
    ranks: dict[str, int],
    lengths: dict[str, tuple[str, int]],
) -> frozenset[str]:
    """Names every binding of which is a number (`_number_value`): `name = v`,
    `name += v` (any operator) and `for name in range(...)`; never parameters."""

    def binds_number(node: cst.CSTNode, names: set[str]) -> bool:
        if isinstance(node, cst.Assign):
            return (
                len(node.targets) == 1
                and isinstance(node.targets[0].target, cst.Name)
                and _number_value(node.value, names, ranks, imports)
            )
        if isinstance(node, cst.AugAssign):
            return _number_value(node.value, names, ranks, imports)
        return isinstance(node, cst.For) and simple_range_loop(node)

    names = {name for name, nodes in sites.items() if nodes} | set(lengths)
    changed = True
    while changed:
        changed = False
        for name in sorted(names):
            if name not in lengths and not all(binds_number(n, names) for n in sites[name]):
                names.discard(name)
                changed = True
    return frozenset(names)


def _float_dtype(expr: cst.BaseExpression | None, imports: ImportedNames) -> bool:
    if expr is None:
        return True
    if isinstance(expr, cst.SimpleString):
        return str(expr.evaluated_value) in _FLOAT_DTYPES
    qualified = imports.qualify(expr)
    if qualified is not None:
        return qualified.startswith("numpy.") and qualified[len("numpy.") :] in _FLOAT_DTYPES
    return isinstance(expr, cst.Name) and expr.value == "float"


def _length_witness(value: cst.BaseExpression) -> tuple[str, int] | None:
    """(a, k) for `len(a)` (k = 0) or `a.shape[k]`."""
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "len"
        and len(value.args) == 1
        and isinstance(value.args[0].value, cst.Name)
    ):
        return value.args[0].value.value, 0
    if (
        isinstance(value, cst.Subscript)
        and isinstance(value.value, cst.Attribute)
        and value.value.attr.value == "shape"
        and isinstance(value.value.value, cst.Name)
        and len(value.slice) == 1
        and isinstance(value.slice[0].slice, cst.Index)
    ):
        k = int_literal(value.slice[0].slice.value)
        if k is not None and k >= 0:
            return value.value.value.value, k
    return None


def _shape_unpacking(
    target: cst.BaseExpression, value: cst.BaseExpression, name: str
) -> tuple[str, int] | None:
    """(a, k) when `name` is the k-th name of `n, m = a.shape`."""
    if not (
        isinstance(target, (cst.Tuple, cst.List))
        and isinstance(value, cst.Attribute)
        and value.attr.value == "shape"
        and isinstance(value.value, cst.Name)
    ):
        return None
    for k, element in enumerate(target.elements):
        if isinstance(element, cst.StarredElement):
            return None
        if isinstance(element.value, cst.Name) and element.value.value == name:
            return value.value.value, k
    return None


#: `np.errstate`/`np.seterr` settings under which floating-point errors never raise
_QUIET_FP_SETTINGS = frozenset({"ignore", "warn", "print", "log"})


def _fp_raising(func: cst.FunctionDef, imports: ImportedNames) -> set[int]:
    """Ids of the statements of `func` that run where float arithmetic may raise
    FloatingPointError: inside `with np.errstate(...)` unless every setting is a quiet
    literal (`"ignore"`, `"warn"`...), and everywhere when `func` calls `np.seterr` or
    `np.seterrcall` (nested scopes excluded; a caller's own setting is not seen)."""

    def raising_call(node: cst.CSTNode, names: tuple[str, ...]) -> bool:
        if not (isinstance(node, cst.Call) and imports.qualify(node.func) in names):
            return False
        return not all(
            a.keyword is not None
            and isinstance(a.value, cst.SimpleString)
            and a.value.evaluated_value in _QUIET_FP_SETTINGS
            for a in node.args
        )

    found: set[int] = set()
    everywhere = False

    def walk(node: cst.CSTNode, inside: bool) -> None:
        nonlocal everywhere
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and node is not func:
            return
        if raising_call(node, ("numpy.seterr", "numpy.seterrcall")):
            everywhere = True
        if inside and isinstance(node, cst.BaseStatement):
            found.add(id(node))
        now = inside or (
            isinstance(node, cst.With)
            and any(raising_call(item.item, ("numpy.errstate",)) for item in node.items)
        )
        for child in ordered_children(node):
            walk(child, now)

    walk(func.body, False)
    if everywhere:
        walk(func.body, True)
    return found


def _float_operations(loop: cst.For) -> bool:
    """True if the body of `loop` does arithmetic or calls something (a ufunc may set a
    floating-point error flag: `np.log(0.0)`, `x[i] * 1e308`)."""
    found = False

    class Look(FastVisitor):
        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> bool:
            nonlocal found
            found = True
            return False

        def visit_AugAssign(self, node: cst.AugAssign) -> bool:
            nonlocal found
            found = True
            return False

        def visit_Call(self, node: cst.Call) -> bool:
            nonlocal found
            found = True
            return False

        def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
            nonlocal found
            found = found or isinstance(node.operator, cst.Minus)

    Look().visit(loop.body)
    return found


def _guarded_statements(func: cst.FunctionDef) -> set[int]:
    """Ids of the statements of `func` inside a `try` or `with` (nested scopes excluded)."""
    found: set[int] = set()

    def walk(node: cst.CSTNode, inside: bool) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and node is not func:
            return
        if inside and isinstance(node, cst.BaseStatement):
            found.add(id(node))
        now = inside or isinstance(node, (cst.Try, cst.TryStar, cst.With))
        for child in ordered_children(node):
            walk(child, now)

    walk(func.body, False)
    return found


def _every_name(node: cst.CSTNode) -> set[str]:
    """Every `Name` under `node`, nested scopes included (`names_in` skips them)."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    Look().visit(node)
    return found


def _captured_names(func: cst.FunctionDef) -> set[str]:
    """Names a nested scope of `func` mentions, and names `func` declares global/nonlocal:
    their value may be read by code that runs after an exception left `func`."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            if node is func:
                return True
            found.update(_every_name(node))
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            found.update(_every_name(node))
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            found.update(_every_name(node))
            return False

        def visit_Global(self, node: cst.Global) -> None:
            found.update(n.name.value for n in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            found.update(n.name.value for n in node.names)

    Look().visit(func)
    return found


def _exception_escapes(
    func: cst.FunctionDef, imports: ImportedNames, fresh: frozenset[str]
) -> set[str]:
    """Names whose object other code may hold (see `ExceptionFacts.escaped`).

    A read of `a` hands nothing on only as an operand of arithmetic or a comparison,
    through a number attribute (`a.shape`), in `len(a)`, in `return a`, and as the base
    of a subscript that is stored to, used in arithmetic, a comparison, an index, a
    numpy ufunc / number builtin argument, or copied into a fresh array (`b[i] = a[i]`).
    Anything else (a call argument, `c = a`, `c = a[1:]`, `lst.append(a)`, `d["k"] = a`,
    `obj.x = a`, a closure) may keep the object alive for code that runs after an
    exception.
    """
    escaped: set[str] = set()
    for small in small_statements(func, own_scope_of=func):
        if isinstance(small, (cst.Global, cst.Nonlocal)):
            escaped.update(n.name.value for n in small.names)

    scalar_contexts = (
        cst.BinaryOperation,
        cst.UnaryOperation,
        cst.Comparison,
        cst.ComparisonTarget,
        cst.Index,
        cst.BooleanOperation,
    )

    def call_keeps_nothing(call: cst.Call) -> bool:
        qualified = imports.qualify(call.func)
        if qualified is not None:
            return (
                qualified.startswith("numpy.")
                and qualified[len("numpy.") :] in NON_RAISING_UFUNCS
                and not any(a.keyword is not None for a in call.args)
            )
        return isinstance(call.func, cst.Name) and call.func.value in (
            "len",
            "float",
            "int",
            "abs",
            "min",
            "max",
            "round",
            "bool",
        )

    def subscript_use_keeps_nothing(sub: cst.Subscript, parents: list[cst.CSTNode]) -> bool:
        parent = parents[-1] if parents else None
        if isinstance(parent, (cst.AssignTarget, cst.AugAssign)) and parent.target is sub:
            return True  # a store into the array
        if isinstance(parent, scalar_contexts):
            return True
        if isinstance(parent, cst.Arg) and len(parents) > 1:
            call = parents[-2]
            return isinstance(call, cst.Call) and call_keeps_nothing(call)
        if isinstance(parent, cst.AugAssign) and parent.value is sub:
            return True
        if isinstance(parent, cst.Assign) and parent.value is sub:
            return all(
                isinstance(t.target, cst.Subscript)
                and isinstance(t.target.value, cst.Name)
                and t.target.value.value in fresh
                for t in parent.targets
            )
        return False

    def walk(node: cst.CSTNode, parents: list[cst.CSTNode]) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and node is not func:
            escaped.update(_every_name(node))  # a closure may run after the exception
            return
        if isinstance(node, cst.Name):
            parent = parents[-1] if parents else None
            if not _name_use_keeps_nothing(node, parent, parents, subscript_use_keeps_nothing):
                escaped.add(node.value)
            return
        if isinstance(node, cst.Attribute):
            # `a.shape` reads a number; `obj.x` hands nothing on; method calls are Calls
            if isinstance(node.value, cst.Name):
                parent = parents[-1] if parents else None
                if node.attr.value in _NUMBER_ATTRIBUTES:
                    return
                if isinstance(parent, (cst.AssignTarget, cst.AugAssign)) and (
                    parent.target is node
                ):
                    return  # `obj.x = ...`: obj is not handed on (the value is, see below)
            parents.append(node)
            walk(node.value, parents)
            parents.pop()
            return
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            parents.append(node)
            for arg in node.args:
                walk(arg, parents)
            parents.pop()
            return
        parents.append(node)
        for child in ordered_children(node):
            walk(child, parents)
        parents.pop()

    walk(func.body, [])
    return escaped


def _name_use_keeps_nothing(
    node: cst.Name,
    parent: cst.CSTNode | None,
    parents: list[cst.CSTNode],
    subscript_ok: Callable[[cst.Subscript, list[cst.CSTNode]], bool],
) -> bool:
    if isinstance(parent, (cst.AssignTarget, cst.For, cst.CompFor, cst.AsName)) and (
        getattr(parent, "target", None) is node or getattr(parent, "name", None) is node
    ):
        return True  # a binding, not a read
    if isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node:
        return True
    if isinstance(parent, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison)):
        return True
    if isinstance(parent, cst.ComparisonTarget):
        return True
    if isinstance(parent, (cst.Return, cst.Index)):
        return True  # after an exception nothing was returned; an index is read
    if isinstance(parent, cst.Element):
        # `return a, b`: a tuple built only to be returned
        up = len(parents) - 1
        while up >= 0 and isinstance(parents[up], (cst.Element, cst.Tuple, cst.List)):
            up -= 1
        return up >= 0 and isinstance(parents[up], cst.Return)
    if isinstance(parent, cst.Arg) and len(parents) > 1:
        call = parents[-2]
        return (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value == "len"
        )
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return subscript_ok(parent, parents[:-1])
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return parent.attr.value in _NUMBER_ATTRIBUTES
    return False


class _RaiseScanner(FastVisitor):
    """Finds the first construct of a loop body that may raise (see `loop_may_raise`)."""

    def __init__(
        self,
        imports: ImportedNames,
        facts: ExceptionFacts,
        ranges: dict[str, tuple[str, str, str]],
        rebound: set[str],
    ) -> None:
        self.imports = imports
        self.facts = facts
        self.ranges = ranges  # loop variable -> (start, stop, step) texts
        self.rebound = rebound  # names bound in the body other than as loop targets
        self.bound_here = set(rebound)  # every name the body binds (inner loop variables too)
        self.reasons: list[tuple[str, str | None]] = []  # (why, subscript text or None)
        #: ids of the nodes the body evaluates at every iteration (`_always_evaluated`)
        self.always: set[int] = set()
        #: name -> value of the names the body binds once, first thing, at every iteration
        self.definitions: dict[str, cst.BaseExpression] = {}

    @property
    def reason(self) -> str | None:
        """The first construct that may raise, or None."""
        return self.reasons[0][0] if self.reasons else None

    def _flag(self, why: str, key: str | None = None) -> bool:
        self.reasons.append((why, key))
        return False

    # --- elements that may be rows ----------------------------------------------------------
    # `y[i]` of an array of unproven rank may be a row: stored into an element, tested for
    # truth, ordered by `min`/`max` or broadcast against another row, it raises ValueError.
    # Every row of an array has one shape, so a construct the body evaluates at every
    # iteration raises at the first one or never (`ROW_AT_START`). The reason's key names
    # the parts that may be rows (`_row_leaves`): `x[1]` (an element of `x` at one index)...

    def _ranks(self) -> dict[str, int]:
        """`facts.ranks`, plus `np.zeros(n)` with `n` (bound once) a bound of a `range` the
        body runs in: an int there, so the array is 1-D."""
        bounds = {text for args in self.ranges.values() for text in args}
        extra = {
            name: 1
            for name, shape in self.facts.shapes.items()
            if len(shape) == 1 and shape[0] in bounds and shape[0] in self.facts.stable
        }
        return {**extra, **self.facts.ranks} if extra else self.facts.ranks

    def _may_be_row(self, expr: cst.BaseExpression) -> bool:
        numbers = self.facts.numbers | set(self.ranges)
        return not _number_value(expr, numbers, self._ranks(), self.imports)

    def _row_leaves(self, expr: cst.BaseExpression, depth: int = 0) -> frozenset[str] | None:
        """Keys of the parts of `expr` that may be rows, or None when a part may become one
        only at some later iteration (a name the body binds conditionally, a call...)."""
        if depth > 20:
            return None
        numbers = self.facts.numbers | set(self.ranges)
        ranks = self._ranks()
        if _number_value(expr, numbers, ranks, self.imports):
            return frozenset()
        if isinstance(expr, cst.Subscript):
            base = expr.value
            if not isinstance(base, cst.Name) or base.value in self.bound_here:
                return None
            if not all(
                isinstance(e.slice, cst.Index)
                and e.slice.star is None
                and _number_value(e.slice.value, numbers, ranks, self.imports)
                for e in expr.slice
            ):
                return None
            return frozenset({f"{base.value}[{len(expr.slice)}]"})
        if isinstance(expr, cst.Name):
            if expr.value not in self.bound_here:
                return frozenset({expr.value})
            value = self.definitions.get(expr.value)
            return None if value is None else self._row_leaves(value, depth + 1)
        parts: list[cst.CSTNode]
        if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison)):
            parts = (
                [expr.left, *(t.comparator for t in expr.comparisons)]
                if isinstance(expr, cst.Comparison)
                else _arith_operands(expr)
            )
        elif isinstance(expr, cst.Call) and not any(a.star or a.keyword for a in expr.args):
            qualified = self.imports.qualify(expr.func) or ""
            pure = (
                qualified.startswith("numpy.")
                and qualified.removeprefix("numpy.") in NON_RAISING_UFUNCS
            ) or (
                isinstance(expr.func, cst.Name)
                and not qualified
                and expr.func.value in ("abs", "min", "max")
            )
            if not pure:
                return None
            parts = [a.value for a in expr.args]
        else:
            return None
        found: set[str] = set()
        for part in parts:
            leaves = self._row_leaves(part, depth + 1)  # type: ignore[arg-type]
            if leaves is None:
                return None
            found |= leaves
        return frozenset(found)

    def _element(self, target: cst.BaseExpression) -> bool:
        """True if the store target `target` is one element of an array of proven rank (a
        row stored there always raises, even a row of one element)."""
        return isinstance(target, cst.Subscript) and _number_value(
            target, self.facts.numbers | set(self.ranges), self._ranks(), self.imports
        )

    def _flag_row(
        self, why: str, node: cst.CSTNode, expr: cst.BaseExpression, guard: bool = False
    ) -> None:
        """Flag `expr`, which may be a row; `guard`: the construct raises for every row
        (a store into an element), so at the first iteration it stands for all of them."""
        leaves = self._row_leaves(expr)
        if leaves is None:
            key = None
        elif guard and id(node) in self.always and not _short_circuits(expr):
            key = ROW_AT_START + ",".join(sorted(leaves))
        else:
            key = ROW_SOMETIME + ",".join(sorted(leaves))
        self._flag(f"{why} (an element of an array of unproven rank may be a row)", key)

    def visit_If(self, node: cst.If) -> bool | None:
        if self._may_be_row(node.test):
            self._flag_row(f"`if {code_of(node.test)}` may raise", node.test, node.test)
        return None

    def visit_IfExp(self, node: cst.IfExp) -> bool | None:
        if self._may_be_row(node.test):
            self._flag_row(f"`{code_of(node)}` may raise", node, node.test)
        return None

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool | None:
        if self._may_be_row(node.left):
            self._flag_row(f"`{code_of(node)}` may raise", node, node.left)
        return None

    def visit_Assert(self, node: cst.Assert) -> bool:
        return self._flag("`assert` may fail")

    def visit_Raise(self, node: cst.Raise) -> bool:
        return self._flag("`raise`")

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> bool | None:
        op = node.operator
        if isinstance(op, (cst.Add, cst.Subtract, cst.Multiply)):
            if (
                isinstance(op, cst.Subtract)
                and self._numpy_int(node.left)
                and self._numpy_int(node.right)
            ):  # NumPy bools do not subtract: `x[i] - y[i]` on bool arrays is a TypeError
                return self._flag(f"`{code_of(node)}` may raise (NumPy bool subtract)")
            if self._int_overflow(node.left, node.right):
                return self._flag(
                    f"`{code_of(node)}` may raise OverflowError (a Python int out of the "
                    "range of a NumPy integer operand)"
                )
            if self._may_be_row(node.left) and self._may_be_row(node.right):  # broadcasting
                self._flag_row(f"`{code_of(node)}` may raise", node, node)
            return None
        if isinstance(op, (cst.Divide, cst.FloorDivide, cst.Modulo)) and (
            _nonzero_number_literal(node.right)
        ):
            return None
        return self._flag(f"`{code_of(node)}` may raise (division by zero, overflow...)")

    def visit_AugAssign(self, node: cst.AugAssign) -> bool | None:
        op = node.operator
        if isinstance(op, (cst.DivideAssign, cst.FloorDivideAssign, cst.ModuloAssign)):
            if not _nonzero_number_literal(node.value):
                return self._flag(f"`{code_of(node)}` may divide by zero")
        elif not isinstance(op, (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign)):
            return self._flag(f"`{code_of(node)}` may raise")
        elif self._int_overflow(node.target, node.value):
            return self._flag(
                f"`{code_of(node)}` may raise OverflowError (a Python int out of the range "
                "of a NumPy integer operand)"
            )
        self._check_store(node.target)
        if isinstance(node.target, cst.Subscript) and self._may_be_row(node.value):
            self._flag_row(
                f"`{code_of(node)}` may raise", node, node.value, self._element(node.target)
            )
        return None

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool | None:
        self._check_store(node.target)
        return None

    def visit_Assign(self, node: cst.Assign) -> bool | None:
        # a float array takes a NumPy number (a complex one only warns), but a Python
        # complex raises TypeError and a Python int beyond the float range OverflowError
        if self._python_number(node.value) and self._maybe_complex_or_huge(node.value):
            for target in node.targets:
                if isinstance(target.target, cst.Subscript):
                    self._flag(
                        f"storing `{code_of(node.value)}` may raise (a Python complex or a "
                        "huge int does not fit a float array)"
                    )
                    break
        if any(isinstance(t.target, cst.Subscript) for t in node.targets) and self._may_be_row(
            node.value
        ):
            elements = all(self._element(t.target) for t in node.targets)
            self._flag_row(f"storing `{code_of(node.value)}` may raise", node, node.value, elements)
        return None

    # --- operands: Python numbers against NumPy integers ---------------------------------
    # NumPy 2 (NEP 50) raises OverflowError for `np.int8(3) + 1000`, `np.uint8(3) * -1`
    # or `x[i] * i` with `i >= 128`: `+ - *` is not raise-free when one side may be a
    # Python int out of the range of the other side's NumPy integer dtype.

    def _python_int(self, expr: cst.BaseExpression) -> bool:
        """May `expr` be a Python int outside 0..127 (the range every integer dtype holds)?"""
        value = int_literal(expr)
        if value is not None:
            return not 0 <= value <= 127
        if isinstance(expr, (cst.Float, cst.Imaginary, cst.Subscript, cst.SimpleString)):
            return False
        if isinstance(expr, cst.Name) and expr.value in self.facts.float_scalars:
            return False
        if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation)):
            return any(
                self._python_int(e) for e in _arith_operands(expr)
            )  # `i * 2`, `-n`: a Python int again when its operands are
        return True  # names (loop variables, parameters, locals), calls, anything else

    def _numpy_int(self, expr: cst.BaseExpression) -> bool:
        """May `expr` be a NumPy integer (scalar or array)?"""
        if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)):
            return False
        if isinstance(expr, cst.Subscript):
            base = expr.value
            return not (isinstance(base, cst.Name) and base.value in self.facts.float_arrays)
        if isinstance(expr, cst.Name):  # a loop variable is a Python int
            return expr.value not in self.ranges and expr.value not in self.facts.real_floats
        if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation)):
            return any(self._numpy_int(e) for e in _arith_operands(expr))
        return True

    def _int_overflow(self, left: cst.BaseExpression, right: cst.BaseExpression) -> bool:
        return (self._python_int(left) and self._numpy_int(right)) or (
            self._python_int(right) and self._numpy_int(left)
        )

    def _python_number(self, expr: cst.BaseExpression) -> bool:
        """May `expr` be a Python number (no NumPy operand makes it a NumPy scalar)?"""
        if isinstance(expr, cst.Subscript):
            return False
        if isinstance(expr, cst.BinaryOperation):
            return self._python_number(expr.left) and self._python_number(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return self._python_number(expr.expression)
        return True

    def _maybe_complex_or_huge(self, expr: cst.BaseExpression) -> bool:
        """May `expr` be a Python complex or an int beyond the float range?"""
        value = int_literal(expr)
        if value is not None:
            return abs(value) > 2**1000
        if isinstance(expr, (cst.Float, cst.Subscript, cst.SimpleString)):
            return False
        if isinstance(expr, cst.Name):  # a loop variable is a small int
            return expr.value not in self.ranges and expr.value not in self.facts.float_scalars
        if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation)):
            return any(self._maybe_complex_or_huge(e) for e in _arith_operands(expr))
        return True  # `1j`, calls, anything else

    def _check_store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript):
            base = target.value
            if not (isinstance(base, cst.Name) and base.value in self.facts.float_arrays):
                self._flag(
                    f"storing into `{code_of(target)}` may raise (an integer or unknown "
                    "array rejects nan, a list rejects an index out of range)"
                )

    def visit_Subscript(self, node: cst.Subscript) -> bool | None:
        base = node.value
        if not isinstance(base, cst.Name):
            return self._flag(f"`{code_of(node)}` may be out of range")
        for axis, element in enumerate(node.slice):
            if not isinstance(element.slice, cst.Index):
                continue
            if not self._in_bounds(element.slice.value, base.value, axis):
                # the same text read by the other loop, in the same iteration, raises alike
                # when nothing in it is bound by the loop body
                same = not (names_in(node) & self.bound_here)
                return self._flag(
                    f"`{code_of(node)}` may be out of range", code_of(node) if same else None
                )
        return None

    def _in_bounds(self, index: cst.BaseExpression, array: str, axis: int) -> bool:
        var, offset = _variable_plus_offset(index)
        if var is None or var not in self.ranges or var in self.rebound:
            return False
        start, stop, step = self.ranges[var]
        start_value = _literal_text(start)
        if start_value is None or start_value + offset < 0 or step != "1":
            return False
        margin = 0
        stop_text = stop
        parsed = cst.parse_expression(stop)
        if isinstance(parsed, cst.BinaryOperation) and isinstance(parsed.operator, cst.Subtract):
            value = int_literal(parsed.right)
            if value is not None and value >= 0:
                margin, stop_text = value, code_of(parsed.left)
        if offset > margin:
            return False
        stop_names = names_in(cst.parse_expression(stop_text))
        if stop_names & self.rebound or not stop_names <= self.facts.stable:
            return False  # `n` rebound: `np.zeros(n)` may have another length
        return self.facts.length_of(stop_text, array, axis)

    def visit_Call(self, node: cst.Call) -> bool | None:
        qualified = self.imports.qualify(node.func)
        if qualified is not None:
            short = qualified.removeprefix("numpy.")
            if (
                qualified.startswith("numpy.")
                and short in NON_RAISING_UFUNCS
                and all(a.keyword is None and not a.star for a in node.args)
            ):
                if sum(self._may_be_row(a.value) for a in node.args) > 1:  # broadcasting
                    self._flag_row(f"`{code_of(node)}` may raise", node, node)
                return None
        elif isinstance(node.func, cst.Name):
            positional = [a for a in node.args if a.keyword is None and not a.star]
            if node.func.value == "abs" and len(node.args) == 1 and positional:
                return None
            if (
                node.func.value in ("min", "max")
                and len(positional) >= 2 == len(node.args)
                and not any(  # a Python complex is not ordered: `max(s, 1j)` TypeError
                    self._python_number(a.value) and self._maybe_complex_or_huge(a.value)
                    for a in positional
                )
            ):
                if any(self._may_be_row(a.value) for a in positional):  # orders rows
                    self._flag_row(f"`{code_of(node)}` may raise", node, node)
                return None
        return self._flag(f"`{code_of(node)}` may raise")

    def visit_Attribute(self, node: cst.Attribute) -> bool | None:
        if node.attr.value in _NUMBER_ATTRIBUTES:
            return False
        return self._flag(f"`{code_of(node)}` may raise")

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> bool | None:
        if isinstance(node.operator, cst.BitInvert):  # `~x[i]` on a float: TypeError
            return self._flag(f"`{code_of(node)}` may raise")
        if isinstance(node.operator, cst.Minus) and self._numpy_int(node.expression):
            # `-x[i]` on a bool array: TypeError (NumPy bools do not negate)
            return self._flag(f"`{code_of(node)}` may raise (NumPy bool negative)")
        if isinstance(node.operator, cst.Not) and self._may_be_row(node.expression):
            self._flag_row(f"`{code_of(node)}` may raise", node, node.expression)
        return None

    def visit_Comparison(self, node: cst.Comparison) -> bool | None:
        operands = [node.left, *(t.comparator for t in node.comparisons)]
        rows = sum(self._may_be_row(o) for o in operands)
        if rows and (len(operands) > 2 or rows > 1):  # `0 < y[i] < 1` (an `and`), broadcast
            self._flag_row(f"`{code_of(node)}` may raise", node, node)
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)):
                return self._flag(f"`{code_of(node)}` may raise")
            right = target.comparator
            if (  # Python complex numbers are not ordered: `1j > 0` raises TypeError
                isinstance(
                    target.operator,
                    (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual),
                )
                and self._python_number(left)
                and self._python_number(right)
                and (self._maybe_complex_or_huge(left) or self._maybe_complex_or_huge(right))
            ):
                return self._flag(f"`{code_of(node)}` may raise (a Python complex is not ordered)")
            left = right
        return None

    def visit_For(self, node: cst.For) -> bool | None:
        bounds = range_args(node) if simple_range_loop(node) else None
        if bounds is None:
            return self._flag("an inner loop over something other than `range` may raise")
        call = node.iter
        assert isinstance(call, cst.Call)
        for arg in call.args:
            if not _int_like(arg.value, self.facts, self.ranges):
                return self._flag(f"`{code_of(call)}` may raise (its bounds may not be ints)")
        assert isinstance(node.target, cst.Name)
        saved = self.ranges.get(node.target.value)
        self.ranges[node.target.value] = bounds
        self.visit(node.body)
        if saved is None:
            self.ranges.pop(node.target.value)
        else:
            self.ranges[node.target.value] = saved
        return False

    def visit_While(self, node: cst.While) -> bool:
        return self._flag("a `while` loop may raise or not end")


def _row_key(key: str | None) -> bool:
    """True for the key of a row reason (`_RaiseScanner._flag_row`)."""
    return key is not None and key.startswith((ROW_AT_START, ROW_SOMETIME))


def _guarded_row(key: str | None, guarded: set[str]) -> bool:
    """True for the key of a row reason all of whose parts are `guarded`."""
    for prefix in (ROW_AT_START, ROW_SOMETIME):
        if key is not None and key.startswith(prefix):
            return set(filter(None, key.removeprefix(prefix).split(","))) <= guarded
    return False


def _arith_operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation):
        return [expr.left, expr.right]
    if isinstance(expr, cst.UnaryOperation):
        return [expr.expression]
    return [expr]


def _literal_text(text: str) -> int | None:
    try:
        return int_literal(cst.parse_expression(text))
    except Exception:  # noqa: BLE001 - not an expression: not a literal
        return None


def _variable_plus_offset(index: cst.BaseExpression) -> tuple[str | None, int]:
    """(v, c) for an index `v`, `v + c` or `v - c` with c an integer literal."""
    if isinstance(index, cst.Name):
        return index.value, 0
    if (
        isinstance(index, cst.BinaryOperation)
        and isinstance(index.operator, (cst.Add, cst.Subtract))
        and isinstance(index.left, cst.Name)
    ):
        value = int_literal(index.right)
        if value is not None:
            return index.left.value, value if isinstance(index.operator, cst.Add) else -value
    return None, 0


def _int_like(
    expr: cst.BaseExpression, facts: ExceptionFacts, ranges: dict[str, tuple[str, str, str]]
) -> bool:
    """True if `expr` is provably an int: literals, loop variables, lengths, arithmetic."""
    if int_literal(expr) is not None:
        return True
    if isinstance(expr, cst.Name):
        return expr.value in ranges or expr.value in facts.lengths
    if _length_witness(expr) is not None:
        return True
    if isinstance(expr, cst.BinaryOperation) and isinstance(
        expr.operator, (cst.Add, cst.Subtract, cst.Multiply)
    ):
        return _int_like(expr.left, facts, ranges) and _int_like(expr.right, facts, ranges)
    return False


def _raise_reasons(
    loop: cst.For, imports: ImportedNames, facts: ExceptionFacts
) -> list[tuple[str, str | None]]:
    """Every construct of `loop`'s body that may raise: (why, subscript text or None)."""
    if not simple_range_loop(loop):
        return [("not a `for x in range(...)` loop", None)]
    bounds = range_args(loop)
    assert bounds is not None and isinstance(loop.target, cst.Name)
    summary = scan_loop_body(loop.body, imports)
    scanner = _RaiseScanner(
        imports, facts, {loop.target.value: bounds}, summary.bound - summary.inner_targets
    )
    scanner.bound_here |= summary.bound
    scanner.always = _always_evaluated(loop.body)
    scanner.definitions = _definitions(loop.body)
    scanner.visit(loop.body)
    return scanner.reasons


def _always_evaluated(body: cst.BaseSuite) -> set[int]:
    """Ids of the nodes a loop body evaluates at every iteration (unless an earlier part of
    the iteration raised): its top-level simple statements, `if` tests and inner loop
    headers, minus conditional parts of expressions (the branches of `a if c else b`, the
    right side of `and`/`or` and of a chained comparison, lambdas and comprehensions)."""
    found: set[int] = set()

    def expression(node: cst.CSTNode) -> None:
        found.add(id(node))
        if isinstance(node, cst.IfExp):
            expression(node.test)
        elif isinstance(node, cst.BooleanOperation):
            expression(node.left)
        elif isinstance(node, cst.Comparison):
            expression(node.left)
            expression(node.comparisons[0].comparator)
        elif not isinstance(
            node, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
        ):
            for child in ordered_children(node):
                expression(child)

    def block(suite: cst.BaseSuite) -> None:
        lines = suite.body if isinstance(suite, cst.IndentedBlock) else [suite]
        for line in lines:
            if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in line.body:
                    expression(small)
            elif isinstance(line, cst.If):
                expression(line.test)
            elif isinstance(line, cst.For):
                # an inner loop's range may be empty at every iteration: its body may never
                # run, so nothing in it stands for the outer loop's first iteration
                expression(line.iter)

    block(body)
    return found


def _definitions(body: cst.BaseSuite) -> dict[str, cst.BaseExpression]:
    """name -> value for `name = value` top-level statements of a loop body that bind
    `name` once in the body, before any read of it, with a value evaluated in full."""
    if not isinstance(body, cst.IndentedBlock):
        return {}
    sites = block_binding_sites(body)
    found: dict[str, cst.BaseExpression] = {}
    for line in body.body:
        if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
            continue
        small = line.body[0]
        if not (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            continue
        name = small.targets[0].target.value
        if (
            len(sites.get(name, ())) == 1
            and not _short_circuits(small.value)
            and _first_occurrence_is_binding(body, name, False)
        ):
            found[name] = small.value
    return found


def _short_circuits(expr: cst.CSTNode) -> bool:
    """True if `expr` evaluates some part only conditionally (`if`-expressions, `and`/`or`,
    chained comparisons, lambdas, comprehensions)."""
    if isinstance(
        expr,
        (cst.IfExp, cst.BooleanOperation, cst.Lambda, cst.ListComp, cst.SetComp,
         cst.DictComp, cst.GeneratorExp),
    ):  # fmt: skip
        return True
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) > 1:
        return True
    return any(_short_circuits(child) for child in ordered_children(expr))


def _unconditional_subscripts(body: cst.BaseSuite) -> set[str]:
    """Texts of the subscripts `a[...]` that every iteration of a loop with this body
    evaluates (or raises before reaching): in its top-level simple statements, outside
    conditional expressions, the right side of `and`/`or`, lambdas and comprehensions."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            if isinstance(node.value, cst.Name):
                found.add(code_of(node))

        def visit_IfExp(self, node: cst.IfExp) -> bool:
            self.visit(node.test)
            return False

        def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
            self.visit(node.left)
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ListComp(self, node: cst.ListComp) -> bool:
            return False

        def visit_SetComp(self, node: cst.SetComp) -> bool:
            return False

        def visit_DictComp(self, node: cst.DictComp) -> bool:
            return False

        def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
            return False

    lines = body.body if isinstance(body, cst.IndentedBlock) else [body]
    for line in lines:
        if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            Look().visit(line)
    return found


def loop_may_raise(loop: cst.For, imports: ImportedNames, facts: ExceptionFacts) -> str | None:
    """Why running the body of `loop` may raise part-way, or None when it provably cannot.

    Conservative: arithmetic other than `+ - *` (a division or modulo by anything but a
    non-zero literal, `**`), `assert`, calls other than non-raising numpy ufuncs and
    `abs`/`min`/`max` of numbers, attribute reads other than `.shape`/`.size`...,
    subscripts not provably in range (`a[i + c]` with `i` running over `range(s, L - d)`,
    `0 <= s + c`, `c <= d`, and `L` the length of `a` along that axis), and stores into
    arrays other than fresh float allocations (an int array rejects nan).
    """
    reasons = _raise_reasons(loop, imports, facts)
    return reasons[0][0] if reasons else None


def exception_blockers(
    first: cst.For,
    second: cst.For,
    anchor: cst.CSTNode,
    imports: ImportedNames,
    facts: ExceptionFacts,
) -> str | None:
    """Why fusing `first` and `second` could leave other state behind an exception, or None.

    `anchor`: a statement of the analysed function at the loops' place (the first loop
    itself, when it is in the function's tree). When neither loop may raise
    (`loop_may_raise`), fusion is safe. Otherwise: the loops must not be inside a `try`
    or `with` of the function; at most one of them may raise (else which exception
    surfaces can change); and whatever the *other* loop writes (arrays and scalars)
    must be invisible after the exception: fresh local arrays that never escaped
    (`ExceptionFacts.visible`). What the raising loop writes is left exactly as the
    original leaves it: in the fused loop its iteration k still runs before the other
    loop's iteration k.
    """
    if id(anchor) in facts.fp_raising and (_float_operations(first) or _float_operations(second)):
        return (
            "under `np.errstate`/`np.seterr` that may raise, float arithmetic may raise "
            "FloatingPointError part-way"
        )
    # a row raises in the first loop's first iteration or never: before any of the second
    # loop's work, fused or not; and then the second loop's rows made of the same parts
    # (`x[i] * 2.0` stored by the first loop, `x[i] + c[i]` by the second) never raise
    reasons1 = _raise_reasons(first, imports, facts)
    guarded: set[str] = set()
    for _, key in reasons1:
        if key is not None and key.startswith(ROW_AT_START):
            guarded.update(filter(None, key.removeprefix(ROW_AT_START).split(",")))
    reasons1 = [r for r in reasons1 if not _guarded_row(r[1], guarded)]
    if (
        isinstance(first.target, cst.Name)
        and isinstance(second.target, cst.Name)
        and first.target.value != second.target.value
    ):
        renamed = second.visit(RenameName(second.target.value, first.target.value))
        assert isinstance(renamed, cst.For)
        second = renamed
    reasons2 = [
        r for r in _raise_reasons(second, imports, facts) if not _guarded_row(r[1], guarded)
    ]
    if reasons1 and reasons2:
        # `x[i]` out of range in the second loop at iteration i means that the first loop,
        # which reads `x[i]` in every iteration, raised at i or before: fused, the first
        # body still raises first, with its own exception
        always = _unconditional_subscripts(first.body)
        reasons2 = [r for r in reasons2 if r[1] is None or r[1] not in always]
    raises1 = reasons1[0][0] if reasons1 else None
    raises2 = reasons2[0][0] if reasons2 else None
    if raises1 is None and raises2 is None:
        return None
    why = raises1 if raises1 is not None else raises2
    if id(anchor) in facts.guarded:
        return f"inside a `try`/`with`, and {why}: the handler would see other partial results"
    # rows (an array of another rank than the loops index) only count for the state left
    # behind: which exception surfaces may change only when a caller passes such an array
    # *and* another wrong argument
    other1 = next((r[0] for r in reasons1 if not _row_key(r[1])), None)
    other2 = next((r[0] for r in reasons2 if not _row_key(r[1])), None)
    if other1 is not None and other2 is not None:
        return (
            f"both loops may raise ({other1}; {other2}): fused, another exception "
            "could surface first"
        )
    quiet = [
        (loop, reason)
        for loop, reason in ((second, raises1), (first, raises2))
        if reason is not None
    ]
    for loop, reason in quiet:  # the other loop's writes must be invisible
        summary = scan_loop_body(loop.body, imports)
        for array in sorted(summary.arrays_written()):
            if facts.visible(array):
                return (
                    f"{reason}, and `{array}` (written by the other loop) is visible after "
                    "the exception: it would hold other partial results"
                )
        for name in sorted(summary.bound):
            if name in facts.captured:
                return f"{reason}, and `{name}` is visible after the exception"
    return None
