"""Can a loop raise part-way, and would a caller or handler then see a difference?

Loop fusion interleaves two loops' iterations. If one of them raises part-way (a
division by zero, an index past the end, an `assert`), the fused loop has done part
of the *other* loop's work too; that is invisible only when that work lands in
fresh local arrays nobody else holds, outside any `try`/`with` of the function, and
when at most one of the loops can raise (otherwise which exception surfaces may
change). `loop_may_raise` says why a loop may raise; `exception_blockers` says why
fusing two loops could then be observed (docs/passes.md, loop-fusion).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from greenopt.optimizer.cst_nodes import int_literal
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import (
    BindingFacts,
    FastVisitor,
    RenameName,
    binding_sites,
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

    @property
    def reason(self) -> str | None:
        """The first construct that may raise, or None."""
        return self.reasons[0][0] if self.reasons else None

    def _flag(self, why: str, key: str | None = None) -> bool:
        self.reasons.append((why, key))
        return False

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
        return None

    def visit_Comparison(self, node: cst.Comparison) -> bool | None:
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
    scanner.visit(loop.body)
    return scanner.reasons


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
    reasons1 = _raise_reasons(first, imports, facts)
    if (
        isinstance(first.target, cst.Name)
        and isinstance(second.target, cst.Name)
        and first.target.value != second.target.value
    ):
        renamed = second.visit(RenameName(second.target.value, first.target.value))
        assert isinstance(renamed, cst.For)
        second = renamed
    reasons2 = _raise_reasons(second, imports, facts)
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
    if raises1 is not None and raises2 is not None:
        return (
            f"both loops may raise ({raises1}; {raises2}): fused, another exception "
            "could surface first"
        )
    quiet = second if raises1 is not None else first
    summary = scan_loop_body(quiet.body, imports)
    for array in sorted(summary.arrays_written()):
        if facts.visible(array):
            return (
                f"{why}, and `{array}` (written by the other loop) is visible after the "
                "exception: it would hold other partial results"
            )
    for name in sorted(summary.bound):
        if name in facts.captured:
            return f"{why}, and `{name}` is visible after the exception"
    return None
