"""Loop legality for the loop-fusion and jit passes: accesses, dependences, effects, aliasing.

This is the part of the analysis that decides *whether* a loop rewrite keeps the
program's meaning; the passes decide *how* to rewrite. It is deliberately
conservative: anything it does not understand is a reason to refuse.

- `scan_loop_body` summarises the body of a `for` loop: subscript accesses with
  their normalised index components, scalars bound, names read, names used as
  whole objects, and every construct that has side effects or leaves the loop early.
- `affine_coefficient` recognises index components that are affine in the loop
  variable (`i`, `i + 1`, `2*i - k`), whose non-zero coefficient makes the access
  injective in the iteration: two iterations never touch the same element.
- `array_relations` wraps `greenopt.optimizer.aliasing` (arrays allocated in the
  function are distinct from everything else; parameters may alias each other).
- `fusion_blockers` applies the conditions of Numba's parfors `try_fuse` (equal
  bounds, no fusion-preventing dependence, no use in the first loop of values the
  second defines, no side effects) to two adjacent loops.
- `parallel_blockers` decides whether one loop's iterations are independent (or a
  recognised `+=`/`-=`/`*=` reduction), the condition for Numba `prange`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import libcst as cst
from libcst.metadata import MetadataWrapper

from greenopt.optimizer.affine import Affine, to_affine
from greenopt.optimizer.aliasing import ArrayFacts, Relation
from greenopt.optimizer.cst_nodes import IS_NODE, is_node
from greenopt.optimizer.name_facts import function_facts
from greenopt.optimizer.numpy_names import OUT_POSITION, NameResolver
from greenopt.passes.import_edits import ImportedNames


class Memory(Enum):
    """How the memory behind two array names of one function relates."""

    DISJOINT = "disjoint"  # provably no shared memory
    SAME = "same"  # the same array, indexed identically
    OVERLAP = "overlap"  # views of one array: shared memory at unknown offsets
    UNKNOWN = "unknown"  # may overlap (e.g. two parameters)


#: may-alias oracle: relation between the memory of two array names of one function
Relation_fn = Callable[[str, str], Memory]

_EMPTY = cst.Module(body=[])

#: builtins without side effects on their arguments
PURE_BUILTINS = frozenset(
    {
        "abs",
        "min",
        "max",
        "len",
        "float",
        "int",
        "bool",
        "round",
        "range",
        "pow",
        "complex",
        "divmod",
        "sum",
        "any",
        "all",
        "isinstance",
        "tuple",
    }
)
#: numpy functions that may return a view of an argument (so the argument is aliased)
NUMPY_VIEW_FUNCTIONS = frozenset(
    {
        "asarray",
        "asanyarray",
        "ascontiguousarray",
        "asfortranarray",
        "reshape",
        "ravel",
        "transpose",
        "squeeze",
        "swapaxes",
        "moveaxis",
        "expand_dims",
        "atleast_1d",
        "atleast_2d",
        "atleast_3d",
        "broadcast_to",
        "broadcast_arrays",
        "diagonal",
        "real",
        "imag",
        "flip",
        "fliplr",
        "flipud",
        "rot90",
        "split",
        "array_split",
        "hsplit",
        "vsplit",
        "require",
        "frombuffer",
        "roll",
        "view",
        "take_along_axis",
    }
)
#: numpy sub-modules / functions with side effects (RNG state, I/O, in-place)
NUMPY_IMPURE_PREFIXES = (
    "numpy.random",
    "numpy.save",
    "numpy.load",
    "numpy.savetxt",
    "numpy.loadtxt",
    "numpy.copyto",
    "numpy.put",
    "numpy.place",
    "numpy.putmask",
    "numpy.fill_diagonal",
    "numpy.add.at",
    "numpy.subtract.at",
    "numpy.multiply.at",
    "numpy.testing",
    "numpy.seterr",
    "numpy.set_printoptions",
    "numpy.fromfile",
    "numpy.tofile",
    "numpy.memmap",
    "numpy.genfromtxt",
)
#: array methods that leave their object unchanged
PURE_METHODS = frozenset(
    {
        "sum",
        "mean",
        "min",
        "max",
        "prod",
        "std",
        "var",
        "copy",
        "astype",
        "dot",
        "conj",
        "conjugate",
        "any",
        "all",
        "argmin",
        "argmax",
        "cumsum",
        "cumprod",
        "round",
        "clip",
        "item",
        "tolist",
        "nonzero",
        "trace",
    }
)
#: numpy allocation functions whose result is new memory
NUMPY_ALLOCATORS = frozenset(
    {
        "zeros",
        "empty",
        "ones",
        "full",
        "zeros_like",
        "empty_like",
        "ones_like",
        "full_like",
        "array",
        "copy",
        "arange",
        "linspace",
        "logspace",
        "geomspace",
        "eye",
        "identity",
        "concatenate",
        "stack",
        "hstack",
        "vstack",
        "tile",
        "repeat",
        "outer",
        "dot",
        "matmul",
    }
)


# --- read-only traversal in libcst's visiting order -----------------------------------------

#: child fields, in the order `CSTNode.visit` visits them, of the node types (by name) whose
#: dataclass field order differs from it (other types: dataclass field order)
_VISIT_ORDER: dict[str, tuple[str, ...]] = {
    "Arg": ("keyword", "value"),
    "Attribute": ("value", "dot", "attr"),
    "ClassDef": ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    "CompFor": ("asynchronous", "target", "iter", "ifs", "inner_for_in"),
    "Dict": ("lbrace", "elements", "rbrace"),
    "DictComp": ("lbrace", "key", "value", "for_in", "rbrace"),
    "ExceptHandler": ("type", "name", "body"),
    "ExceptStarHandler": ("type", "name", "body"),
    "For": ("asynchronous", "target", "iter", "body", "orelse"),
    "FormattedString": ("parts",),
    "FormattedStringExpression": ("expression", "format_spec"),
    "FunctionDef": (
        "decorators", "asynchronous", "name", "type_parameters", "params", "returns", "body"
    ),
    "IfExp": ("body", "test", "orelse"),
    "ImportFrom": ("relative", "module", "names"),
    "IndentedBlock": ("body",),
    "List": ("lbracket", "elements", "rbracket"),
    "ListComp": ("lbracket", "elt", "for_in", "rbracket"),
    "Match": ("subject", "cases"),
    "MatchCase": ("pattern", "guard", "body"),
    "MatchList": ("lbracket", "patterns", "rbracket"),
    "MatchMapping": ("lbrace", "elements", "rest", "trailing_comma", "rbrace"),
    "Parameters": (
        "posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"
    ),
    "Set": ("lbrace", "elements", "rbrace"),
    "SetComp": ("lbrace", "elt", "for_in", "rbrace"),
    "SimpleStatementSuite": ("leading_whitespace", "body"),
    "Slice": ("lower", "first_colon", "upper", "second_colon", "step"),
    "Subscript": ("value", "lbracket", "slice", "rbracket"),
    "TypeAlias": ("name", "type_parameters", "value"),
    "TypeParameters": ("lbracket", "params", "rbracket"),
    "With": ("asynchronous", "items", "body"),
    "LazyImportFrom": ("relative", "module", "names"),
    "StarredDictComp": ("lbrace", "value", "for_in", "rbrace"),
    "TemplatedString": ("parts",),
    "TemplatedStringExpression": ("expression", "format_spec"),
}  # fmt: skip


#: fields that never hold code (whitespace, parentheses, punctuation; as `cst_nodes.walk`)
_NO_CODE_FIELDS = frozenset(
    {"lpar", "rpar", "leading_lines", "lines_after_decorators", "comma", "semicolon",
     "header", "footer", "trailing_whitespace", "operator", "equal", "colon", "star",
     "whitespace_after_star", "whitespace_after_param", "default_comma"}
)  # fmt: skip
#: node type -> its child fields in visiting order (filled on first use of each type)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    """The fields of node type `kind` that may hold code, in libcst's visiting order."""
    fields = _VISIT_ORDER.get(kind.__name__)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in _NO_CODE_FIELDS and not f.name.startswith("whitespace")
        )
    _CHILD_FIELDS[kind] = fields
    return fields


def ordered_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of `node` that can hold code, in the order `CSTNode.visit` visits them.

    Unlike `node.children` (and `node.visit`), nothing is rebuilt; whitespace,
    parentheses and punctuation are skipped (they hold no names).
    """
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        fields = _child_fields(type(node))
    found: list[cst.CSTNode] = []
    for name in fields:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            found.extend(item for item in value if is_node(item))
        elif is_node(value):
            found.append(value)
    return found


#: node type -> its child fields in reverse visiting order (filled on first use of each type)
_REVERSED_FIELDS: dict[type, tuple[str, ...]] = {}


def _reversed_child_fields(kind: type) -> tuple[str, ...]:
    fields = _REVERSED_FIELDS[kind] = tuple(reversed(_child_fields(kind)))
    return fields


class FastVisitor:
    """A read-only visitor with `cst.CSTVisitor`'s `visit_<Node>` protocol, minus the cost.

    `visit(node)` calls `visit_<type name>(n)` for `node` and its descendants in the
    order `node.visit(visitor)` would; a method returning False skips the children of
    its node. `leave_*` methods are not supported. Use it for analyses only: the tree is
    never rebuilt, which is what makes `CSTNode.visit` slow on large modules.

    The analyses walk millions of nodes, so the loop is written for speed: each visitor
    class keeps a table node type -> `visit_<Node>` function (a cache keyed by types,
    stored on the class in `_fast_dispatch`), and children are pushed straight onto
    the work stack instead of being collected in lists first.
    """

    def visit(self, node: cst.CSTNode) -> None:
        """Visit `node` and its descendants (what `self.visit(node)` does for a CSTVisitor)."""
        cls = type(self)
        table: dict[type, Callable[..., object] | None] | None = cls.__dict__.get("_fast_dispatch")
        if table is None:
            table = {}
            cls._fast_dispatch = table  # type: ignore[attr-defined]
        reversed_fields = _REVERSED_FIELDS
        node_kinds = IS_NODE
        stack: list[cst.CSTNode] = [node]
        pop, push = stack.pop, stack.append
        while stack:
            current = pop()
            kind = type(current)
            try:
                method = table[kind]
            except KeyError:
                method = table[kind] = getattr(cls, "visit_" + kind.__name__, None)
            if method is not None and method(self, current) is False:
                continue
            fields = reversed_fields.get(kind)
            if fields is None:
                fields = _reversed_child_fields(kind)
            for name in fields:
                value = getattr(current, name)
                value_kind = type(value)
                if value_kind is list or value_kind is tuple:
                    for item in reversed(value):  # type: ignore[call-overload]
                        known = node_kinds.get(type(item))
                        if known is None:
                            known = is_node(item)
                        if known:
                            push(item)
                else:
                    known = node_kinds.get(value_kind)
                    if known is None:
                        known = is_node(value)
                    if known:
                        push(value)  # type: ignore[arg-type]


def _shifts_axes(index: cst.BaseExpression) -> bool:
    """True for an index element after which positions are not axes: `...` (any number of
    axes) and `None` / `np.newaxis` / `numpy.newaxis` (a new axis)."""
    if isinstance(index, cst.Ellipsis):
        return True
    if isinstance(index, cst.Name):
        return index.value in ("None", "newaxis")
    return isinstance(index, cst.Attribute) and index.attr.value == "newaxis"


def code_of(node: cst.CSTNode) -> str:
    """Source text of `node`, whitespace removed (a normal form for comparing expressions)."""
    return re.sub(r"\s+", "", _EMPTY.code_for_node(node))


@dataclass(frozen=True)
class Access:
    """One subscript access `array[c0, c1, ...]` inside a loop body."""

    array: str
    index: tuple[str, ...]  # normalised text of each index component
    exprs: tuple[cst.BaseExpression | None, ...]  # the component expressions (None for slices)
    write: bool


@dataclass
class LoopSummary:
    """What a loop body touches; see `scan_loop_body`."""

    accesses: list[Access] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)  # names bound (assignments, for targets)
    read: set[str] = field(default_factory=set)  # every Name read (arrays included)
    whole: set[str] = field(default_factory=set)  # names used other than as `name[...]`
    effects: list[str] = field(default_factory=list)  # why the body is not side-effect free
    inner_targets: set[str] = field(default_factory=set)  # targets of nested for loops

    @property
    def names(self) -> set[str]:
        """Every name the body mentions."""
        return self.read | self.bound

    def arrays_written(self) -> set[str]:
        """Names of arrays stored to with `name[...] = ...`."""
        return {a.array for a in self.accesses if a.write}

    def accesses_to(self, array: str) -> list[Access]:
        """All accesses to `array`."""
        return [a for a in self.accesses if a.array == array]


#: ndarray methods of PURE_METHODS -> how many positional arguments come before `out`
#: (`a.clip(lo, hi, out)`, `a.sum(axis, dtype, out)`, `a.dot(b, out)`)
_METHOD_OUT_POSITION = {
    "sum": 2, "mean": 2, "prod": 2, "std": 2, "var": 2, "cumsum": 2, "cumprod": 2,
    "min": 1, "max": 1, "argmin": 1, "argmax": 1, "any": 1, "all": 1, "round": 1,
    "dot": 1, "clip": 2, "trace": 4,
}  # fmt: skip


def _positional_out(qualified: str, positional: int) -> bool:
    """True if `qualified(<positional args>)` passes an output array by position:
    `np.add(a, b, c)` writes `c` (a ufunc's outputs follow its `nin` inputs),
    `np.cumsum(a, 0, None, c)` too (`OUT_POSITION`)."""
    before = OUT_POSITION.get(qualified.removeprefix("numpy."))
    return before is not None and positional > before


class _BodyScanner(FastVisitor):
    """Collects a LoopSummary; see `scan_loop_body`."""

    def __init__(self, imports: ImportedNames, local_functions: frozenset[str]) -> None:
        self.summary = LoopSummary()
        self.imports = imports
        self.local_functions = local_functions
        self.loop_depth = 0

    # --- bindings -------------------------------------------------------------------------
    def _bind_target(self, target: cst.BaseExpression, also_read: bool = False) -> None:
        if isinstance(target, cst.Name):
            self.summary.bound.add(target.value)
            if also_read:
                self.summary.read.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, also_read)
        elif isinstance(target, cst.Subscript):
            self._record_subscript(target, write=True, also_read=also_read)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, also_read)
        else:  # attribute store: obj.x = ... mutates an object
            self.summary.effects.append(f"stores to attribute `{code_of(target)}`")
            self.visit(target)

    def visit_Assign(self, node: cst.Assign) -> bool:
        for target in node.targets:
            self._bind_target(target.target)
        self.visit(node.value)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        self._bind_target(node.target)
        if node.value is not None:
            self.visit(node.value)
        return False

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        self._bind_target(node.target, also_read=True)
        self.visit(node.value)
        return False

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self._bind_target(node.target)
        self.visit(node.value)
        return False

    def visit_For(self, node: cst.For) -> bool:
        if isinstance(node.target, cst.Name):
            self.summary.inner_targets.add(node.target.value)
        self._bind_target(node.target)
        self.visit(node.iter)
        self.loop_depth += 1
        self.visit(node.body)
        if node.orelse is not None:
            self.visit(node.orelse)
        self.loop_depth -= 1
        return False

    def visit_While(self, node: cst.While) -> bool:
        self.visit(node.test)
        self.loop_depth += 1
        self.visit(node.body)
        if node.orelse is not None:
            self.visit(node.orelse)
        self.loop_depth -= 1
        return False

    # --- reads ----------------------------------------------------------------------------
    def _record_subscript(self, node: cst.Subscript, write: bool, also_read: bool = False) -> None:
        components: list[str] = []
        exprs: list[cst.BaseExpression | None] = []
        value: cst.BaseExpression = node
        chain: list[cst.Subscript] = []
        while isinstance(value, cst.Subscript):
            chain.append(value)
            value = value.value
        # a component's position is its axis only up to the first element that shifts
        # the axes after it: `...`, `None`/`np.newaxis`, or a slice in a subscript that
        # is itself subscripted (`a[1:][i]` is `a[i + 1]`, not `a[1:, i]`); later
        # components keep their text but get no expression (never an injective axis)
        shifted = False
        for depth, sub in enumerate(reversed(chain)):
            inner = depth < len(chain) - 1
            for element in sub.slice:
                components.append(code_of(element.slice))
                if isinstance(element.slice, cst.Index):
                    component = element.slice.value
                    if _shifts_axes(component):
                        shifted = True
                    exprs.append(None if shifted else component)
                    self.visit(component)
                else:
                    if inner:
                        shifted = True
                    exprs.append(None)
                    self.visit(element.slice)
        if isinstance(value, cst.Name):
            self.summary.read.add(value.value)
            self.summary.accesses.append(
                Access(value.value, tuple(components), tuple(exprs), write=write)
            )
            if also_read:
                self.summary.accesses.append(
                    Access(value.value, tuple(components), tuple(exprs), write=False)
                )
        else:
            if write:
                self.summary.effects.append(f"stores through `{code_of(node)}`")
            self.visit(value)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        self._record_subscript(node, write=False)
        return False

    def visit_Name(self, node: cst.Name) -> bool:
        self.summary.read.add(node.value)
        self.summary.whole.add(node.value)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.visit(node.value)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        self.visit(node.value)
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        reason = self._call_effect(node)
        if reason:
            self.summary.effects.append(reason)
        if isinstance(node.func, cst.Attribute):
            # `a.sum()`: a method on a name is a whole use of it; `np.sqrt(...)` is not
            if self.imports.qualify(node.func) is None:
                self.visit(node.func.value)
        elif not isinstance(node.func, cst.Name):
            self.visit(node.func)
        for arg in node.args:
            if arg.star:
                self.summary.effects.append("unpacks arguments with `*`")
            self.visit(arg.value)
        return False

    def _call_effect(self, node: cst.Call) -> str | None:
        qualified = self.imports.qualify(node.func)
        if qualified is not None:
            root = qualified.split(".")[0]
            if root in ("math", "cmath"):
                return None
            if root == "numpy":
                if qualified.startswith(NUMPY_IMPURE_PREFIXES):
                    return f"calls `{qualified}` (side effects)"
                if any(kw.keyword is not None and kw.keyword.value == "out" for kw in node.args):
                    return f"calls `{qualified}` with `out=`"
                positional = sum(1 for a in node.args if a.keyword is None)
                if any(a.star for a in node.args) or _positional_out(qualified, positional):
                    return f"calls `{qualified}` with an output array as a positional argument"
                return None
            return f"calls `{qualified}` (not known to be free of side effects)"
        if isinstance(node.func, cst.Name):
            name = node.func.value
            if name in PURE_BUILTINS:
                return None
            if name in self.local_functions:
                return f"calls `{name}` (module function, not known to be pure)"
            return f"calls `{name}` (not known to be free of side effects)"
        if isinstance(node.func, cst.Attribute):
            if node.func.attr.value in PURE_METHODS:
                method = node.func.attr.value
                if any(kw.keyword is not None and kw.keyword.value == "out" for kw in node.args):
                    return f"calls method `.{method}()` with `out=`"
                positional = sum(1 for a in node.args if a.keyword is None)
                if any(a.star for a in node.args) or positional > _METHOD_OUT_POSITION.get(
                    method, 99
                ):
                    return f"calls method `.{method}()` with an output array by position"
                return None
            return f"calls method `.{node.func.attr.value}()` (may mutate its object)"
        return "calls a computed function"

    # --- effects and early exits ------------------------------------------------------------
    def visit_Break(self, node: cst.Break) -> bool:
        if self.loop_depth == 0:
            self.summary.effects.append("`break` leaves the loop early")
        return False

    def visit_Continue(self, node: cst.Continue) -> bool:
        if self.loop_depth == 0:
            self.summary.effects.append("`continue` skips the rest of the body")
        return False

    def visit_Return(self, node: cst.Return) -> bool:
        self.summary.effects.append("`return` inside the loop")
        return False

    def visit_Raise(self, node: cst.Raise) -> bool:
        self.summary.effects.append("`raise` inside the loop")
        return False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.summary.effects.append("`yield` inside the loop")
        return False

    def visit_Await(self, node: cst.Await) -> bool:
        self.summary.effects.append("`await` inside the loop")
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        self.summary.effects.append("`global` statement")
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        self.summary.effects.append("`nonlocal` statement")
        return False

    def visit_Del(self, node: cst.Del) -> bool:
        self.summary.effects.append("`del` statement")
        return False

    def visit_Try(self, node: cst.Try) -> bool:
        self.summary.effects.append("`try` statement")
        return False

    def visit_With(self, node: cst.With) -> bool:
        self.summary.effects.append("`with` statement")
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.summary.effects.append("defines a function")
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.summary.effects.append("defines a class")
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.summary.effects.append("defines a lambda")
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        self.summary.effects.append("imports inside the loop")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.summary.effects.append("imports inside the loop")
        return False


def scan_loop_body(
    body: cst.BaseSuite,
    imports: ImportedNames,
    local_functions: Iterable[str] = (),
) -> LoopSummary:
    """Summarise a loop body (statements only; the loop's own target is not included)."""
    scanner = _BodyScanner(imports, frozenset(local_functions))
    scanner.visit(body)
    return scanner.summary


def affine_coefficient(expr: cst.BaseExpression, var: str, variant: set[str]) -> int | None:
    """Integer coefficient of `var` if `expr` is affine in `var` with loop-invariant rest.

    Returns None when `expr` is not affine in `var` or mentions a name in `variant`
    (a name that changes inside the loop) outside the `var` term.
    """
    if isinstance(expr, cst.Name):
        if expr.value == var:
            return 1
        return None if expr.value in variant else 0
    if isinstance(expr, cst.Integer):
        return 0
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = affine_coefficient(expr.expression, var, variant)
        return None if inner is None else -inner
    if isinstance(expr, cst.BinaryOperation):
        left = affine_coefficient(expr.left, var, variant)
        right = affine_coefficient(expr.right, var, variant)
        if left is None or right is None:
            return None
        if isinstance(expr.operator, cst.Add):
            return left + right
        if isinstance(expr.operator, cst.Subtract):
            return left - right
        if isinstance(expr.operator, cst.Multiply):
            if left == 0 and right == 0:
                return 0
            if right == 0 and isinstance(expr.right, cst.Integer):
                return left * int(expr.right.value, 0)
            if left == 0 and isinstance(expr.left, cst.Integer):
                return right * int(expr.left.value, 0)
            return None
        return 0 if left == 0 and right == 0 else None
    names = _names_in(expr)
    if var in names or names & variant:
        return None
    return 0


def _names_in(node: cst.CSTNode) -> set[str]:
    """Names read in `node` (attribute names and keywords excluded)."""
    scanner = _BodyScanner(ImportedNames(), frozenset())
    scanner.visit(node)
    return scanner.summary.read | scanner.summary.bound


def names_in(node: cst.CSTNode) -> set[str]:
    """Every variable name `node` mentions (reads and bindings; not attribute names)."""
    return _names_in(node)


def injective_dims(accesses: Sequence[Access], var: str, variant: set[str]) -> set[int]:
    """Index positions where every access has the same component, affine-injective in `var`."""
    if not accesses:
        return set()
    common: set[int] | None = None
    for access in accesses:
        dims: set[int] = set()
        for position, expr in enumerate(access.exprs):
            if expr is None:
                continue
            coefficient = affine_coefficient(expr, var, variant - {var})
            if coefficient:
                dims.add(position)
        common = dims if common is None else common & dims
    assert common is not None
    first = accesses[0]
    return {
        d
        for d in common
        if all(len(a.index) > d and a.index[d] == first.index[d] for a in accesses)
    }


# --- functions: freshness of arrays, names outside a statement ------------------------------


def _binding_sites(func: cst.FunctionDef) -> dict[str, list[cst.CSTNode]]:
    """name -> the nodes that bind it in `func`, nested scopes included (conservative).

    Every way Python binds a name counts: parameters, assignments (also inside tuple or
    star targets), augmented and annotated assignments, walrus, `for` and comprehension
    targets, `with ... as`, `except ... as`, imports, `del`, match captures, nested
    `def`/`class` names; a `global`/`nonlocal` name counts as bound twice.
    """
    sites: dict[str, list[cst.CSTNode]] = {}

    class Binder(FastVisitor):
        def _add(self, target: cst.BaseExpression, site: cst.CSTNode) -> None:
            if isinstance(target, cst.Name):
                sites.setdefault(target.value, []).append(site)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._add(element.value, site)
            elif isinstance(target, cst.StarredElement):
                self._add(target.value, site)

        def visit_Param(self, node: cst.Param) -> None:
            sites.setdefault(node.name.value, []).append(node)

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                self._add(target.target, node)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._add(node.target, node)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._add(node.target, node)

        def visit_For(self, node: cst.For) -> None:
            self._add(node.target, node)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            self._add(node.target, node)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None:
                self._add(node.asname.name, node)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            self._add(node.target, node)

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            if node.name is not None:
                self._add(node.name.name, node)

        def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
            if node.name is not None:
                self._add(node.name.name, node)

        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                while isinstance(bound, cst.Attribute):  # `import a.b` binds `a`
                    bound = bound.value
                self._add(bound, node)  # type: ignore[arg-type]

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if isinstance(node.names, cst.ImportStar):
                return
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                self._add(bound, node)  # type: ignore[arg-type]

        def visit_Del(self, node: cst.Del) -> None:
            self._add(node.target, node)

        def visit_MatchAs(self, node: cst.MatchAs) -> None:
            if node.name is not None:
                self._add(node.name, node)

        def visit_MatchStar(self, node: cst.MatchStar) -> None:
            if node.name is not None:
                self._add(node.name, node)

        def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
            if node.rest is not None:
                self._add(node.rest, node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            if node is not func:
                self._add(node.name, node)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self._add(node.name, node)

        def visit_Global(self, node: cst.Global) -> None:
            for item in node.names:
                sites.setdefault(item.name.value, []).extend([node, node])

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            for item in node.names:
                sites.setdefault(item.name.value, []).extend([node, node])

    Binder().visit(func)
    return sites


@functools.lru_cache(maxsize=8)  # asked again by each analysis of the same function
def binding_sites(func: cst.FunctionDef) -> dict[str, list[cst.CSTNode]]:
    """name -> nodes binding it in `func`; a `global`/`nonlocal` name counts as bound twice.
    Shared between callers (libcst nodes hash by identity): never modify the result."""
    return _binding_sites(func)


def block_binding_sites(body: cst.IndentedBlock) -> dict[str, list[cst.CSTNode]]:
    """name -> nodes binding it in the statements of `body` (a loop body), as
    `binding_sites` of a function made of them. Not cached: the wrapper is new at each
    call, and caching it would only evict the functions' own entries."""
    return _binding_sites(
        cst.FunctionDef(name=cst.Name("_body"), params=cst.Parameters(), body=body)
    )


#: numpy functions whose result is always new memory (unless given `out=`, `like=`, or,
#: for `array`, a `copy=` other than True)
FRESH_NUMPY_ALLOCATORS = frozenset(
    {"zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
     "array", "copy", "arange", "linspace", "logspace", "geomspace", "eye", "identity",
     "concatenate", "stack", "hstack", "vstack", "outer", "random.rand", "random.randn",
     "random.random", "random.random_sample", "random.uniform", "random.normal",
     "random.standard_normal"}
)  # fmt: skip


def is_fresh_allocation(value: cst.BaseExpression, imports: ImportedNames) -> bool:
    """True if evaluating `value` always returns a new array no other name refers to.

    Direct numpy allocator calls count, and `.astype(...)` / `.copy()` of anything
    (both copy by default); `np.asarray`, `np.array(x, copy=False)` or `copy=None`
    (may return `x` itself), `.astype(..., copy=False)` and any call with `out=` or
    `like=` do not.
    """
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("astype", "copy"):
        if func.attr.value == "astype" and not value.args:
            return False
        return not any(
            arg.star
            or (
                arg.keyword is not None
                and arg.keyword.value == "copy"
                and not (isinstance(arg.value, cst.Name) and arg.value.value == "True")
            )
            for arg in value.args
        )
    qualified = imports.qualify(value.func)
    if qualified is None or not qualified.startswith("numpy."):
        return False
    name = qualified[len("numpy.") :]
    if name not in FRESH_NUMPY_ALLOCATORS:
        return False
    for arg in value.args:
        if arg.star:
            return False  # `**kwargs` may carry out= or copy=False
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword in ("out", "like"):
            return False
        if keyword == "copy" and not (
            isinstance(arg.value, cst.Name) and arg.value.value == "True"
        ):
            return False
    return not (name == "array" and len([a for a in value.args if a.keyword is None]) > 2)


def own_scope_statements(func: cst.FunctionDef) -> list[cst.BaseSmallStatement]:
    """The small statements of `func` itself: nested functions, classes and lambdas excluded."""
    return small_statements(func, own_scope_of=func)


@dataclass(frozen=True)
class BindingFacts:
    """Names of one function whose memory is known without any may-alias reasoning.

    `fresh_once`: bound exactly once in the whole function (every kind of binding
    counts, nested scopes included), by a plain `name = <fresh allocation>` with a
    single target (not `c = e = np.zeros(n)`, not a walrus, not a tuple target).
    `stable_params`: parameters never bound again. A fresh-once array shares no memory
    with any other fresh-once array nor with any stable parameter; nothing else is
    known for sure.
    """

    fresh_once: frozenset[str]
    stable_params: frozenset[str]

    @classmethod
    def of(cls, func: cst.FunctionDef, imports: ImportedNames) -> BindingFacts:
        """Collect the facts of `func` (`imports`: the module's imported names)."""
        sites = _binding_sites(func)
        own = {id(s) for s in own_scope_statements(func)}
        fresh: set[str] = set()
        for name, nodes in sites.items():
            if len(nodes) != 1:
                continue
            node = nodes[0]
            if (
                isinstance(node, cst.Assign)
                and id(node) in own
                and len(node.targets) == 1
                and isinstance(node.targets[0].target, cst.Name)
                and is_fresh_allocation(node.value, imports)
            ):
                fresh.add(name)
        params = {
            name
            for name in _params(func)
            if len(sites.get(name, ())) == 1 and isinstance(sites[name][0], cst.Param)
        }
        return cls(frozenset(fresh), frozenset(params))

    def distinct(self, a: str, b: str) -> bool:
        """True when `a` and `b` provably never share memory."""
        if a == b:
            return False
        known = self.fresh_once | self.stable_params
        return (a in self.fresh_once and b in known) or (b in self.fresh_once and a in known)


def array_relations(
    module: cst.Module,
    func: cst.FunctionDef,
    qualname: str,
    imports: ImportedNames | None = None,
) -> Relation_fn:
    """A may-alias oracle for the arrays of `func`, built on `greenopt.optimizer.aliasing`.

    `DISJOINT` only when `BindingFacts.distinct` proves it (an array allocated by the
    function's only binding of its name, against another such array or a parameter
    never rebound); `SAME` only for a plain alias bound once (`b = a`) of a name bound
    once; a view and its base (or two views of one base) `OVERLAP`; anything else, such
    as two parameters (the caller may pass one array twice, or overlapping slices), a
    chained assignment or a name bound twice, `UNKNOWN`.

    Name resolution runs on a small module made of `module`'s top-level imports and
    `func` alone (same nodes), so its cost is that of the function, not of the file; it
    runs only for the first pair that `BindingFacts` alone does not prove disjoint.
    `imports` is `ImportedNames.of(module)` where the caller has it already (collecting
    it reads every top-level statement, too much to repeat for each function).
    """
    sites = _binding_sites(func)
    bindings = BindingFacts.of(func, imports if imports is not None else ImportedNames.of(module))
    built: list[tuple[ArrayFacts, set[int]]] = []  # the general analysis, on first need

    def general() -> tuple[ArrayFacts, set[int]]:
        if not built:
            built.append(_general_array_facts(module, func, qualname))
        return built[0]

    def relation(a: str, b: str) -> Memory:
        if a != b and bindings.distinct(a, b):
            return Memory.DISJOINT
        facts, once = general()
        found = facts.relation(a, b)
        if found is Relation.SAME and (a == b or _plain_alias(a, b, sites, once)):
            return Memory.SAME
        if facts.root(a)[0] == facts.root(b)[0] and found is not Relation.SAME:
            return Memory.OVERLAP
        # DISJOINT from the general analysis is not trusted on its own: it treats a name
        # as fresh when any of its bindings is (`c = e = np.zeros(n)`, `if f: e = c`)
        return Memory.UNKNOWN

    return relation


def _general_array_facts(
    module: cst.Module, func: cst.FunctionDef, qualname: str
) -> tuple[ArrayFacts, set[int]]:
    """`ArrayFacts` of `func` (name resolution on `module`'s imports and `func` alone) and
    the ids of its top-level statements: the expensive part of `array_relations`."""
    used = names_in(func.body)
    once = {id(s) for s in top_level_statements(func)}
    imports: list[cst.SimpleStatementLine] = []
    seen: set[str] = set()
    for stmt in module.body:
        if not (
            isinstance(stmt, cst.SimpleStatementLine)
            and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)
        ):
            continue
        text = code_of(stmt)
        bound = set(ImportedNames.of(cst.Module(body=[stmt])).bindings)
        if text not in seen and bound & used:
            seen.add(text)
            imports.append(stmt)
    mini = cst.Module(body=[*imports, func])
    resolver = NameResolver(MetadataWrapper(mini, unsafe_skip_copy=True))
    return ArrayFacts.build(function_facts(func, qualname), resolver), once


def top_level_statements(func: cst.FunctionDef) -> list[cst.BaseSmallStatement]:
    """Small statements that are direct children of `func`'s body: each runs at most once
    per call (not inside a loop, branch, `with`, `try` or nested scope)."""
    body = func.body
    lines = body.body if isinstance(body, cst.IndentedBlock) else [body]
    found: list[cst.BaseSmallStatement] = []
    for line in lines:
        if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            found.extend(line.body)
    return found


def nonnegative_int_names(func: cst.FunctionDef) -> frozenset[str]:
    """Locals bound exactly once, at top level, to a non-negative int: `len(...)`,
    `x.shape[k]`, `x.size`, `x.ndim`, a literal >= 0, or `+`, `*`, `//` (by a positive
    literal) of such values and names (`half = len(w) // 2`). A GO402 index may add
    them to the loop variable (`out[i + half]`): it stays non-negative, so it never
    wraps around; a parameter (maybe an integer array) or a difference may not."""
    sites = binding_sites(func)
    found: set[str] = set()

    def nonneg(expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Integer):
            return int(expr.evaluated_value) >= 0
        if isinstance(expr, cst.Name):
            return expr.value in found
        if isinstance(expr, cst.Call):
            return (
                isinstance(expr.func, cst.Name)
                and expr.func.value == "len"
                and len(expr.args) == 1
                and not expr.args[0].star
            )
        if isinstance(expr, cst.Attribute):
            return expr.attr.value in ("size", "ndim")
        if isinstance(expr, cst.Subscript):
            value = expr.value
            return isinstance(value, cst.Attribute) and value.attr.value == "shape"
        if isinstance(expr, cst.BinaryOperation):
            op = expr.operator
            if isinstance(op, (cst.Add, cst.Multiply)):
                return nonneg(expr.left) and nonneg(expr.right)
            if isinstance(op, cst.FloorDivide):
                right = expr.right
                return (
                    nonneg(expr.left)
                    and isinstance(right, cst.Integer)
                    and int(right.evaluated_value) > 0
                )
        return False

    for stmt in top_level_statements(func):
        if not (
            isinstance(stmt, cst.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0].target, cst.Name)
        ):
            continue
        name = stmt.targets[0].target.value
        if len(sites.get(name, ())) == 1 and nonneg(stmt.value):
            found.add(name)
    return frozenset(found)


def _plain_alias(a: str, b: str, sites: dict[str, list[cst.CSTNode]], once: set[int]) -> bool:
    """True if one of `a`, `b` is bound exactly once, by a top-level `a = b` (or `b = a`),
    and the other is bound exactly once too, as a parameter or by a top-level statement:
    each binding then runs at most once, so both always denote one array, indexed alike."""
    for x, y in ((a, b), (b, a)):
        nodes, others = sites.get(x, []), sites.get(y, [])
        if len(nodes) != 1 or len(others) != 1:
            continue
        if not (isinstance(others[0], cst.Param) or id(others[0]) in once):
            continue
        node = nodes[0]
        if (
            id(node) in once
            and isinstance(node, cst.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
            and isinstance(node.value, cst.Name)
            and node.value.value == y
        ):
            return True
    return False


def lazy_array_relations(
    module: cst.Module,
    func: cst.FunctionDef,
    qualname: str,
    imports: ImportedNames | None = None,
) -> Relation_fn:
    """`array_relations`, built on first use: most loops never ask (name resolution is
    the expensive part of the analysis)."""
    built: list[Relation_fn] = []

    def relation(a: str, b: str) -> Memory:
        if not built:
            built.append(array_relations(module, func, qualname, imports))
        return built[0](a, b)

    return relation


def range_args(loop: cst.For) -> tuple[str, str, str] | None:
    """(start, stop, step) normalised texts of `for x in range(...)`, or None.

    `range(n)`, `range(0, n)` and `range(0, n, 1)` all give ("0", "n", "1").
    """
    call = loop.iter
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)):
        return None
    if call.func.value != "range" or any(a.keyword or a.star for a in call.args):
        return None
    args = [code_of(a.value) for a in call.args]
    if len(args) == 1:
        return ("0", args[0], "1")
    if len(args) == 2:
        return (args[0], args[1], "1")
    if len(args) == 3:
        return (args[0], args[1], args[2])
    return None


def simple_range_loop(stmt: cst.CSTNode) -> bool:
    """True for `for <name> in range(...):` without `else` or `async`."""
    return (
        isinstance(stmt, cst.For)
        and stmt.asynchronous is None
        and stmt.orelse is None
        and isinstance(stmt.target, cst.Name)
        and range_args(stmt) is not None
    )


def pure_expression(expr: cst.BaseExpression, imports: ImportedNames) -> bool:
    """True if evaluating `expr` has no side effects (names, literals, arithmetic, pure calls)."""
    scanner = _BodyScanner(imports, frozenset())
    scanner.visit(expr)
    return not scanner.summary.effects


# --- fusion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FusionVerdict:
    """Outcome of `fusion_blockers`: `reason` is None when the loops may be fused.

    `assumes_no_overlap` lists pairs of distinct array names (parameters, say) that
    are accessed at different indices and that static analysis cannot prove to be
    different memory; fusion is then legal only if they do not overlap, so it is not
    statically safe.
    """

    reason: str | None
    assumes_no_overlap: tuple[tuple[str, str], ...] = ()
    rename: tuple[str, str] | None = None  # (second loop's target, first loop's target)


def fusion_blockers(
    first: cst.For,
    second: cst.For,
    imports: ImportedNames,
    relation: Relation_fn,
    used_elsewhere: set[str],
    local_functions: Iterable[str] = (),
) -> FusionVerdict:
    """Decide whether two adjacent `for` loops can become one (Numba parfors `try_fuse`).

    `used_elsewhere`: names the enclosing function mentions outside the two loops
    (needed to rename the second loop's variable safely). Conditions, in order:
    both loops are `for x in range(...)` with identical normalised bounds that the
    first loop does not change; no side effects or early exits; no scalar written by
    one loop is mentioned by the other; every array written by either loop and
    touched by both is accessed, in both loops, at one index component that is the
    same affine, injective function of the loop variable (so iteration i of the
    second loop only touches what iteration i of the first loop wrote); arrays used
    whole in one loop are not written by the other; distinct names that may alias
    are reported in `assumes_no_overlap`.
    """
    if not (simple_range_loop(first) and simple_range_loop(second)):
        return FusionVerdict("not both `for x in range(...)` loops without `else`")
    bounds_first, bounds_second = range_args(first), range_args(second)
    if bounds_first != bounds_second:
        return FusionVerdict(f"different bounds: range{bounds_first} vs range{bounds_second}")
    assert isinstance(first.target, cst.Name) and isinstance(second.target, cst.Name)
    var, var2 = first.target.value, second.target.value
    s1 = scan_loop_body(first.body, imports, local_functions)
    s2 = scan_loop_body(second.body, imports, local_functions)
    rename: tuple[str, str] | None = None
    if var2 != var:
        if var in s2.names:
            return FusionVerdict(f"the second loop already uses `{var}`")
        if var2 in s1.names or var2 in used_elsewhere:
            return FusionVerdict(f"`{var2}` is used outside the second loop")
        second_body = second.body.visit(RenameName(var2, var))
        assert isinstance(second_body, cst.BaseSuite)
        s2 = scan_loop_body(second_body, imports, local_functions)
        rename = (var2, var)
    for summary, which in ((s1, "first"), (s2, "second")):
        if summary.effects:
            return FusionVerdict(f"{which} loop {summary.effects[0]}")
    bound_names = names_in(second.iter)
    changed = (s1.bound | {var}) & bound_names
    if changed:
        return FusionVerdict(f"the first loop changes `{sorted(changed)[0]}` used in the bounds")
    if not pure_expression(second.iter, imports):
        return FusionVerdict("the bounds of the second loop have side effects")
    scalars1 = s1.bound - {var}
    scalars2 = s2.bound - {var}
    body2 = second.body if rename is None else second.body.visit(RenameName(*rename))
    assert isinstance(body2, cst.BaseSuite)

    def private(name: str) -> bool:
        # bound afresh at the top of each iteration in both loops: no value flows between
        # them; read after the loops, the name must end with the second loop's last
        # iteration, so that loop must bind it unconditionally (an inner `for name in ...`
        # over an empty range leaves the first loop's value in the fused loop)
        return (
            _first_occurrence_is_binding(first.body, name)
            and _first_occurrence_is_binding(body2, name)
            and (name not in used_elsewhere or _first_occurrence_is_binding(body2, name, False))
        )

    crossing = {x for x in scalars1 & s2.names if not private(x)}
    if crossing:
        return FusionVerdict(
            f"`{sorted(crossing)[0]}` is written by the first loop and used by the second"
        )
    crossing = {x for x in scalars2 & s1.names if not private(x)}
    if crossing:
        return FusionVerdict(
            f"the first loop uses `{sorted(crossing)[0]}`, which the second loop defines"
        )
    written1, written2 = s1.arrays_written(), s2.arrays_written()
    variant = (s1.bound | s2.bound) - {var}
    for array in sorted(written1 | written2):
        in1, in2 = s1.accesses_to(array), s2.accesses_to(array)
        whole1, whole2 = array in s1.whole, array in s2.whole
        if (whole1 and (in2 or whole2)) or (whole2 and (in1 or whole1)):
            return FusionVerdict(
                f"`{array}` is used as a whole array in one loop and written in the other"
            )
        if not (in1 and in2):
            continue
        if not injective_dims(in1 + in2, var, variant):
            example = next(
                (a for a in in1 + in2 if a.index != (in1 + in2)[0].index), (in1 + in2)[0]
            )
            return FusionVerdict(
                f"fusion-preventing dependence on `{array}`: accessed as "
                f"`{array}[{', '.join((in1 + in2)[0].index)}]` and `{array}[{', '.join(example.index)}]`"
            )
    overlaps: set[tuple[str, str]] = set()
    arrays1 = {a.array for a in s1.accesses} | (s1.whole & s1.read)
    arrays2 = {a.array for a in s2.accesses} | (s2.whole & s2.read)
    for writes, other, other_summary, own_summary in (
        (written1, arrays2, s2, s1),
        (written2, arrays1, s1, s2),
    ):
        for w in writes:
            for r in other:
                if r == w:
                    continue
                # a name bound inside a loop (`e = d`) is no exception: it may alias `w`
                if r not in {a.array for a in other_summary.accesses}:
                    continue  # used whole only: a scalar or a whole-array read
                kind = relation(w, r)
                if kind is Memory.DISJOINT:
                    continue
                if kind is Memory.SAME:
                    if _same_injective_access(
                        own_summary.accesses_to(w) + other_summary.accesses_to(r), var, variant
                    ):
                        continue
                    return FusionVerdict(
                        f"`{w}` and `{r}` name the same array at different indices"
                    )
                if kind is Memory.OVERLAP:
                    return FusionVerdict(f"`{w}` and `{r}` are views of one array")
                overlaps.add(tuple(sorted((w, r))))  # type: ignore[arg-type]
    return FusionVerdict(None, tuple(sorted(overlaps)), rename)


def _same_injective_access(accesses: list[Access], var: str, variant: set[str]) -> bool:
    """True if all accesses (to possibly different names) use one identical index tuple,
    affine-injective in `var`: then even an exact alias only meets itself in the same iteration."""
    if not accesses:
        return True
    first = accesses[0].index
    if any(a.index != first for a in accesses):
        return False
    return bool(injective_dims(accesses, var, variant))


class RenameName(cst.CSTTransformer):
    """Rename every variable `old` to `new` (attribute names and keywords untouched)."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=self.new) if original.value == self.old else updated


# --- parallel (prange) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParallelVerdict:
    """Outcome of `parallel_blockers`: `reason` is None when iterations are independent."""

    reason: str | None
    reductions: tuple[str, ...] = ()
    assumes_no_overlap: tuple[tuple[str, str], ...] = ()


_REDUCTION_OPS = (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign)


_SEQUENCE_LITERALS = (
    cst.List,
    cst.Tuple,
    cst.ListComp,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
)


def _reduction_statement(stmt: cst.BaseSmallStatement, name: str) -> bool:
    """`name += e`, `name -= e`, `name *= e`, `name = name + e`, `name = name * e` with e free of name.

    Not with a list, tuple or string literal operand: concatenation is not commutative."""
    operand = getattr(stmt, "value", None)
    if isinstance(operand, cst.BinaryOperation):
        operand = operand.right
    if isinstance(operand, _SEQUENCE_LITERALS):
        return False
    if isinstance(stmt, cst.AugAssign):
        return (
            isinstance(stmt.target, cst.Name)
            and stmt.target.value == name
            and isinstance(stmt.operator, _REDUCTION_OPS)
            and name not in names_in(stmt.value)
        )
    if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0].target
        value = stmt.value
        return (
            isinstance(target, cst.Name)
            and target.value == name
            and isinstance(value, cst.BinaryOperation)
            and isinstance(value.operator, (cst.Add, cst.Multiply))
            and isinstance(value.left, cst.Name)
            and value.left.value == name
            and name not in names_in(value.right)
        )
    return False


def _first_occurrence_is_binding(
    body: cst.BaseSuite, name: str, through_loops: bool = True
) -> bool:
    """True if `name` is private to each iteration of the loop whose body is `body`.

    That is: the first statement mentioning `name` is an unconditional top-level
    `name = <expr without name>` (also as a plain element of a tuple target,
    `a, b = x[i], y[i]`); or an `if`/`elif`/`else` whose test does not mention `name`
    and every branch of which binds it that way first; or (when `through_loops`) it is
    a nested `for name in ...` loop, or a nested `for` loop in whose body `name` is
    private in that sense, and no later statement of `body` mentions `name` (an empty
    inner loop would leave a stale value: `for j in range(i): ...` then `b[i] = j`
    reads the previous row's `j`). Without `through_loops`, only the unconditional
    assignments count: the name is then bound in every iteration, whatever the ranges
    of inner loops.
    """
    statements = (
        list(body.body) if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []
    )
    for index, stmt in enumerate(statements):
        if name not in names_in(stmt):
            continue
        if isinstance(stmt, cst.SimpleStatementLine):
            first = stmt.body[0]
            if (
                len(stmt.body) == 1
                and isinstance(first, (cst.Assign, cst.AnnAssign))
                and first.value is not None  # a bare `t: float` binds nothing
                and name not in names_in(first.value)
            ):
                targets = (
                    [t.target for t in first.targets]
                    if isinstance(first, cst.Assign)
                    else [first.target]
                )
                return any(_binds_plainly(t, name) for t in targets)
            return False
        if isinstance(stmt, cst.If):
            return _if_binds(stmt, name)
        if through_loops and isinstance(stmt, cst.For) and isinstance(stmt.target, cst.Name):
            if name in names_in(stmt.iter) or stmt.orelse is not None:
                return False
            later = statements[index + 1 :]
            if any(name in names_in(s) for s in later):
                return False  # the inner loop may run zero times: a stale value
            return stmt.target.value == name or _first_occurrence_is_binding(stmt.body, name)
        return False
    return False


def _binds_plainly(target: cst.BaseExpression, name: str) -> bool:
    """`target` binds `name` as itself or as a plain element of a tuple/list target
    that mentions `name` nowhere else (`x[t], t = ...` reads the old `t` first)."""
    if isinstance(target, cst.Name):
        return target.value == name
    if not isinstance(target, (cst.Tuple, cst.List)):
        return False
    plain = [
        e.value for e in target.elements if isinstance(e.value, cst.Name) and e.value.value == name
    ]
    others = [e.value for e in target.elements if not isinstance(e.value, cst.Name)]
    return len(plain) == 1 and not any(name in names_in(o) for o in others)


def _if_binds(stmt: cst.If, name: str) -> bool:
    """Every branch of the `if`/`elif`/`else` binds `name` unconditionally before any
    use, and no test mentions it; without an `else` some iteration may not bind it."""
    if name in names_in(stmt.test) or stmt.orelse is None:
        return False
    if not _first_occurrence_is_binding(stmt.body, name, through_loops=False):
        return False
    if isinstance(stmt.orelse, cst.If):
        return _if_binds(stmt.orelse, name)
    return _first_occurrence_is_binding(stmt.orelse.body, name, through_loops=False)


def small_statements(
    node: cst.CSTNode, own_scope_of: cst.FunctionDef | None = None
) -> list[cst.BaseSmallStatement]:
    """Every small statement under `node`, in order.

    Nested function bodies are included, unless `own_scope_of` is given: then only
    that function's own statements count (nested defs, classes and lambdas skipped).
    """
    found: list[cst.BaseSmallStatement] = []

    class Collect(FastVisitor):
        def visit_SimpleStatementLine(self, line: cst.SimpleStatementLine) -> None:
            found.extend(line.body)

        def visit_SimpleStatementSuite(self, suite: cst.SimpleStatementSuite) -> None:
            found.extend(suite.body)

        def visit_FunctionDef(self, fn: cst.FunctionDef) -> bool:
            return own_scope_of is None or fn is own_scope_of

        def visit_ClassDef(self, cls: cst.ClassDef) -> bool:
            return own_scope_of is None

        def visit_Lambda(self, lam: cst.Lambda) -> bool:
            return own_scope_of is None

    Collect().visit(node)
    return found


def _header_names(body: cst.CSTNode) -> set[str]:
    """Names mentioned in the headers of compound statements (if/while tests, for targets...)."""
    found: set[str] = set()

    class Headers(FastVisitor):
        def visit_If(self, node: cst.If) -> None:
            found.update(names_in(node.test))

        def visit_While(self, node: cst.While) -> None:
            found.update(names_in(node.test))

        def visit_For(self, node: cst.For) -> None:
            found.update(names_in(node.target) | names_in(node.iter))

        def visit_IfExp(self, node: cst.IfExp) -> None:
            found.update(names_in(node.test))

    Headers().visit(body)
    return found


def _only_read_in_own_loops(body: cst.CSTNode, name: str) -> bool:
    """True if `name` is the target of nested `for name in ...` loops and is mentioned
    nowhere else in `body`: not after such a loop (an empty loop leaves the value of an
    earlier iteration: `for j in range(i, i + 1 - i % 2): pass` then `x[j]`), not before
    it, not in a loop's `else` or iterable."""
    found = False
    ok = True

    class Look(FastVisitor):
        def visit_For(self, node: cst.For) -> bool:
            nonlocal found, ok
            if isinstance(node.target, cst.Name) and node.target.value == name:
                found = True
                if name in names_in(node.iter) or (
                    node.orelse is not None and name in names_in(node.orelse)
                ):
                    ok = False
                return False  # the body reads the value this loop bound
            return True

        def visit_Name(self, node: cst.Name) -> None:
            nonlocal ok
            if node.value == name:
                ok = False

    Look().visit(body)
    return found and ok


def _comprehension_shadowing(body: cst.BaseSuite, var: str) -> str | None:
    """A name a comprehension in `body` binds that the loop also uses outside any
    comprehension (the loop variable included), or None. The comprehension's own `i`
    makes `out[i]` inside it read another element than the loop's `out[i]`."""
    targets: set[str] = set()
    outside: set[str] = {var}

    class Look(FastVisitor):
        def visit_CompFor(self, node: cst.CompFor) -> None:
            targets.update(names_in(node.target))

    class Outside(FastVisitor):
        def visit_ListComp(self, node: cst.CSTNode) -> bool:
            return False

        visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

        def visit_Name(self, node: cst.Name) -> None:
            outside.add(node.value)

    Look().visit(body)
    if not targets:
        return None
    Outside().visit(body)
    both = targets & outside
    return sorted(both)[0] if both else None


def _distinct_elements(
    expr: cst.BaseExpression | None,
    var: str,
    bounds: tuple[str, str, str],
    nonneg_names: frozenset[str] = frozenset(),
) -> bool:
    """True if index component `expr` provably names a different element in each
    iteration of `for var in range(*bounds)` (step 1): `k * var + c` (k > 0, integer
    literals) that is never negative over the range (Python wraps negative indices:
    `out[i - n]` over `range(2 * n)` writes each element twice), or `stop - var` /
    `stop - 1 - var` with `stop` the range's own stop. Any other name may be an integer
    array, a fancy index (`out[i + offs]` with `offs = [0, 1]` writes two elements per
    iteration), unless it is one of `nonneg_names` (`nonnegative_int_names`) added
    with a positive coefficient (`out[i + half]`, `half = len(w) // 2`). `out[i]` over `range(lo, hi)` with a symbolic `lo` is assumed not
    negative (a negative start meets another iteration only if the loop runs more
    times than `out` is long)."""
    if expr is None:
        return False

    def atom(node: cst.BaseExpression) -> str | None:
        """`var`, or a leaf without it named by its code (`n`, `len(x)`)."""
        if isinstance(node, cst.Name) and node.value == var:
            return var
        return None if var in names_in(node) else code_of(node)

    index = to_affine(expr, atom)
    start = to_affine(cst.parse_expression(bounds[0]), atom)
    stop = to_affine(cst.parse_expression(bounds[1]), atom)
    if index is None:
        return False
    slope = index.coef(var)
    if slope < 0 and stop is not None:
        rest = index + Affine.atom(var) - stop  # `stop - var - 1`: last index 0
        return slope == -1 and not rest.terms and rest.const in (0, -1)
    if slope <= 0:
        return False
    for atom, coef in index.terms:
        if atom != var and (coef < 0 or atom not in nonneg_names):
            return False
    if start is None or start.terms:
        return index == Affine.atom(var) and not bounds[0].lstrip().startswith("-")
    return slope * start.const + index.const >= 0  # the other terms only add


def parallel_blockers(
    loop: cst.For,
    imports: ImportedNames,
    relation: Relation_fn,
    used_elsewhere: set[str],
    local_functions: Iterable[str] = (),
    nonneg_names: frozenset[str] = frozenset(),
) -> ParallelVerdict:
    """Decide whether the iterations of `loop` may run in any order (Numba `prange`).

    Legal when: the loop is `for i in range(...)` with no side effects or early exits;
    every scalar it binds is either private (bound unconditionally at the top of the
    body before any use, and not used outside the loop) or a recognised reduction
    (`s += e`, `s -= e`, `s *= e`, `s = s + e`, `s = s * e`, the only mentions of `s`
    in the body); every array it writes is accessed everywhere in the loop at one
    index component that is the same affine, injective function of `i`, and not
    used as a whole; the loop variable is not used after the loop.
    """
    if not simple_range_loop(loop):
        return ParallelVerdict("not a `for x in range(...)` loop without `else`")
    assert isinstance(loop.target, cst.Name)
    var = loop.target.value
    if var in used_elsewhere:
        return ParallelVerdict(f"the loop variable `{var}` is used outside the loop")
    bounds = range_args(loop)
    assert bounds is not None
    if bounds[2] != "1":
        # Numba: "Only constant step size of 1 is supported for prange"
        return ParallelVerdict("the range has a step other than 1 (prange accepts only 1)")
    summary = scan_loop_body(loop.body, imports, local_functions)
    if summary.effects:
        return ParallelVerdict(f"the loop {summary.effects[0]}")
    if var in summary.bound:
        return ParallelVerdict(f"the loop variable `{var}` is rebound in the body")
    shadowing = _comprehension_shadowing(loop.body, var)
    if shadowing is not None:
        return ParallelVerdict(
            f"a comprehension in the loop binds `{shadowing}`, a name the loop also uses"
        )
    reductions: list[str] = []
    statements = small_statements(loop.body)
    headers = _header_names(loop.body)
    for name in sorted(summary.bound - {var}):
        mentions = [s for s in statements if name in names_in(s)]
        if (
            mentions
            and name not in headers
            and all(_reduction_statement(s, name) for s in mentions)
        ):
            if name in summary.inner_targets:
                return ParallelVerdict(f"`{name}` is both a loop variable and a reduction")
            if len(mentions) > 1:
                # Numba's prange accepts one reduction statement per variable
                return ParallelVerdict(
                    f"`{name}` is updated by {len(mentions)} reduction statements "
                    "(Numba's prange accepts one)"
                )
            reductions.append(name)
            continue
        if name in used_elsewhere:
            return ParallelVerdict(f"`{name}` is carried out of the loop")
        if (
            name in summary.inner_targets and _only_read_in_own_loops(loop.body, name)
        ) or _first_occurrence_is_binding(loop.body, name):
            continue
        return ParallelVerdict(f"`{name}` carries a value from one iteration to the next")
    variant = summary.bound - {var}
    written = summary.arrays_written()
    for array in sorted(written):
        if array in summary.whole:
            return ParallelVerdict(f"`{array}` is written and also used as a whole array")
        if array in summary.bound:
            return ParallelVerdict(f"`{array}` is rebound inside the loop")
        dims = injective_dims(summary.accesses_to(array), var, variant)
        first = summary.accesses_to(array)[0]
        if dims and not any(
            _distinct_elements(first.exprs[d], var, bounds, nonneg_names - summary.bound)
            for d in dims
        ):
            return ParallelVerdict(
                f"`{array}[{', '.join(first.index)}]` may not be one element per iteration: "
                "a negative index wraps around, an array offset is a fancy index"
            )
        if not dims:
            indices = sorted({", ".join(a.index) for a in summary.accesses_to(array)})
            return ParallelVerdict(
                f"loop-carried dependence on `{array}` (accessed as "
                + ", ".join(f"`{array}[{i}]`" for i in indices)
                + ")"
            )
    overlaps: set[tuple[str, str]] = set()
    accessed = {a.array for a in summary.accesses}
    for w in written:
        for r in accessed - {w}:
            # a name bound in the loop (`e = d`) may alias `w` too: the oracle decides
            kind = relation(w, r)
            if kind is Memory.DISJOINT:
                continue
            if kind is Memory.SAME:
                if _same_injective_access(
                    summary.accesses_to(w) + summary.accesses_to(r), var, variant
                ):
                    continue
                return ParallelVerdict(f"`{w}` and `{r}` name the same array at different indices")
            if kind is Memory.OVERLAP:
                return ParallelVerdict(f"`{w}` and `{r}` are views of one array")
            overlaps.add(tuple(sorted((w, r))))  # type: ignore[arg-type]
    return ParallelVerdict(None, tuple(reductions), tuple(sorted(overlaps)))


def names_outside(func: cst.FunctionDef, excluded: Sequence[cst.CSTNode]) -> set[str]:
    """Names whose values `func` may read outside the statements in `excluded` (by identity).

    Parameters count. Inside another `for x in ...` loop, `x` is not counted: that loop
    binds it before reading it, so it never sees a value left by an excluded statement.

    The passes ask this for every loop of a function, so the whole function is walked
    once (`_NameCounts`: how often each name is counted, and the loop variables in
    scope at each statement) and each question only walks the excluded statements:
    the answer is the names whose count does not drop to zero.
    """
    index = _name_counts(func)
    excluded_ids = {id(n) for n in excluded}
    removed: dict[str, int] = {}
    seen: set[int] = set()
    for node in excluded:
        if not isinstance(node, cst.BaseStatement):
            return _names_outside_slow(func, excluded)
        shadowed = index.shadow.get(id(node))
        if shadowed is None or id(node) in seen:
            continue  # never reached by the walk (it removes nothing), or a repeat
        seen.add(id(node))
        # stopping at the other excluded statements: one inside `node` removes its own names
        _count_names(node, shadowed, removed, None, excluded_ids, root=True)
    counts = index.counts
    found = set(counts)
    for name, times in removed.items():
        if counts[name] == times:
            found.discard(name)
    found.update(_params(func))
    return found


#: node type -> True for statements (where `_NameCounts` records the loop variables)
_IS_STATEMENT: dict[type, bool] = {}


@dataclass
class _NameCounts:
    """Name counts of one function's body, for `names_outside`."""

    func: cst.FunctionDef
    counts: dict[str, int]  # name -> times the walk counts it
    shadow: dict[int, frozenset[str]]  # id(statement) -> loop variables not counted there


@functools.lru_cache(maxsize=8)  # the last few functions: their loops are asked in turn
def _name_counts(func: cst.FunctionDef) -> _NameCounts:
    """The name counts of `func` (libcst nodes hash and compare by identity)."""
    counts: dict[str, int] = {}
    shadow: dict[int, frozenset[str]] = {}
    _count_names(func.body, frozenset(), counts, shadow, None, root=True)
    return _NameCounts(func, counts, shadow)


def _count_names(
    node: cst.CSTNode,
    shadowed: frozenset[str],
    counts: dict[str, int],
    shadow: dict[int, frozenset[str]] | None,
    excluded_ids: set[int] | None,
    *,
    root: bool = False,
) -> None:
    """Count the names `_names_outside_slow`'s walk finds under `node` (stopping at
    `excluded_ids`, except at `node` itself when `root`); record in `shadow` the loop
    variables in scope at each statement."""
    kind = type(node)
    if not root and excluded_ids is not None and id(node) in excluded_ids:
        return
    if kind is cst.Name:
        value = node.value  # type: ignore[attr-defined]
        if value not in shadowed:
            counts[value] = counts.get(value, 0) + 1
        return
    if kind is cst.Attribute or kind is cst.Arg:
        _count_names(node.value, shadowed, counts, shadow, excluded_ids)  # type: ignore[attr-defined]
        return
    if shadow is not None:
        statement = _IS_STATEMENT.get(kind)
        if statement is None:
            statement = _IS_STATEMENT[kind] = issubclass(kind, cst.BaseStatement)
        if statement:
            shadow[id(node)] = shadowed
    if kind is cst.For and type(node.target) is cst.Name:  # type: ignore[attr-defined]
        loop: cst.For = node  # type: ignore[assignment]
        _count_names(loop.iter, shadowed, counts, shadow, excluded_ids)
        inner = shadowed | {loop.target.value}  # type: ignore[attr-defined]
        _count_names(loop.body, inner, counts, shadow, excluded_ids)
        if loop.orelse is not None:  # runs also when the loop ran zero times
            _count_names(loop.orelse, shadowed, counts, shadow, excluded_ids)
        return
    for child in ordered_children(node):
        _count_names(child, shadowed, counts, shadow, excluded_ids)


def _names_outside_slow(func: cst.FunctionDef, excluded: Sequence[cst.CSTNode]) -> set[str]:
    """`names_outside` by one walk of `func` (for exclusions that are not statements)."""
    excluded_ids = {id(n) for n in excluded}
    found: set[str] = set()

    def walk(node: cst.CSTNode, shadowed: frozenset[str]) -> None:
        if id(node) in excluded_ids:
            return
        if isinstance(node, cst.Name):
            if node.value not in shadowed:
                found.add(node.value)
            return
        if isinstance(node, cst.Attribute):
            walk(node.value, shadowed)
            return
        if isinstance(node, cst.Arg):
            walk(node.value, shadowed)
            return
        if isinstance(node, cst.For) and isinstance(node.target, cst.Name):
            walk(node.iter, shadowed)
            inner = shadowed | {node.target.value}
            walk(node.body, inner)
            if node.orelse is not None:  # runs also when the loop ran zero times
                walk(node.orelse, shadowed)
            return
        for child in ordered_children(node):
            walk(child, shadowed)

    walk(func.body, frozenset())
    found.update(_params(func))
    return found


def _params(func: cst.FunctionDef) -> list[str]:
    params = func.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    names = [p.name.value for p in every]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return names


def base_name(expr: cst.BaseExpression) -> str | None:
    """The name at the bottom of an `a.b[i].c(...)` chain (`W` for `W.reshape(-1)[0]`)."""
    while isinstance(expr, (cst.Subscript, cst.Attribute, cst.Call)):
        expr = expr.func if isinstance(expr, cst.Call) else expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def parameter_names(func: cst.FunctionDef) -> list[str]:
    """All parameter names of `func`, in order."""
    return _params(func)


# --- exceptions part-way through fused loops ----------------------------------------------
#
# Fusing two loops interleaves their iterations. When one of them raises part-way, the
# original leaves the first loop complete and the second partial (or the first partial and
# the second untouched); the fused loop leaves both partial. That is invisible only for
# arrays (and scalars) nobody can look at after the exception: locals allocated by the
# function that never escaped, outside any `try`/`with` of the function. When both loops
# may raise, which exception surfaces can change too (an IndexError in the first loop at
# iteration 5 is preceded by a ZeroDivisionError of the second loop at iteration 2).


def possible_alias_dependence(
    first: cst.For,
    second: cst.For,
    verdict: FusionVerdict,
    imports: ImportedNames,
    local_functions: Iterable[str] = (),
) -> str | None:
    """Why the names `verdict` assumes not to overlap would break the fusion if they did.

    Two names that may be the same memory (two parameters, say) are checked as if they
    were one array: all their accesses, in both loops, must share one index component
    that is the same affine, injective function of the loop variable, and neither may
    be used as a whole array; otherwise the caller passing one array twice (or
    overlapping slices) would see different results (`f(x, x)`).
    """
    if not verdict.assumes_no_overlap:
        return None
    assert isinstance(first.target, cst.Name)
    var = first.target.value
    body2 = second.body
    if verdict.rename is not None:
        renamed = body2.visit(RenameName(*verdict.rename))
        assert isinstance(renamed, cst.BaseSuite)
        body2 = renamed
    s1 = scan_loop_body(first.body, imports, local_functions)
    s2 = scan_loop_body(body2, imports, local_functions)
    variant = (s1.bound | s2.bound) - {var}
    for a, b in verdict.assumes_no_overlap:
        accesses = s1.accesses_to(a) + s1.accesses_to(b) + s2.accesses_to(a) + s2.accesses_to(b)
        whole = {a, b} & (s1.whole | s2.whole)
        if whole:
            return f"`{sorted(whole)[0]}` may be the same array as another and is used whole"
        if not injective_dims(accesses, var, variant):
            return (
                f"`{a}` and `{b}` may be the same array (the caller can pass one array "
                "twice), accessed at different indices"
            )
    return None


def whole_alias_reads(
    first: cst.For,
    second: cst.For,
    relation: Relation_fn,
    imports: ImportedNames,
    local_functions: Iterable[str] = (),
) -> str | None:
    """Why an array written by one loop may be read whole, under another name, by the
    other loop (`out[i] = ...` then `t[i] = x[i] / np.sum(y)` with `y` possibly `out`):
    `fusion_blockers` only compares names both loops subscript. Names given whole to a
    call or used as a method's object count as whole-array reads."""
    s1 = scan_loop_body(first.body, imports, local_functions)
    s2 = scan_loop_body(second.body, imports, local_functions)
    for own, other, other_body in ((s1, s2, second.body), (s2, s1, first.body)):
        passed = _whole_call_operands(other_body, imports) - other.bound
        for w in sorted(own.arrays_written()):
            for r in sorted(passed):
                if r != w and relation(w, r) is not Memory.DISJOINT:
                    return f"`{r}` may be the same array as `{w}` and is read whole"
    return None


def _whole_call_operands(body: cst.CSTNode, imports: ImportedNames) -> set[str]:
    """Names given whole to a call (`np.sum(y)`, not `len(y)`, `range(n)`) or used as a method's
    object (`y.sum()`, not a module's function `np.sqrt`)."""
    found: set[str] = set()

    class Look(FastVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if not (isinstance(func, cst.Name) and func.value in ("len", "range")):
                for arg in node.args:
                    if isinstance(arg.value, cst.Name):
                        found.add(arg.value.value)
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and imports.qualify(func) is None
            ):
                found.add(func.value.value)

    Look().visit(body)
    return found
