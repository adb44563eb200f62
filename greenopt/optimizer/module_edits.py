"""Rewriting a few statements of a large module at the cost of those statements.

`check --diff` and `check --format json|sarif` apply each fixable finding on its own,
so a file with N findings used to be transformed, regenerated and re-parsed N times in
full (quadratic: 2,000 loops in a 12,000-line file took about an hour). The helpers
here give the same text for the cost of the statements that change:

- `replace_in_statements` runs a transformer on the top-level statements that hold
  the wanted loops only (found through a per-tree index of loop positions);
- `module_code` is `tree.code`, reusing the generated text of every top-level
  statement shared with the original tree (generated once per tree);
- `parsed_on_demand` returns the `SourceModule` of the new text, whose libcst tree
  is parsed on first use: the new text is only checked to parse, statement by
  statement, and parsed in full where a caller reads `.tree`.

Every helper falls back to the plain whole-module operation where the shortcut
cannot be shown to give the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

import libcst as cst

from greenopt.optimizer.cst_nodes import walk_statements
from greenopt.optimizer.positions import Position
from greenopt.optimizer.source import SourceModule

_T = TypeVar("_T")


def _per_module(kind: str, module: SourceModule, build: Callable[[], _T]) -> _T:
    """`build()` computed once per module, tree and `kind`, kept on the module itself
    (`SourceModule._derived`), so it lives and dies with the module."""
    entry = module._derived.get(kind)
    if entry is not None and entry[0] is module.tree:
        return entry[1]  # type: ignore[no-any-return]
    value = build()
    module._derived[kind] = (module.tree, value)
    return value


def _loop_index(
    tree: cst.Module, positions: dict[int, Position]
) -> dict[tuple[int, int], set[int]]:
    """(line, col) of each `for` statement -> indices of the top-level statements of
    `tree` holding a `for` at that position (per `positions`)."""
    index: dict[tuple[int, int], set[int]] = {}
    for k, stmt in enumerate(tree.body):
        for node in walk_statements(stmt):
            if type(node) is cst.For:
                pos = positions.get(id(node))
                if pos is not None:
                    index.setdefault((pos[0], pos[1]), set()).add(k)
    return index


def replace_in_statements(
    module: SourceModule,
    transformer: cst.CSTTransformer,
    positions: dict[int, Position],
    keys: Collection[tuple[int, int]],
) -> cst.Module:
    """What `module.tree.visit(transformer)` gives (as code), for a transformer that only
    rewrites `for` statements found by their (line, col) in `positions` among `keys`
    and keeps no other state: only the top-level statements holding such a loop are
    visited, the others are kept as they are."""
    tree = module.tree
    cached: tuple[dict[int, Position], dict[tuple[int, int], set[int]]] = _per_module(
        "loops", module, lambda: (positions, _loop_index(tree, positions))
    )
    if cached[0] is positions:
        index = cached[1]
    else:  # another position map than the cached one (libcst's, rebuilt per call)
        index = _loop_index(tree, positions)
    chosen = sorted({k for key in keys for k in index.get(key, ())})
    if not chosen:
        return tree
    body: list[cst.BaseStatement] = []
    start = 0
    for k in chosen:
        body.extend(tree.body[start:k])
        result = tree.body[k].visit(transformer)
        if isinstance(result, cst.FlattenSentinel):
            body.extend(result.nodes)
        elif not isinstance(result, cst.RemovalSentinel):
            body.append(result)
        start = k + 1
    body.extend(tree.body[start:])
    return tree.with_changes(body=body)


def _statement_codes(tree: cst.Module) -> dict[int, str]:
    """id(node) -> generated code, for the header, body and footer nodes of `tree`."""
    return {id(node): tree.code_for_node(node) for node in (*tree.header, *tree.body, *tree.footer)}


def module_code(tree: cst.Module, original: SourceModule) -> str:
    """`tree.code`, where `tree` shares most top-level statements with `original.tree`.

    Module-level statements generate their code independently of each other (no
    indentation at module level), so the module's code is the concatenation of theirs;
    the ends of a module (no trailing newline, an empty module) are left to libcst.
    """
    return _module_code(tree, original)[0]


def _module_code(tree: cst.Module, source: SourceModule) -> tuple[str, list[str] | None]:
    """`tree.code` and the code of the top-level nodes not shared with `source.tree`
    (None where the code came from libcst in one piece)."""
    original = source.tree
    if (
        not tree.has_trailing_newline
        or tree.default_indent != original.default_indent
        or tree.default_newline != original.default_newline
    ):
        return tree.code, None
    codes = _per_module("codes", source, lambda: _statement_codes(original))
    parts: list[str] = []
    new: list[str] = []
    for node in (*tree.header, *tree.body, *tree.footer):
        text = codes.get(id(node))
        if text is None:
            text = tree.code_for_node(node)
            new.append(text)
        parts.append(text)
    code = "".join(parts)
    return (code, new) if code else (tree.code, None)


class _ParsedOnDemand(SourceModule):
    """A `SourceModule` whose `tree` is parsed from `code` when first read."""

    def __getattr__(self, name: str) -> Any:
        if name != "tree":
            raise AttributeError(name)
        tree = SourceModule.parse(self.code, self.path).tree
        self.tree = tree
        return tree


def parsed_on_demand(tree: cst.Module, original: SourceModule) -> SourceModule:
    """`SourceModule.parse(tree.code, original.path)`, for a `tree` made from `original` by
    `replace_in_statements` (and top-level insertions): the code is generated from the
    statements that changed, which alone are parsed now (a module parses when each of
    its top-level statements does); the whole module is parsed when `.tree` is read.
    Where a statement does not parse on its own, the module is parsed now, in full
    (raising the error `SourceModule.parse` raises)."""
    code, new = _module_code(tree, original)
    path = original.path
    if new is None:
        return SourceModule.parse(code, path)
    for text in new:
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError:
            return SourceModule.parse(code, path)
    module = _ParsedOnDemand(code=code, tree=None, path=path)  # type: ignore[arg-type]
    del module.tree
    return module
