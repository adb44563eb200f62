"""Array access summaries: every subscript of a loop body as affine functions of the indices.

`x[2*i + 1, j - 1]` becomes `Access(array="x", indices=(2*i+1, j-1), write=False)`;
`h[idx[i]]` has an indirect (None) index and records the read of `idx[i]` too.
Chained subscripts `x[i][j]` are read as `x[i, j]` (equal for numpy arrays).
Only subscripts whose base is a plain name are summarised; anything else is
reported by `effects` as a problem before accesses are needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import libcst as cst

from greenopt.optimizer.affine import Affine, to_affine
from greenopt.optimizer.cst_nodes import iter_children


@dataclass(frozen=True)
class Access:
    """One read or write of `array` at `indices` (None: not affine) in statement `stmt`."""

    array: str
    indices: tuple[Affine | None, ...]
    write: bool
    stmt: int
    node: cst.Subscript
    has_slice: bool = False  # some subscript element is a slice (`x[i, :]`)

    @property
    def affine(self) -> bool:
        """True when every index is an affine expression."""
        return not self.has_slice and all(ix is not None for ix in self.indices)

    def loop_vars(self, loop_vars: Iterable[str]) -> tuple[str | None, ...]:
        """For each dimension, the single loop variable it depends on ("" for invariant,
        None when it depends on several or is not affine)."""
        out: list[str | None] = []
        lv = set(loop_vars)
        for ix in self.indices:
            if ix is None:
                out.append(None)
                continue
            used = ix.atoms() & lv
            out.append("" if not used else (next(iter(used)) if len(used) == 1 else None))
        return tuple(out)


def flatten_subscript(
    node: cst.Subscript,
) -> tuple[cst.Name, list[cst.SubscriptElement]] | None:
    """(base name, all subscript elements) of `x[a][b, c]`; None if the base is not a name."""
    elements: list[cst.SubscriptElement] = []
    current: cst.BaseExpression = node
    while type(current) is cst.Subscript:
        elements = list(current.slice) + elements
        current = current.value
    if type(current) is not cst.Name:
        return None
    return current, elements


def summarize(
    node: cst.Subscript,
    write: bool,
    stmt: int,
    atom_of: Callable[[cst.BaseExpression], str | None],
) -> Access | None:
    """The Access of one subscript (None when its base is not a plain name)."""
    flat = flatten_subscript(node)
    if flat is None:
        return None
    base, elements = flat
    indices: list[Affine | None] = []
    has_slice = False
    for el in elements:
        if type(el.slice) is cst.Slice:
            has_slice = True
            indices.append(None)
            continue
        value = el.slice.value if type(el.slice) is cst.Index else None
        if value is None or (type(el.slice) is cst.Index and el.slice.star is not None):
            indices.append(None)
            continue
        indices.append(to_affine(value, atom_of))
    return Access(base.value, tuple(indices), write, stmt, node, has_slice)


def read_subscripts(expr: cst.CSTNode) -> list[cst.Subscript]:
    """All subscript reads in `expr`: outermost subscripts (a chained `x[i][j]` counts
    once) and the subscripts inside their index expressions (`idx[i]` in `x[idx[i]]`)."""
    found: list[cst.Subscript] = []
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.Subscript:
            found.append(node)
            current: cst.BaseExpression = node
            while type(current) is cst.Subscript:
                stack.extend(reversed(current.slice))
                current = current.value
            if type(current) is not cst.Name:
                stack.append(current)
            continue
        stack.extend(reversed(list(iter_children(node))))
    return found


def statement_accesses(
    stmt: cst.BaseSmallStatement,
    index: int,
    atom_of: Callable[[cst.BaseExpression], str | None],
) -> list[Access] | None:
    """Accesses of an `Assign`/`AugAssign` statement; None when a subscript base is not a name."""
    out: list[Access] = []
    if type(stmt) is cst.Assign:
        targets = [t.target for t in stmt.targets]
        value: cst.CSTNode = stmt.value
        aug = False
    elif type(stmt) is cst.AugAssign:
        targets = [stmt.target]
        value = stmt.value
        aug = True
    else:
        return []
    for sub in read_subscripts(value):
        acc = summarize(sub, False, index, atom_of)
        if acc is None:
            return None
        out.append(acc)
    for target in targets:
        if type(target) is cst.Subscript:
            for sub in read_subscripts(target)[1:]:  # index expressions of the target
                acc = summarize(sub, False, index, atom_of)
                if acc is None:
                    return None
                out.append(acc)
            acc = summarize(target, True, index, atom_of)
            if acc is None:
                return None
            if aug:
                out.append(Access(acc.array, acc.indices, False, index, acc.node, acc.has_slice))
            out.append(acc)
    return out
