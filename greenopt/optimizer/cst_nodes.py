"""Fast read-only traversal of libcst trees.

`CSTNode.visit()` rebuilds every node it passes (it is built for transformers)
and `CSTNode.children` does the same; on a 1,000-line module that costs seconds.
The analyses only read, so they walk the dataclass fields directly, skipping
whitespace, parentheses and punctuation, which hold no names.
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


_IS_NODE: dict[type, bool] = {}


def _is_node(value: object) -> bool:
    """`isinstance(value, CSTNode)` without the slow ABC check (cached per type)."""
    kind = type(value)
    known = _IS_NODE.get(kind)
    if known is None:
        known = isinstance(value, cst.CSTNode)
        _IS_NODE[kind] = known
    return known


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes of `node` that can contain code (in field order)."""
    for name in _field_names(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:  # type: ignore[attr-defined]
                if _is_node(item):
                    yield item
        elif _is_node(value):
            yield value  # type: ignore[misc]


def walk(
    node: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | None = None
) -> Iterator[cst.CSTNode]:
    """Pre-order walk of `node` and its descendants; children of pruned nodes are skipped
    (the pruned node itself is still yielded)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if prune is not None and current is not node and prune(current):
            continue
        children = list(iter_children(current))
        children.reverse()
        stack.extend(children)


def is_scope(node: cst.CSTNode) -> bool:
    """Nested function, class or lambda: a separate scope."""
    return isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda))


def names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    """Every Name node under `node` (including attribute names and call targets)."""
    for n in walk(node):
        if isinstance(n, cst.Name):
            yield n
