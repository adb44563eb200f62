"""Int64 overflow that compiling a function would introduce.

Python ints never overflow; under Numba they are int64 and wrap. `overflow_risk`
finds, statically, the places a function's Python ints may outgrow int64: updates
that multiply an int in a loop (`p *= k`, `h = h * 31 + c`, `p <<= 1`), powers with a
variable exponent, and (`_magnitude_risk`) products, shifts and sums whose estimated
size exceeds int64 (`s += i * i * i` over `range(100000)`). Values NumPy already
holds as int64 (array elements) wrap alike in the interpreter and are not counted.
The estimate is coarse by design; the validator checks the rest on the workload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from greenopt.optimizer.cst_nodes import walk, walk_statements
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.legality import (
    FastVisitor,
    binding_sites,
    names_in,
    simple_range_loop,
    small_statements,
)


def loops_in(node: cst.CSTNode) -> list[cst.For | cst.While]:
    """All for/while loops in `node`, pre-order, not entering nested functions or classes."""
    return [
        n  # type: ignore[misc]
        for n in walk_statements(node, into_scopes=False)
        if type(n) is cst.For or type(n) is cst.While
    ]


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node).strip()


def _int_names(func: cst.FunctionDef) -> set[str]:
    """Names that are provably Python ints in `func` (literals, len(), range targets...)."""
    sites = binding_sites(func)
    ints: set[str] = set()

    def int_expr(expr: cst.BaseExpression | None) -> bool:
        if expr is None:
            return False
        if isinstance(expr, cst.Integer):
            return True
        if isinstance(expr, cst.Name):
            return expr.value in ints
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
            return expr.func.value in ("len", "int", "ord")
        if isinstance(expr, cst.UnaryOperation):
            return int_expr(expr.expression)
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator,
            (
                cst.Add,
                cst.Subtract,
                cst.Multiply,
                cst.FloorDivide,
                cst.Modulo,
                cst.Power,
                cst.LeftShift,
                cst.RightShift,
                cst.BitAnd,
                cst.BitOr,
                cst.BitXor,
            ),
        ):
            return int_expr(expr.left) and int_expr(expr.right)
        return False

    changed = True
    while changed:
        changed = False
        for name, nodes in sites.items():
            if name in ints:
                continue
            ok = True
            for node in nodes:
                if isinstance(node, cst.For):
                    ok = ok and simple_range_loop(node) and isinstance(node.target, cst.Name)
                elif isinstance(node, cst.Assign):
                    ok = (
                        ok
                        and len(node.targets) == 1
                        and isinstance(node.targets[0].target, cst.Name)
                        and int_expr(node.value)
                    )
                elif isinstance(node, cst.AugAssign):
                    ok = (
                        ok
                        and not isinstance(node.operator, cst.DivideAssign)
                        and int_expr(node.value)
                    )
                else:
                    ok = False
            if ok:
                ints.add(name)
                changed = True
    return ints


def _small_modulus(
    expr: cst.BaseExpression, target: str, constants: dict[str, int] | None = None
) -> bool:
    """`(...) % M` with a literal M below 2**31: the product of two such values fits
    int64. Also the 32-bit generators and hashes `(a * target + c) % 2**32` and
    `(target * 33 + c) & 0xFFFFFFFF` (M <= 2**32 or a mask below 2**32, constants
    folded, module ones included), where `target` is only multiplied by a literal below
    2**31 once and the other terms multiply nothing: below 2**32 times below 2**31 plus
    a term below 2**31 stays under 2**63."""
    if not isinstance(expr, cst.BinaryOperation):
        return False
    if isinstance(expr.operator, cst.Modulo):
        value = fold_int(expr.right, constants)
        if value is not None and 0 < value < 2**31:
            return True
        return value is not None and 0 < value <= 2**32 and _linear_in(expr.left, target)
    if isinstance(expr.operator, cst.BitAnd):
        value, inner = fold_int(expr.right, constants), expr.left
        if value is None:
            value, inner = fold_int(expr.left, constants), expr.right
        return value is not None and 0 <= value < 2**32 and _linear_in(inner, target)
    return False


def _linear_in(expr: cst.BaseExpression, target: str) -> bool:
    """`expr` is a sum (`+`, `-`, `^`, `|`) of one `target * L` (L an int literal below
    2**31) and terms without `target` and without `*`, `**` or `<<`."""
    terms: list[cst.BaseExpression] = [expr]
    scaled = 0
    while terms:
        term = terms.pop()
        if isinstance(term, cst.BinaryOperation) and isinstance(
            term.operator, (cst.Add, cst.Subtract, cst.BitXor, cst.BitOr)
        ):
            terms += [term.left, term.right]
            continue
        if isinstance(term, cst.BinaryOperation) and isinstance(term.operator, cst.Multiply):
            for side, other in ((term.left, term.right), (term.right, term.left)):
                if (
                    isinstance(side, cst.Name)
                    and side.value == target
                    and isinstance(other, cst.Integer)
                    and int(other.evaluated_value) < 2**31
                ):
                    scaled += 1
                    break
            else:
                return False
            continue
        if target in names_in(term) or any(
            type(n) is cst.BinaryOperation
            and isinstance(n.operator, (cst.Multiply, cst.Power, cst.LeftShift))
            for n in walk(term)
        ):
            return False
    return scaled == 1


def _visible_constants(func: cst.FunctionDef, constants: dict[str, int] | None) -> dict[str, int]:
    """The module constants `func` sees: a local or parameter of that name shadows one."""
    local = binding_sites(func)
    return {k: v for k, v in (constants or {}).items() if k not in local}


def overflow_risk(
    func: cst.FunctionDef,
    imports: ImportedNames | None = None,
    helpers: dict[str, cst.FunctionDef] | None = None,
    constants: dict[str, int] | None = None,
) -> str | None:
    """A visible int64 overflow risk in `func`, described, or None.

    Flags, for names that are provably ints: multiplicative updates inside a loop
    (`p *= k`, `p = p * k + c`, `p <<= 1`, `p **= 2`) unless reduced by a small literal
    modulus, and `**` whose exponent is a variable int; then Python ints whose estimated
    magnitude exceeds int64 (`_magnitude_risk`: `i * i * i`, `s += i * i`,
    `h += int(x[i]) << 40`).
    """
    constants = _visible_constants(func, constants)
    risk = _multiplicative_risk(func, constants) if _may_grow(func) else None
    return risk or _magnitude_risk(func, imports, helpers, constants)


def _multiplicative_risk(func: cst.FunctionDef, constants: dict[str, int]) -> str | None:
    """Multiplicative updates of provably-int names in a loop, `**` with a variable int."""
    ints = _int_names(func)
    seeded = ints | _int_seeded(func)

    def int_factor(expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Integer) or (isinstance(expr, cst.Name) and expr.value in ints)

    loops = loops_in(func)
    in_loop: set[int] = set()
    for loop in loops:
        for stmt in small_statements(loop.body):
            in_loop.add(id(stmt))
    risk: str | None = None

    class Find(FastVisitor):
        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            nonlocal risk
            if (
                risk is None
                and id(node) in in_loop
                and isinstance(node.target, cst.Name)
                and node.target.value in seeded
                and isinstance(
                    node.operator, (cst.MultiplyAssign, cst.PowerAssign, cst.LeftShiftAssign)
                )
                and int_factor(node.value)
            ):
                risk = f"`{_code(node)}` multiplies Python ints in a loop (int64 under Numba may overflow)"

        def visit_Assign(self, node: cst.Assign) -> None:
            nonlocal risk
            if risk is not None or id(node) not in in_loop or len(node.targets) != 1:
                return
            target = node.targets[0].target
            if not (isinstance(target, cst.Name) and target.value in seeded):
                return
            if _small_modulus(node.value, target.value, constants):
                return
            if _multiplies(node.value, target.value, int_factor):
                risk = f"`{_code(node)}` grows a Python int multiplicatively in a loop (int64 under Numba may overflow)"

        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            nonlocal risk
            if (
                risk is None
                and isinstance(node.operator, cst.Power)
                and isinstance(node.right, cst.Name)
                and node.right.value in ints
                and (
                    isinstance(node.left, cst.Integer)
                    or (isinstance(node.left, cst.Name) and node.left.value in ints)
                )
            ):
                risk = f"`{_code(node)}` raises an int to a variable power (int64 under Numba may overflow)"

    Find().visit(func)
    return risk


def _may_grow(func: cst.FunctionDef) -> bool:
    """Cheap pre-check: is there any `x *= ..`, `x **= ..`, `x <<= ..`, `x = x * ..` or `**`?"""
    found = False

    class Look(FastVisitor):
        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            nonlocal found
            if isinstance(
                node.operator, (cst.MultiplyAssign, cst.PowerAssign, cst.LeftShiftAssign)
            ):
                found = True

        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            nonlocal found
            if isinstance(node.operator, (cst.Power, cst.LeftShift)):
                found = True

        def visit_Assign(self, node: cst.Assign) -> None:
            nonlocal found
            target = node.targets[0].target if len(node.targets) == 1 else None
            if isinstance(target, cst.Name) and isinstance(node.value, cst.BinaryOperation):
                if target.value in names_in(node.value):
                    found = True

    Look().visit(func)
    return found


def _multiplies(
    expr: cst.BaseExpression, name: str, int_factor: Callable[[cst.BaseExpression], bool]
) -> bool:
    """True if `expr` multiplies (`*`, `**`, `<<`) `name` by an int factor."""
    found = False

    class Look(FastVisitor):
        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            nonlocal found
            if isinstance(node.operator, (cst.Multiply, cst.Power, cst.LeftShift)):
                for side, other in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(side, cst.Name) and side.value == name and int_factor(other):
                        found = True

    Look().visit(expr)
    return found


def _int_seeded(func: cst.FunctionDef) -> set[str]:
    """Names first bound to an int literal and never to a float literal (`h = 7`, then
    `h = h * 31 + s[i]`): they stay Python ints unless a float enters later."""
    seeded: set[str] = set()
    floats: set[str] = set()
    for name, nodes in binding_sites(func).items():
        for node in nodes:
            if isinstance(node, cst.Assign):
                if isinstance(node.value, cst.Integer):
                    seeded.add(name)
                elif isinstance(node.value, cst.Float):
                    floats.add(name)
    return seeded - floats


# --- int64 overflow from Python-int magnitudes ------------------------------------------------

#: assumed bits of a non-constant Python int: a loop index, `len(...)`, `int(...)`, a
#: shape: below 2**31 (an array of 2**31 float64 elements is 16 GiB)
_INT_BITS = 31
#: bits a loop adds to an accumulator (`s += e`): at most ~2**31 iterations of one loop,
#: ~2**32 of nested ones (minutes of interpreted Python)
_LOOP_BITS = (31, 32)
#: flagged above this estimate: the estimate is an upper bound built from coarse
#: per-value bounds, so a little slack keeps `s += 10 * i` (overflows only after ~1e9
#: iterations) while `i * i * i`, `s += i * i`, `s += i * j` and `s += 1000 * i` are flagged
_MAX_BITS = 71
_HUGE = 10_000
#: `math` functions returning a Python int
_MATH_INTS = frozenset({"math.floor", "math.ceil", "math.trunc", "math.isqrt", "math.gcd"})
#: `math` functions whose Python int outgrows int64 for small arguments
_MATH_HUGE_INTS = frozenset({"math.comb", "math.perm", "math.factorial", "math.prod", "math.lcm"})


@dataclass(frozen=True)
class _Mag:
    """What an expression's value may be: a Python int (`kind` "int", or "unknown" for
    a parameter or unknown name, which may be one) of at most `bits` bits, or "other"
    (a float, a NumPy scalar or array: these wrap identically compiled and interpreted)."""

    kind: str  # "int" | "unknown" | "other"
    bits: int = _INT_BITS
    constant: bool = False
    #: factors of unknown type in a product (`i * dt * dt`, dt a float parameter, is
    #: no Python int: with two unknown factors the estimate is not trusted)
    unknowns: int = 0
    #: `bits` is a true bound, built only from constants and `% M` / `& C` with a
    #: constant (`h * h % 2**32`), not from assumed sizes of indices and loop counts:
    #: it gets no slack, above 63 bits it overflows
    exact: bool = False


_OTHER = _Mag("other", 0)
_UNKNOWN = _Mag("unknown", unknowns=1)


def _join(a: _Mag, b: _Mag) -> _Mag:
    """The value of a name bound to `a` in one place and `b` in another."""
    if "other" in (a.kind, b.kind):
        return _OTHER
    kind = "int" if "int" in (a.kind, b.kind) else "unknown"
    return _Mag(
        kind,
        max(a.bits, b.bits),
        a.constant and b.constant,
        max(a.unknowns, b.unknowns),
        a.exact and b.exact,
    )


class _Magnitudes:
    """Estimates how large the Python ints of one function can get (`overflow_risk`)."""

    def __init__(
        self,
        func: cst.FunctionDef,
        imports: ImportedNames | None,
        helpers: dict[str, cst.FunctionDef] | None = None,
        depth: int = 0,
        constants: dict[str, int] | None = None,
    ) -> None:
        self.func = func
        self.imports = imports
        self.env: dict[str, _Mag] = {}
        self.helpers = helpers or {}
        self.depth = depth
        self.constants = _visible_constants(func, constants)

    def _returned(self, helper: cst.FunctionDef, call: cst.Call) -> _Mag:
        """What a same-module helper returns, its parameters bound to the arguments."""
        if self.depth >= 3 or any(a.star or a.keyword for a in call.args):
            return _UNKNOWN
        inner = _Magnitudes(helper, self.imports, self.helpers, self.depth + 1, self.constants)
        params = helper.params.params
        for param, arg in zip(params, call.args, strict=False):
            inner.env[param.name.value] = self.of(arg.value)
        result: _Mag | None = None
        for node in walk_statements(helper, into_scopes=False):
            if isinstance(node, cst.SimpleStatementLine):
                for small in node.body:
                    if isinstance(small, cst.Return) and small.value is not None:
                        mag = inner.of(small.value)
                        result = mag if result is None else _join(result, mag)
        return result or _UNKNOWN

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return self.imports.qualify(expr) if self.imports is not None else None

    def name(self, name: str) -> _Mag:
        if name in ("True", "False"):
            return _Mag("int", 1, True, exact=True)
        if name in self.env:
            return self.env[name]
        if name in self.constants:  # a module-level int constant, frozen by Numba
            return _Mag("int", max(1, abs(self.constants[name]).bit_length()), True, exact=True)
        return _UNKNOWN

    def of(self, expr: cst.BaseExpression) -> _Mag:  # noqa: C901 - one case per node type
        if isinstance(expr, cst.Integer):
            return _Mag("int", max(1, int(expr.evaluated_value).bit_length()), True, exact=True)
        if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation)):
            value = fold_int(expr, self.constants)  # `2**32 - 1` is 32 bits, not 2 * 32 + 1
            if value is not None:
                return _Mag("int", max(1, abs(value).bit_length()), True, exact=True)
        if isinstance(expr, (cst.Float, cst.Imaginary, cst.BaseString)):
            return _OTHER
        if isinstance(expr, cst.Name):
            return self.name(expr.value)
        if isinstance(expr, cst.Subscript):
            value = expr.value
            if isinstance(value, cst.Attribute) and value.attr.value in ("shape", "strides"):
                return _Mag("int", _INT_BITS)
            return _OTHER  # an array element: a NumPy scalar
        if isinstance(expr, cst.Attribute):
            if expr.attr.value in ("size", "ndim", "itemsize", "nbytes"):
                return _Mag("int", _INT_BITS)
            return _OTHER if self.qualify(expr) is not None else _UNKNOWN
        if isinstance(expr, cst.Call):
            return self._call(expr)
        if isinstance(expr, cst.UnaryOperation):
            if isinstance(expr.operator, cst.Not):
                return _Mag("int", 1)
            return self.of(expr.expression)
        if isinstance(expr, (cst.Comparison, cst.BooleanOperation)):
            return _Mag("int", 1) if isinstance(expr, cst.Comparison) else _UNKNOWN
        if isinstance(expr, cst.IfExp):
            return _join(self.of(expr.body), self.of(expr.orelse))
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr)
        return _UNKNOWN

    def _call(self, call: cst.Call) -> _Mag:
        qualified = self.qualify(call.func)
        if qualified is not None:
            if qualified in _MATH_HUGE_INTS:
                return _Mag("int", _HUGE)  # `math.factorial(i)`: 21! > 2**63
            if qualified in _MATH_INTS:
                scale = _scale_bits(call.args[0].value) if call.args else 0
                return _Mag("int", _INT_BITS + scale)
            return _OTHER
        if isinstance(call.func, cst.Name):
            name = call.func.value
            if name in ("int", "round") and len(call.args) == 1:
                return _Mag("int", _INT_BITS + _scale_bits(call.args[0].value))
            if name == "len":
                return _Mag("int", _INT_BITS)
            if name == "pow" and len(call.args) == 2 and not any(a.star for a in call.args):
                return self._binary(
                    cst.BinaryOperation(call.args[0].value, cst.Power(), call.args[1].value)
                )
            if name in self.helpers and self.helpers[name] is not self.func:
                return self._returned(self.helpers[name], call)
            if name == "ord":
                return _Mag("int", 21)
            if name == "float":
                return _OTHER
            if name in ("abs", "min", "max") and call.args and not any(a.star for a in call.args):
                result = self.of(call.args[0].value)
                for arg in call.args[1:]:
                    result = _join(result, self.of(arg.value))
                return result
        return _UNKNOWN

    def _binary(self, expr: cst.BinaryOperation) -> _Mag:
        op = expr.operator
        left, right = self.of(expr.left), self.of(expr.right)
        if "other" in (left.kind, right.kind) or isinstance(op, (cst.Divide, cst.MatrixMultiply)):
            return _OTHER
        kind = "int" if "int" in (left.kind, right.kind) else "unknown"
        constant = left.constant and right.constant
        literal = int(expr.right.evaluated_value) if isinstance(expr.right, cst.Integer) else None
        unknowns = max(left.unknowns, right.unknowns)
        exact = left.exact and right.exact
        if isinstance(op, (cst.Add, cst.Subtract)):
            bits = max(left.bits, right.bits) + 1
        elif isinstance(op, cst.Multiply):
            bits = left.bits + right.bits
            unknowns = left.unknowns + right.unknowns
        elif isinstance(op, (cst.FloorDivide, cst.RightShift)):
            bits = left.bits
            exact = left.exact
        elif isinstance(op, cst.Modulo):
            bits = right.bits
            modulus = fold_int(expr.right, self.constants)
            if modulus is not None and modulus > 0:  # `x % M` lies in [0, M)
                bits, exact = max(1, (modulus - 1).bit_length()), True
        elif isinstance(op, cst.BitAnd):
            bits = min(left.bits, right.bits)
            for side in (expr.left, expr.right):
                mask = fold_int(side, self.constants)
                if mask is not None and mask >= 0:  # `x & C` lies in [0, C]
                    bits, exact = min(bits, max(1, mask.bit_length())), True
        elif isinstance(op, (cst.BitOr, cst.BitXor)):
            bits = max(left.bits, right.bits)
        elif isinstance(op, cst.LeftShift):
            bits = left.bits + literal if literal is not None else _HUGE
        elif isinstance(op, cst.Power):
            bits = left.bits * literal if literal is not None and literal >= 0 else _HUGE
        else:
            return _UNKNOWN
        return _Mag(kind, min(bits, _HUGE), constant, unknowns, exact)

    def too_big(self, expr: cst.BaseExpression) -> bool:
        """True if `expr`, a Python int that is not a constant, may exceed int64."""
        mag = self.of(expr)
        if mag.kind == "int" and mag.constant:
            return mag.bits > 63  # `7 ** 25`, `2**64 - 1`: no int64 holds it
        if mag.kind != "int" or mag.unknowns > 1:
            return False
        if mag.bits > (63 if mag.exact else _MAX_BITS):
            return True
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.right, cst.Integer):
            literal = int(expr.right.evaluated_value)
            factor = self.of(expr.left)
            if not factor.constant and factor.kind != "other":
                if isinstance(expr.operator, cst.LeftShift) and literal >= 32:
                    return True
                if isinstance(expr.operator, cst.Multiply) and literal >= 2**31:
                    return True
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
            left, right = self.of(expr.left), self.of(expr.right)
            for big, other in ((left, right), (right, left)):
                if big.constant and big.kind == "int" and big.bits > 31:
                    if not other.constant and other.kind != "other":
                        return True  # `SCALE * i`, SCALE = 10**12 at module level
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.left, cst.Integer):
            literal = int(expr.left.evaluated_value)
            factor = self.of(expr.right)
            if isinstance(expr.operator, cst.Multiply) and literal >= 2**31 and not factor.constant:
                return factor.kind != "other"
        return False


def _enumerate_index(loop: cst.For, name: str) -> bool:
    """`name` is the count of `for name, v in enumerate(...)` (no `start=`)."""
    it, target = loop.iter, loop.target
    return (
        isinstance(it, cst.Call)
        and isinstance(it.func, cst.Name)
        and it.func.value == "enumerate"
        and len(it.args) == 1
        and isinstance(target, cst.Tuple)
        and len(target.elements) == 2
        and isinstance(target.elements[0].value, cst.Name)
        and target.elements[0].value.value == name
    )


def _scale_bits(expr: cst.BaseExpression) -> int:
    """Bits a literal factor adds to a value converted to int: `int(t[i] * 1e9)` holds
    the element (assumed below 2**31) scaled by 2**30."""
    bits = 0
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
        for side in (expr.left, expr.right):
            if isinstance(side, (cst.Integer, cst.Float)):
                value = abs(float(side.evaluated_value))
                if value >= 2.0:
                    bits += int(value).bit_length()
            else:
                bits += _scale_bits(side)
    return bits


def _occurrences(expr: cst.BaseExpression, names: set[str]) -> int:
    """How many times `names` feed `expr` additively: `a + b` counts 2, `x + x` 2,
    `(lo + hi) // 2` 1 (halved); subscripts, calls other than abs and reducing
    operators (`%`, `&`) count 0."""
    if isinstance(expr, cst.Name):
        return 1 if expr.value in names else 0
    if isinstance(expr, cst.UnaryOperation):
        return _occurrences(expr.expression, names)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "abs":
        return sum(_occurrences(a.value, names) for a in expr.args)
    if isinstance(expr, cst.BinaryOperation):
        op = expr.operator
        if isinstance(op, (cst.Add, cst.Subtract, cst.BitOr, cst.BitXor)):
            return _occurrences(expr.left, names) + _occurrences(expr.right, names)
        if isinstance(op, (cst.FloorDivide, cst.RightShift)):
            return 1 if _occurrences(expr.left, names) else 0
        if isinstance(op, cst.Multiply):
            return _occurrences(expr.left, names) + _occurrences(expr.right, names)
    return 0


def _loop_depths(func: cst.FunctionDef) -> dict[int, int]:
    """id(small statement) -> how many loops of `func` enclose it (0 omitted)."""
    depth: dict[int, int] = {}
    for loop in loops_in(func):
        for stmt in small_statements(loop.body):
            depth[id(stmt)] = depth.get(id(stmt), 0) + 1
    return depth


def _under_product(expr: cst.BaseExpression, name: str) -> bool:
    """True if `name` occurs inside a `*`, `<<` or `**` operand in `expr`."""
    found = False

    class Look(FastVisitor):
        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            nonlocal found
            if isinstance(node.operator, (cst.Multiply, cst.LeftShift, cst.Power)):
                if name in names_in(node):
                    found = True

    Look().visit(expr)
    return found


_AUG_TO_BINARY: dict[type, type] = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
    cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift,
    cst.PowerAssign: cst.Power,
    cst.BitAndAssign: cst.BitAnd,
    cst.BitOrAssign: cst.BitOr,
    cst.BitXorAssign: cst.BitXor,
    cst.DivideAssign: cst.Divide,
}


def _magnitude_risk(
    func: cst.FunctionDef,
    imports: ImportedNames | None,
    helpers: dict[str, cst.FunctionDef] | None = None,
    constants: dict[str, int] | None = None,
) -> str | None:
    """An int64 overflow that the magnitudes of Python ints make likely, described.

    Estimates the bits of every Python int (`_Magnitudes`): non-constant ints (loop
    indices, `len`, `int(...)`, parameters combined with them) have 31, a loop that
    accumulates (`s += e`) adds 31 (32 when nested). Flags, inside a loop and outside
    subscripts (index arithmetic `a[i * n + j]` is bounded by the array's size), an
    expression or an accumulated name whose estimate exceeds `_MAX_BITS`, a shift of a
    non-constant int by a literal >= 32 and a product with a literal >= 2**31.
    """
    sites = binding_sites(func)
    depths = _loop_depths(func)
    mags = _Magnitudes(func, imports, helpers, constants=constants)

    def binding_value(node: cst.CSTNode, name: str) -> tuple[cst.BaseExpression | None, bool]:
        """(the value `node` binds `name` to, as an expression; whether it is an accumulation)."""
        if isinstance(node, cst.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                return node.value, name in names_in(node.value)
            target, value = node.targets[-1].target, node.value
            if (
                isinstance(target, (cst.Tuple, cst.List))
                and isinstance(value, (cst.Tuple, cst.List))
                and len(target.elements) == len(value.elements)
                and not any(isinstance(e, cst.StarredElement) for e in value.elements)
            ):
                for t, v in zip(target.elements, value.elements, strict=True):
                    if isinstance(t.value, cst.Name) and t.value.value == name:
                        return v.value, name in names_in(v.value)
            return None, False
        if isinstance(node, cst.AnnAssign) and node.value is not None:
            return node.value, name in names_in(node.value)
        if isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            binary = _AUG_TO_BINARY.get(type(node.operator))
            if binary is None:
                return None, False
            return cst.BinaryOperation(node.target, binary(), node.value), True
        return None, False

    def evaluate(name: str, nodes: list[cst.CSTNode]) -> tuple[_Mag, cst.CSTNode | None]:
        """The join of `name`'s bindings, and the accumulating binding that grows it, if any."""
        base: _Mag | None = None
        accumulating: list[tuple[cst.CSTNode, cst.BaseExpression]] = []
        for node in nodes:
            if isinstance(node, cst.Param):
                mag = _UNKNOWN
            elif isinstance(node, cst.For):
                mag = (
                    _Mag("int", _INT_BITS)
                    if (simple_range_loop(node) and isinstance(node.target, cst.Name))
                    or _enumerate_index(node, name)
                    else _UNKNOWN
                )
            else:
                value, self_ref = binding_value(node, name)
                if value is None:
                    mag = _UNKNOWN
                elif self_ref:
                    accumulating.append((node, value))
                    continue
                else:
                    mag = mags.of(value)
            base = mag if base is None else _join(base, mag)
        if base is None:
            base = _Mag("int", 1, True) if accumulating else _UNKNOWN
        result = base
        grower: cst.CSTNode | None = None
        for node, value in accumulating:
            saved = mags.env.get(name)
            mags.env[name] = base
            now = mags.of(value)
            mags.env[name] = _Mag(base.kind, max(base.bits, now.bits) + 64, base.constant)
            bigger = mags.of(value)
            mags.env[name] = _Mag(base.kind, 1)
            step = mags.of(value)  # what one iteration adds
            if saved is None:
                del mags.env[name]
            else:
                mags.env[name] = saved
            depth = depths.get(id(node), 0)
            if now.kind != "other" and bigger.bits > now.bits and depth:
                if _under_product(value, name) or _occurrences(value, {name}) > 1:
                    bits = _HUGE  # `x = x * 3`, and `x = x + x` doubling
                else:
                    # at most 2**31 (nested: 2**32) iterations each adding `step`
                    bits = max(base.bits, step.bits + _LOOP_BITS[min(depth, 2) - 1]) + 1
                now = _Mag(now.kind, bits, False, now.unknowns)
                if bits > _MAX_BITS and now.unknowns <= 1 and grower is None:
                    grower = node
            result = _join(result, _Mag(now.kind, now.bits, False, now.unknowns, now.exact))
        return result, grower

    growers: dict[str, cst.CSTNode] = {}
    changing: set[str] = set()
    # start local names at the bottom (a 1-bit int constant), not at "unknown": a name
    # read before its own round-0 evaluation (`a, b = b, a * b`) would otherwise carry an
    # unknown factor through the cycle forever, and a product of two such names
    # (`unknowns` 2) would never be trusted
    for name, nodes in sites.items():
        if not any(isinstance(n, (cst.Param, cst.For)) for n in nodes):
            mags.env[name] = _Mag("int", 1, True)
    first_round: dict[str, _Mag] = {}
    for round_number in range(6):
        if round_number == 1:
            first_round = dict(mags.env)
        changing = set()
        for name, nodes in sites.items():
            mag, grower = evaluate(name, nodes)
            if mags.env.get(name) != mag:
                mags.env[name] = mag
                changing.add(name)
            if grower is not None and mag.kind == "int":
                growers[name] = grower
            else:
                growers.pop(name, None)
        if not changing:
            break
    # names still growing after the rounds feed each other (`a = b + 1; b = a * 3`):
    # multiplying them compounds in every iteration
    for name in sorted(changing):
        for node in sites[name]:
            value, _ = binding_value(node, name)
            if (
                value is not None
                and mags.env[name].kind == "int"
                and any(_under_product(value, other) for other in changing)
            ):
                return (
                    f"`{_code(node)}` grows Python ints multiplicatively from one iteration "
                    "to the next (int64 under Numba may overflow)"
                )
    # additive cycles where one binding sums two members (`t = a + b; a = b; b = t`,
    # Fibonacci) double in every iteration
    for name in sorted(changing):
        for node in sites[name]:
            value, _ = binding_value(node, name)
            if (
                value is not None
                and depths.get(id(node), 0)
                and mags.env[name].kind == "int"
                and _occurrences(value, changing) > 1
            ):
                return (
                    f"`{_code(node)}` adds Python ints that feed each other in a loop, "
                    "doubling each iteration (int64 under Numba may overflow)"
                )
    # additive cycles (`j = i; j += 1; i = j + 1`, a while-loop scan) would gain a loop's
    # bits in every round: each counts one accumulation, its estimate from the first round
    for name in changing:
        mags.env[name] = first_round.get(name, mags.env[name])
        growers.pop(name, None)
    found: cst.CSTNode | None = None

    class Find(FastVisitor):
        def visit_SubscriptElement(self, node: cst.SubscriptElement) -> bool:
            return False  # index arithmetic is bounded by the array's size

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> bool:
            nonlocal found
            if found is None and mags.too_big(node):
                found = node
                return False
            return found is None

        def visit_Call(self, node: cst.Call) -> bool:
            nonlocal found
            if found is None and mags.too_big(node):
                found = node  # `math.factorial(i)`
                return False
            return found is None

        def visit_Integer(self, node: cst.Integer) -> None:
            nonlocal found
            if found is None and mags.too_big(node):
                found = node

    for loop in loops_in(func):
        if found is None:
            Find().visit(loop.body)
    if found is not None:
        return (
            f"`{_code(found)}` can exceed int64 in a loop (Python ints are unbounded, "
            "Numba's int64 wraps around)"
        )
    for name in sorted(growers):
        return (
            f"`{_code(growers[name])}` accumulates Python ints that can exceed int64 in a "
            "loop (Python ints are unbounded, Numba's int64 wraps around)"
        )
    return None


def fold_int(expr: cst.BaseExpression, known: dict[str, int] | None = None) -> int | None:
    """The exact value of an int constant expression (`2**61 - 1`, `A * 3`, `0xFFFF`),
    names taken from `known`, or None. Never evaluates code; a power, shift or product
    past `_HUGE` bits is None (`9**9**9` is not computed)."""
    if isinstance(expr, cst.Integer):
        return int(expr.evaluated_value)
    if isinstance(expr, cst.Name):
        return (known or {}).get(expr.value)
    if isinstance(expr, cst.UnaryOperation):
        value = fold_int(expr.expression, known)
        if value is None:
            return None
        op = expr.operator
        if isinstance(op, cst.Minus):
            return -value
        if isinstance(op, cst.Plus):
            return value
        return ~value if isinstance(op, cst.BitInvert) else None
    if not isinstance(expr, cst.BinaryOperation):
        return None
    left = fold_int(expr.left, known)
    right = fold_int(expr.right, known) if left is not None else None
    if left is None or right is None:
        return None
    op = expr.operator
    bits = max(left.bit_length(), right.bit_length())
    if isinstance(op, cst.Add):
        return left + right
    if isinstance(op, cst.Subtract):
        return left - right
    if isinstance(op, cst.Multiply):
        return left * right if left.bit_length() + right.bit_length() <= _HUGE else None
    if isinstance(op, (cst.FloorDivide, cst.Modulo)):
        if right == 0:
            return None
        return left // right if isinstance(op, cst.FloorDivide) else left % right
    if isinstance(op, cst.Power):
        if right < 0 or (abs(left) > 1 and right * left.bit_length() > _HUGE):
            return None
        return left**right
    if isinstance(op, cst.LeftShift):
        return left << right if 0 <= right and bits + right <= _HUGE else None
    if isinstance(op, cst.RightShift):
        return left >> right if right >= 0 else None
    if isinstance(op, cst.BitAnd):
        return left & right
    if isinstance(op, cst.BitOr):
        return left | right
    if isinstance(op, cst.BitXor):
        return left ^ right
    return None
