"""What a module does with its global names, for passes that compile functions.

Numba freezes the module globals a function reads when it compiles the function, and
`cache=True` keeps the frozen values across processes. A jitted function that reads a
global that other code rebinds (`global DT` in a setter), mutates (`W[0] = 1`) or
computes at import time (`N = int(os.environ["N"])`) would silently keep the first
value. Likewise, jitting a helper changes every other caller of it. `module_facts`
collects, once per module, the global bindings, the `global` declarations, the
mutated names and who uses each name; `frozen_global_problem` and `other_users` turn
them into the jit pass's refusals.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import libcst as cst

from greenopt.passes.function_defs import iter_functions
from greenopt.passes.import_edits import ImportedNames
from greenopt.passes.int_overflow import fold_int
from greenopt.passes.legality import FastVisitor, base_name, binding_sites, parameter_names

#: methods that change an array or a list in place
MUTATING_METHODS = frozenset(
    {
        "fill", "sort", "put", "resize", "itemset", "setflags", "append", "extend",
        "insert", "pop", "remove", "clear", "update", "setdefault", "__setitem__",
    }
)  # fmt: skip
#: calls whose result is a constant when their arguments are (besides numpy/math)
_CONSTANT_BUILTINS = frozenset({"float", "int", "complex", "bool", "abs", "round", "min", "max"})


@dataclass
class ModuleFacts:
    """Module-level bindings, `global` declarations, mutations and uses of names."""

    #: name -> module-level statements binding it (top level and inside if/try/for/with)
    bindings: dict[str, list[cst.CSTNode]] = field(default_factory=dict)
    #: names bound by a plain top-level assignment (the others are conditional)
    top_level: set[str] = field(default_factory=set)
    #: name -> functions declaring it `global`
    declared_global: dict[str, list[str]] = field(default_factory=dict)
    #: names written through (`W[0] = ...`, `W += ...`, `W.fill(0)`, `W.x = ...`)
    mutated: set[str] = field(default_factory=set)
    #: name -> qualnames of the functions that use it ("<module>" for module level)
    users: dict[str, set[str]] = field(default_factory=dict)
    imports: ImportedNames | None = None


def _target_names(target: cst.BaseExpression) -> list[str]:
    """Names bound by an assignment target (tuples unpacked)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _target_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


class _Mutations(FastVisitor):
    """Names written through anywhere in the module, and who uses which name."""

    def __init__(self, facts: ModuleFacts, owner: str) -> None:
        self.facts = facts
        self.owner = owner

    def _written(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Subscript, cst.Attribute)):
            name = base_name(target)
            if name is not None:
                self.facts.mutated.add(name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # each function is visited on its own, with itself as the owner

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._written(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._written(node.target)
        if isinstance(node.target, cst.Name):
            self.facts.mutated.add(node.target.value)  # `W += 1` changes an array in place

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in MUTATING_METHODS:
            name = base_name(func.value)
            if name is not None:
                self.facts.mutated.add(name)

    def visit_Name(self, node: cst.Name) -> None:
        self.facts.users.setdefault(node.value, set()).add(self.owner)


def module_facts(tree: cst.Module) -> ModuleFacts:
    """Collect the facts of `tree` (one walk of the module and of each function)."""
    facts = ModuleFacts(imports=ImportedNames.of(tree))

    def bind(stmt: cst.CSTNode, names: list[str], top: bool) -> None:
        for name in names:
            facts.bindings.setdefault(name, []).append(stmt)
            if top:
                facts.top_level.add(name)

    def scan(body: list[cst.CSTNode] | tuple[cst.CSTNode, ...], top: bool) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            bind(small, _target_names(t.target), top and len(small.targets) == 1)
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                        bind(small, _target_names(small.target), False)
            elif isinstance(stmt, (cst.If, cst.Try, cst.For, cst.While, cst.With)):
                if isinstance(stmt, cst.For):
                    bind(stmt, _target_names(stmt.target), False)
                for child in _blocks(stmt):
                    scan(child, False)

    scan(tree.body, True)
    # a name bound twice at top level is not a constant either
    for name, nodes in facts.bindings.items():
        if len(nodes) != 1:
            facts.top_level.discard(name)
    _Mutations(facts, "<module>").visit(tree)
    for info in iter_functions(tree):
        _Mutations(facts, info.qualname).visit(info.node.body)
        _Globals(facts, info.node, info.qualname).visit(info.node)
    return facts


class _Globals(FastVisitor):
    """Records the `global` declarations of one function (not of its nested ones)."""

    def __init__(self, facts: ModuleFacts, func: cst.FunctionDef, qualname: str) -> None:
        self.facts, self.func, self.qualname = facts, func, qualname

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.func

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.facts.declared_global.setdefault(item.name.value, []).append(self.qualname)


def _blocks(stmt: cst.CSTNode) -> list[tuple[cst.CSTNode, ...]]:
    """The statement lists inside a compound module-level statement."""
    blocks: list[tuple[cst.CSTNode, ...]] = []
    for attr in ("body", "orelse", "finalbody"):
        part = getattr(stmt, attr, None)
        while part is not None:
            inner = getattr(part, "body", None)
            if isinstance(inner, cst.IndentedBlock):
                blocks.append(tuple(inner.body))
            elif isinstance(inner, (list, tuple)):
                blocks.append(tuple(inner))
            part = getattr(part, "orelse", None) if isinstance(part, cst.If) else None
    for handler in getattr(stmt, "handlers", ()):
        if isinstance(handler.body, cst.IndentedBlock):
            blocks.append(tuple(handler.body.body))
    return blocks


def _constant(expr: cst.BaseExpression, facts: ModuleFacts, seen: frozenset[str]) -> bool:
    """True if `expr` evaluates to the same value on every import: literals, arithmetic
    and tuples of them, numpy/math constants and calls on constants, and other module
    globals that are constants themselves."""
    imports = facts.imports
    if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)):
        return True
    if isinstance(expr, cst.ConcatenatedString):
        return True
    if isinstance(expr, cst.UnaryOperation):
        return _constant(expr.expression, facts, seen)
    if isinstance(expr, cst.BinaryOperation):
        return _constant(expr.left, facts, seen) and _constant(expr.right, facts, seen)
    if isinstance(expr, (cst.Tuple, cst.List)):
        return all(
            isinstance(e, cst.Element) and _constant(e.value, facts, seen) for e in expr.elements
        )
    if isinstance(expr, cst.Name):
        if expr.value in ("True", "False", "None"):
            return True
        return global_is_constant(expr.value, facts, seen)
    qualified = imports.qualify(expr) if imports is not None else None
    if isinstance(expr, cst.Attribute):
        if qualified is not None and qualified.split(".")[0] in ("numpy", "math"):
            return True
        return isinstance(expr.value, cst.Call) and _constant(expr.value, facts, seen)
    if isinstance(expr, cst.Call):
        qualified = imports.qualify(expr.func) if imports is not None else None
        func_ok = (qualified is not None and qualified.split(".")[0] in ("numpy", "math")) or (
            isinstance(expr.func, cst.Name) and expr.func.value in _CONSTANT_BUILTINS
        )
        return func_ok and all(_constant(a.value, facts, seen) for a in expr.args)
    return False


def global_is_constant(name: str, facts: ModuleFacts, seen: frozenset[str] = frozenset()) -> bool:
    """A module global bound once, at top level, to a constant expression, never
    declared `global` in a function and never written through."""
    if name in seen or name not in facts.top_level or name in facts.declared_global:
        return False
    if name in facts.mutated:
        return False
    (stmt,) = facts.bindings[name]
    return isinstance(stmt, cst.Assign) and _constant(stmt.value, facts, seen | {name})


def frozen_global_problem(
    func: cst.FunctionDef, facts: ModuleFacts, skip: AbstractSet[str]
) -> str | None:
    """Why compiling `func` would freeze a module global that can change, or None.

    `skip` are names that are not data (module functions and classes, imports).
    """
    local = set(binding_sites(func)) | set(parameter_names(func))
    read: list[str] = []

    class Reads(FastVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_Name(self, node: cst.Name) -> None:
            read.append(node.value)

    Reads().visit(func.body)
    for name in dict.fromkeys(read):
        if name in local or name in skip or name not in facts.bindings:
            continue
        if global_is_constant(name, facts):
            continue
        if name in facts.declared_global:
            why = f"`{facts.declared_global[name][0]}` rebinds it"
        elif name in facts.mutated:
            why = "it is modified in place elsewhere"
        elif name not in facts.top_level:
            why = "it is bound more than once or conditionally"
        else:
            why = "it is computed when the module is imported"
        return (
            f"reads the module global `{name}` and {why}: Numba freezes globals when it "
            "compiles (and cache=True keeps them across runs)"
        )
    return None


def other_users(name: str, facts: ModuleFacts, allowed: set[str]) -> list[str]:
    """Functions (or "<module>") other than `allowed` that use the name `name`."""
    return sorted(facts.users.get(name, set()) - allowed)


def int_constants(tree: cst.Module, facts: ModuleFacts) -> dict[str, int]:
    """Module globals bound once, by a plain top-level assignment, to an int constant
    expression (`A = 6364136223846793005`, `M = 2**61 - 1`, `B = A // 2`), never
    mutated nor declared `global`: Numba freezes them into compiled code as int64
    constants, so their size matters to `overflow_risk`. Folded, never evaluated."""
    values: dict[str, int] = {}
    for stmt in tree.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
            ):
                continue
            name = small.targets[0].target.value
            if name not in facts.top_level or name in facts.mutated:
                continue
            if name in facts.declared_global:
                continue
            value = fold_int(small.value, values)
            if value is not None:
                values[name] = value
    return values
