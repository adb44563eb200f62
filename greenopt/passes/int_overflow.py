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

from greenopt.optimizer.cst_nodes import walk_statements
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


def _small_modulus(expr: cst.BaseExpression) -> bool:
    """`(...) % M` with a literal M below 2**31: the product of two such values fits int64."""
    return (
        isinstance(expr, cst.BinaryOperation)
        and isinstance(expr.operator, cst.Modulo)
        and isinstance(expr.right, cst.Integer)
        and int(expr.right.value, 0) < 2**31
    )


def overflow_risk(func: cst.FunctionDef, imports: ImportedNames | None = None) -> str | None:
    """A visible int64 overflow risk in `func`, described, or None.

    Flags, for names that are provably ints: multiplicative updates inside a loop
    (`p *= k`, `p = p * k + c`, `p <<= 1`, `p **= 2`) unless reduced by a small literal
    modulus, and `**` whose exponent is a variable int; then Python ints whose estimated
    magnitude exceeds int64 (`_magnitude_risk`: `i * i * i`, `s += i * i`,
    `h += int(x[i]) << 40`).
    """
    risk = _multiplicative_risk(func) if _may_grow(func) else None
    return risk or _magnitude_risk(func, imports)


def _multiplicative_risk(func: cst.FunctionDef) -> str | None:
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
            if _small_modulus(node.value):
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


_OTHER = _Mag("other", 0)
_UNKNOWN = _Mag("unknown", unknowns=1)


def _join(a: _Mag, b: _Mag) -> _Mag:
    """The value of a name bound to `a` in one place and `b` in another."""
    if "other" in (a.kind, b.kind):
        return _OTHER
    kind = "int" if "int" in (a.kind, b.kind) else "unknown"
    return _Mag(kind, max(a.bits, b.bits), a.constant and b.constant, max(a.unknowns, b.unknowns))


class _Magnitudes:
    """Estimates how large the Python ints of one function can get (`overflow_risk`)."""

    def __init__(self, func: cst.FunctionDef, imports: ImportedNames | None) -> None:
        self.func = func
        self.imports = imports
        self.env: dict[str, _Mag] = {}

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return self.imports.qualify(expr) if self.imports is not None else None

    def name(self, name: str) -> _Mag:
        if name in ("True", "False"):
            return _Mag("int", 1, True)
        return self.env.get(name, _UNKNOWN)

    def of(self, expr: cst.BaseExpression) -> _Mag:  # noqa: C901 - one case per node type
        if isinstance(expr, cst.Integer):
            return _Mag("int", max(1, int(expr.evaluated_value).bit_length()), True)
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
            return _Mag("int", _INT_BITS) if qualified in _MATH_INTS else _OTHER
        if isinstance(call.func, cst.Name):
            name = call.func.value
            if name in ("len", "int", "round") and (name != "round" or len(call.args) == 1):
                return _Mag("int", _INT_BITS)
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
        if isinstance(op, (cst.Add, cst.Subtract)):
            bits = max(left.bits, right.bits) + 1
        elif isinstance(op, cst.Multiply):
            bits = left.bits + right.bits
            unknowns = left.unknowns + right.unknowns
        elif isinstance(op, (cst.FloorDivide, cst.RightShift)):
            bits = left.bits
        elif isinstance(op, cst.Modulo):
            bits = right.bits
        elif isinstance(op, cst.BitAnd):
            bits = min(left.bits, right.bits)
        elif isinstance(op, (cst.BitOr, cst.BitXor)):
            bits = max(left.bits, right.bits)
        elif isinstance(op, cst.LeftShift):
            bits = left.bits + literal if literal is not None else _HUGE
        elif isinstance(op, cst.Power):
            bits = left.bits * literal if literal is not None and literal >= 0 else _HUGE
        else:
            return _UNKNOWN
        return _Mag(kind, min(bits, _HUGE), constant, unknowns)

    def too_big(self, expr: cst.BaseExpression) -> bool:
        """True if `expr`, a Python int that is not a constant, may exceed int64."""
        mag = self.of(expr)
        if mag.kind == "int" and mag.constant:
            return mag.bits > 63  # `7 ** 25`, `2**64 - 1`: no int64 holds it
        if mag.kind != "int" or mag.unknowns > 1:
            return False
        if mag.bits > _MAX_BITS:
            return True
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.right, cst.Integer):
            literal = int(expr.right.evaluated_value)
            factor = self.of(expr.left)
            if not factor.constant and factor.kind != "other":
                if isinstance(expr.operator, cst.LeftShift) and literal >= 32:
                    return True
                if isinstance(expr.operator, cst.Multiply) and literal >= 2**31:
                    return True
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.left, cst.Integer):
            literal = int(expr.left.evaluated_value)
            factor = self.of(expr.right)
            if isinstance(expr.operator, cst.Multiply) and literal >= 2**31 and not factor.constant:
                return factor.kind != "other"
        return False


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


def _magnitude_risk(func: cst.FunctionDef, imports: ImportedNames | None) -> str | None:
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
    mags = _Magnitudes(func, imports)

    def binding_value(node: cst.CSTNode, name: str) -> tuple[cst.BaseExpression | None, bool]:
        """(the value `node` binds `name` to, as an expression; whether it is an accumulation)."""
        if isinstance(node, cst.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                return node.value, name in names_in(node.value)
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
                    if simple_range_loop(node) and isinstance(node.target, cst.Name)
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
            mags.env[name] = _Mag(base.kind, base.bits + 64, base.constant)
            bigger = mags.of(value)
            mags.env[name] = _Mag(base.kind, 1)
            step = mags.of(value)  # what one iteration adds
            if saved is None:
                del mags.env[name]
            else:
                mags.env[name] = saved
            depth = depths.get(id(node), 0)
            if now.kind != "other" and bigger.bits > now.bits and depth:
                if _under_product(value, name):
                    bits = _HUGE
                else:
                    # at most 2**31 (nested: 2**32) iterations each adding `step`
                    bits = max(base.bits, step.bits + _LOOP_BITS[min(depth, 2) - 1]) + 1
                now = _Mag(now.kind, bits, False, now.unknowns)
                if bits > _MAX_BITS and now.unknowns <= 1 and grower is None:
                    grower = node
            result = _join(result, _Mag(now.kind, now.bits, False, now.unknowns))
        return result, grower

    growers: dict[str, cst.CSTNode] = {}
    changing: set[str] = set()
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
