"""Fast read-only traversal of libcst trees.

`CSTNode.visit()` rebuilds every node it passes (it is built for transformers)
and `CSTNode.children` does the same; on a 1,000-line module that costs seconds.
The analyses only read, so they walk the dataclass fields directly, skipping
whitespace, parentheses and punctuation, which hold no names. Also small readers
of literal nodes that several passes share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import libcst as cst

_SKIP_FIELDS = frozenset(
    {"lpar", "rpar", "leading_lines", "lines_after_decorators", "comma", "semicolon",
     "header", "footer", "trailing_whitespace", "operator", "equal", "colon", "star",
     "whitespace_after_star", "whitespace_after_param", "default_comma"}
)  # fmt: skip

_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in _SKIP_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[kind] = names
    return names


#: type -> whether its instances are libcst nodes (filled by `is_node`; the hot walks
#: read it directly)
IS_NODE: dict[type, bool] = {}


def is_node(value: object) -> bool:
    """`isinstance(value, CSTNode)` without the slow ABC check (cached per type)."""
    kind = type(value)
    known = IS_NODE.get(kind)
    if known is None:
        known = isinstance(value, cst.CSTNode)
        IS_NODE[kind] = known
    return known


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes of `node` that can contain code (in field order)."""
    for name in _field_names(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:  # type: ignore[attr-defined]
                if is_node(item):
                    yield item
        elif is_node(value):
            yield value  # type: ignore[misc]


def walk(
    node: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | None = None
) -> Iterator[cst.CSTNode]:
    """Pre-order walk of `node` and its descendants; children of pruned nodes are skipped
    (the pruned node itself is still yielded)."""
    # `iter_children` inlined: this loop runs for every node the analyses read
    fields = _FIELDS
    known = IS_NODE
    stack = [node]
    pop = stack.pop
    push = stack.append
    while stack:
        current = pop()
        yield current
        if prune is not None and current is not node and prune(current):
            continue
        kind = type(current)
        names = fields.get(kind)
        if names is None:
            names = _field_names(kind)
        for name in reversed(names):
            value = getattr(current, name)
            vkind = type(value)
            if vkind is list or vkind is tuple:
                for item in reversed(value):  # type: ignore[call-overload]
                    node_kind = known.get(type(item))
                    if node_kind is None:
                        node_kind = is_node(item)
                    if node_kind:
                        push(item)
            else:
                node_kind = known.get(vkind)
                if node_kind is None:
                    node_kind = is_node(value)
                if node_kind:
                    push(value)  # type: ignore[arg-type]


#: node types that open a scope (concrete classes: a `type() in` test avoids the slow
#: ABC `isinstance` of libcst nodes in the hottest loops)
_SCOPE_TYPES = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})


def is_scope(node: cst.CSTNode) -> bool:
    """Nested function, class or lambda: a separate scope."""
    return type(node) in _SCOPE_TYPES


def names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    """Every Name node under `node` (including attribute names and call targets)."""
    name = cst.Name
    for n in walk(node):
        if type(n) is name:
            yield n  # type: ignore[misc]


def _concrete_subclasses(base: type) -> set[type]:
    """The node classes libcst exports that derive from `base`."""
    return {
        kind
        for kind in vars(cst).values()
        if isinstance(kind, type)
        and issubclass(kind, base)
        and not kind.__name__.startswith("Base")
    }


#: node types that can hold statements: the module, compound statements, suites and the
#: clauses of compound statements (every other node is an expression, a small statement
#: or punctuation, which never holds a statement)
STATEMENT_HOLDERS = frozenset(
    {
        cst.Module,
        cst.Else,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.Finally,
        cst.MatchCase,
        *_concrete_subclasses(cst.BaseCompoundStatement),
        *_concrete_subclasses(cst.BaseSuite),
    }
)


def walk_statements(node: cst.CSTNode, into_scopes: bool = True) -> Iterator[cst.CSTNode]:
    """Pre-order walk of `node` entering only statement holders (so much cheaper than
    `walk` for finding statements: expressions are yielded when they are direct children
    of a holder, never entered). With `into_scopes=False` nested functions, classes are
    yielded but not entered."""
    holders = STATEMENT_HOLDERS
    if into_scopes:
        return walk(node, prune=lambda c: type(c) not in holders)
    scopes = _SCOPE_TYPES
    return walk(node, prune=lambda c: type(c) not in holders or type(c) in scopes)


def signed(node: cst.CSTNode) -> tuple[int, cst.CSTNode]:
    """(sign, operand) of `node` under any unary `-`/`+` (`-(1)`, `+-2.5`)."""
    sign = 1
    while type(node) is cst.UnaryOperation and type(node.operator) in (cst.Minus, cst.Plus):
        if type(node.operator) is cst.Minus:
            sign = -sign
        node = node.expression
    return sign, node


def int_literal(node: cst.CSTNode) -> int | None:
    """The value of an integer literal, negated ones (`-300`, `-(1)`) included."""
    sign, node = signed(node)
    if type(node) is not cst.Integer:
        return None
    return sign * int(node.evaluated_value)
