"""Per-function facts about names: qualified names, parameters, stores and loads.

The analyses are flow-insensitive over one function body (nested functions and
classes are separate): a name is "fresh" only if every store to it is a fresh
allocation, an index is "unused after the loop" only if every load of it is inside
a loop that binds it. This keeps them simple and conservative.

Every binding form counts as a store: assignment (single, chained, annotated,
augmented), walrus, tuple/star unpacking, `for`, `with ... as`, `except ... as`,
`match`/`case` captures, imports, `def`/`class`, and a rebinding from a nested
function or class through `nonlocal` (or a walrus in a nested scope); only the
plain forms carry their value, the others store None ("value unknown").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from greenopt.optimizer.cst_nodes import is_scope, walk, walk_statements
from greenopt.optimizer.numpy_names import NameResolver


@dataclass
class FunctionFacts:
    """What one function does with names.

    `stores[name]` lists the value expression of every store (None when the
    value is not a single expression: for-loop targets, tuple unpacking, with,
    augmented assignment...). `loads[name]` lists every Name node that reads it.
    """

    node: cst.FunctionDef
    qualname: str
    params: tuple[str, ...]
    stores: dict[str, list[cst.BaseExpression | None]] = field(default_factory=dict)
    unpack_sources: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    loads: dict[str, list[cst.Name]] = field(default_factory=dict)
    declared_nonlocal: set[str] = field(default_factory=set)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    rebound_in_nested: set[str] = field(default_factory=set)

    def stored_only_from(self, name: str) -> list[cst.BaseExpression] | None:
        """The values stored to `name` if all stores are simple assignments, else None."""
        values = self.stores.get(name, [])
        if any(v is None for v in values):
            return None
        return [v for v in values if v is not None]


@dataclass(frozen=True)
class Binding:
    """One binding of a name, as the alias analysis needs it.

    `kind` is `"assign"` for `name = value` / `name: T = value` with one target,
    `"chained"` for `a = b = value` (`targets` lists every target in order, all
    plain names), and `"other"` for every form whose value is not one expression
    bound to this name alone (walrus, unpacking, `for`, `with`, `except`,
    `match`, augmented assignment, imports, `def`/`class`, a chained assignment
    with a subscript/attribute/tuple target, rebinding from a nested scope).
    """

    kind: str
    value: cst.BaseExpression | None = None
    targets: tuple[str, ...] = ()


def iter_functions(module: cst.Module) -> Iterator[tuple[cst.FunctionDef, str]]:
    """Every function in `module` with its qualified name (`f`, `C.m`, `f.<locals>.g`)."""

    def visit(node: cst.CSTNode, prefix: str) -> Iterator[tuple[cst.FunctionDef, str]]:
        for child in walk_statements(node, into_scopes=False):
            if child is node:
                continue
            if type(child) is cst.FunctionDef:
                qual = f"{prefix}{child.name.value}"
                yield child, qual
                yield from visit(child.body, f"{qual}.<locals>.")
            elif type(child) is cst.ClassDef:
                yield from visit(child.body, f"{prefix}{child.name.value}.")

    yield from visit(module, "")


def _bind(facts: FunctionFacts, name: str, binding: Binding) -> None:
    facts.bindings.setdefault(name, []).append(binding)


def _other(facts: FunctionFacts, name: str) -> None:
    """A store whose value is unknown (None) and a binding of kind "other"."""
    facts.stores.setdefault(name, []).append(None)
    _bind(facts, name, Binding("other"))


def _store(
    facts: FunctionFacts,
    target: cst.BaseExpression,
    value: cst.BaseExpression | None,
    binding: Binding | None = None,
) -> None:
    """Record a store to `target`; `binding` (for a plain name target) says how it binds."""
    if type(target) is cst.Name:
        facts.stores.setdefault(target.value, []).append(value)
        _bind(facts, target.value, binding if binding is not None else Binding("other"))
    elif type(target) in (cst.Tuple, cst.List):
        for el in target.elements:
            inner = el.value
            if type(inner) is cst.Name and value is not None:
                facts.unpack_sources.setdefault(inner.value, []).append(value)
            _store(facts, inner, None)
    elif type(target) is cst.StarredElement:
        _store(facts, target.value, None)


def _store_assign(facts: FunctionFacts, node: cst.Assign) -> None:
    """`a = value` binds plainly; `a = b = value` binds every plain name as a chain."""
    if len(node.targets) == 1:
        target = node.targets[0].target
        _store(facts, target, node.value, Binding("assign", node.value))
        return
    targets = [t.target for t in node.targets]
    names = tuple(t.value for t in targets if type(t) is cst.Name)
    chained = len(names) == len(targets)
    for target in targets:
        binding = Binding("chained", node.value, names) if chained else Binding("other")
        _store(facts, target, node.value, binding)


def _match_captures(pattern: cst.CSTNode) -> Iterator[str]:
    """Names a `case` pattern binds (`case b`, `case [x, *rest]`, `case {**kw}`, `... as n`)."""
    for node in walk(pattern):
        if type(node) is cst.MatchAs and node.name is not None:
            yield node.name.value
        elif type(node) is cst.MatchStar and node.name is not None:
            yield node.name.value
        elif type(node) is cst.MatchMapping and node.rest is not None:
            yield node.rest.value


def _nested_rebinds(scope: cst.CSTNode) -> Iterator[str]:
    """Names a nested function, class or lambda may rebind in the enclosing function:
    its `nonlocal` names, and (over-approximating) every walrus target inside it, since a
    walrus in a default value, decorator or comprehension binds in the enclosing scope."""
    for node in walk(scope):
        if type(node) is cst.Nonlocal:
            yield from (n.name.value for n in node.names)
        elif type(node) is cst.NamedExpr and type(node.target) is cst.Name:
            yield node.target.value


def _collect(facts: FunctionFacts) -> None:
    """Stores and loads of names in one function body (nested scopes excluded, except
    for the names they rebind in this one)."""
    for node in walk(facts.node.body, prune=is_scope):
        if type(node) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            if type(node) is not cst.Lambda:
                _other(facts, node.name.value)
            facts.rebound_in_nested.update(_nested_rebinds(node))
        elif type(node) is cst.Assign:
            _store_assign(facts, node)
        elif type(node) is cst.AnnAssign:
            binding = Binding("assign", node.value) if node.value is not None else None
            _store(facts, node.target, node.value, binding)
        elif type(node) is cst.AugAssign:
            _store(facts, node.target, None)
        elif type(node) is cst.NamedExpr:
            _store(facts, node.target, node.value)
        elif type(node) is cst.For:
            _store(facts, node.target, None)
        elif type(node) is cst.WithItem:
            if node.asname is not None:
                _store(facts, node.asname.name, None)
        elif type(node) in (cst.ExceptHandler, cst.ExceptStarHandler):
            if node.name is not None:
                _store(facts, node.name.name, None)
        elif type(node) is cst.MatchCase:
            for name in _match_captures(node.pattern):
                _other(facts, name)
        elif type(node) is cst.TypeAlias:
            _other(facts, node.name.value)
        elif type(node) is cst.Import:
            for alias in node.names:
                name = alias.asname.name if alias.asname else alias.name
                while type(name) is cst.Attribute:
                    name = name.value
                if type(name) is cst.Name:
                    _other(facts, name.value)
        elif type(node) is cst.ImportFrom:
            if type(node.names) is cst.ImportStar:
                continue
            for alias in node.names:
                name = alias.asname.name if alias.asname else alias.name
                if type(name) is cst.Name:
                    _other(facts, name.value)
        elif type(node) in (cst.Global, cst.Nonlocal):
            facts.declared_nonlocal.update(n.name.value for n in node.names)
        elif type(node) is cst.Name:
            facts.loads.setdefault(node.value, []).append(node)
    for name in sorted(facts.rebound_in_nested):
        _other(facts, name)


def function_facts(node: cst.FunctionDef, qualname: str) -> FunctionFacts:
    """Collect the FunctionFacts of one function definition."""
    params: list[str] = []
    p = node.params
    for param in (*p.posonly_params, *p.params, *p.kwonly_params):
        params.append(param.name.value)
    for star in (p.star_arg, p.star_kwarg):
        if type(star) is cst.Param:
            params.append(star.name.value)
    facts = FunctionFacts(node=node, qualname=qualname, params=tuple(params))
    _collect(facts)
    return facts


def nonneg_names(facts: FunctionFacts, resolver: NameResolver) -> set[str]:
    """Names provably >= 0 whenever read: bound only from `len(...)`, `x.shape[k]`,
    `x.size`, `x.ndim`, non-negative integer literals, or unpacked from `x.shape`."""
    out: set[str] = set()
    for name, values in facts.stores.items():
        if name in facts.params or name in facts.declared_nonlocal:
            continue
        if all(v is None for v in values) and name in facts.unpack_sources:
            if all(_is_shape(src) for src in facts.unpack_sources[name]) and len(values) == len(
                facts.unpack_sources[name]
            ):
                out.add(name)
            continue
        if values and all(v is not None and is_nonneg_size(v, resolver) for v in values):
            out.add(name)
    return out


def is_nonneg_size(node: cst.BaseExpression, resolver: NameResolver) -> bool:
    """`len(x)`, `x.shape[k]`, `x.size`, `x.ndim` or a non-negative integer literal."""
    if type(node) is cst.Integer:
        return True
    if (
        type(node) is cst.Call
        and resolver.is_builtin(node.func, "len")
        and len(node.args) == 1
        and node.args[0].star == ""
    ):
        return True
    if type(node) is cst.Attribute and node.attr.value in ("size", "ndim"):
        return True
    if type(node) is cst.Subscript and _is_shape(node.value) and len(node.slice) == 1:
        elem = node.slice[0].slice
        return type(elem) is cst.Index and type(elem.value) is cst.Integer
    return False


def _is_shape(node: cst.BaseExpression) -> bool:
    return type(node) is cst.Attribute and node.attr.value == "shape"
