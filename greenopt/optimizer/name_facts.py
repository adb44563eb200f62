"""Per-function facts about names: qualified names, parameters, stores and loads.

The analyses are flow-insensitive over one function body (nested functions and
classes are separate): a name is "fresh" only if every store to it is a fresh
allocation, an index is "unused after the loop" only if every load of it is inside
a loop that binds it. This keeps them simple and conservative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

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

    def stored_only_from(self, name: str) -> list[cst.BaseExpression] | None:
        """The values stored to `name` if all stores are simple assignments, else None."""
        values = self.stores.get(name, [])
        if any(v is None for v in values):
            return None
        return [v for v in values if v is not None]


def iter_functions(module: cst.Module) -> Iterator[tuple[cst.FunctionDef, str]]:
    """Every function in `module` with its qualified name (`f`, `C.m`, `f.<locals>.g`)."""

    def walk(body: object, prefix: str) -> Iterator[tuple[cst.FunctionDef, str]]:
        for child in _children(body):
            if isinstance(child, cst.FunctionDef):
                qual = f"{prefix}{child.name.value}"
                yield child, qual
                yield from walk(child.body, f"{qual}.<locals>.")
            elif isinstance(child, cst.ClassDef):
                yield from walk(child.body, f"{prefix}{child.name.value}.")
            else:
                yield from walk(child, prefix)

    yield from walk(module, "")


def _children(node: object) -> list[cst.CSTNode]:
    if isinstance(node, cst.CSTNode):
        return list(node.children)
    return []


class _FactsCollector(cst.CSTVisitor):
    """Collects stores and loads of names in one function body (not nested scopes)."""

    def __init__(self, facts: FunctionFacts) -> None:
        self.facts = facts
        self.depth = 0

    def _store(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.facts.stores.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                inner = el.value
                if isinstance(inner, cst.Name) and value is not None:
                    self.facts.unpack_sources.setdefault(inner.value, []).append(value)
                self._store(inner, None)
        elif isinstance(target, cst.StarredElement):
            self._store(target.value, None)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is self.facts.node:
            return True
        self.facts.stores.setdefault(node.name.value, []).append(None)
        return False  # nested function: separate facts

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.facts.stores.setdefault(node.name.value, []).append(None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._store(t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._store(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._store(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._store(node.asname.name, None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._store(node.name.name, None)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        pass  # comprehension variables live in their own scope

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            while isinstance(name, cst.Attribute):
                name = name.value
            if isinstance(name, cst.Name):
                self.facts.stores.setdefault(name.value, []).append(None)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            if isinstance(name, cst.Name):
                self.facts.stores.setdefault(name.value, []).append(None)

    def visit_Global(self, node: cst.Global) -> None:
        self.facts.declared_nonlocal.update(n.name.value for n in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.facts.declared_nonlocal.update(n.name.value for n in node.names)

    def visit_Name(self, node: cst.Name) -> None:
        self.facts.loads.setdefault(node.value, []).append(node)


def function_facts(node: cst.FunctionDef, qualname: str) -> FunctionFacts:
    """Collect the FunctionFacts of one function definition."""
    params: list[str] = []
    p = node.params
    for param in (*p.posonly_params, *p.params, *p.kwonly_params):
        params.append(param.name.value)
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            params.append(star.name.value)
    facts = FunctionFacts(node=node, qualname=qualname, params=tuple(params))
    node.body.visit(_FactsCollector(facts))
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
    if isinstance(node, cst.Integer):
        return True
    if (
        isinstance(node, cst.Call)
        and resolver.is_builtin(node.func, "len")
        and len(node.args) == 1
        and node.args[0].star == ""
    ):
        return True
    if isinstance(node, cst.Attribute) and node.attr.value in ("size", "ndim"):
        return True
    if isinstance(node, cst.Subscript) and _is_shape(node.value) and len(node.slice) == 1:
        elem = node.slice[0].slice
        return isinstance(elem, cst.Index) and isinstance(elem.value, cst.Integer)
    return False


def _is_shape(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "shape"
