"""Dependence tests between array accesses of a loop nest, and the vectorisation verdict.

Two accesses conflict when they touch the same element and one is a write. For
affine subscripts with equal coefficients per dimension the iteration distance is
exact (`u[i]` written, `u[i-1]` read: distance 1, a loop-carried flow
dependence: a recurrence). Constant subscripts that differ never meet. Anything
else (different strides, indirect `h[idx[i]]`, symbolic offsets that differ) is
"unknown" and blocks the rewrite.

`vectorization_blocker()` answers: may the statements of a loop nest be executed
statement by statement over all iterations (what slice assignments do), instead
of iteration by iteration? That is legal iff no dependence is reversed by the
reordering: for statements S_a before S_b in the body, no conflict where S_b's
iteration precedes S_a's; within one statement, no element written in an earlier
iteration and read in a later one (numpy evaluates the right-hand side first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from greenopt.optimizer.accesses import Access
from greenopt.optimizer.affine import Affine
from greenopt.optimizer.aliasing import Relation

#: a distance entry: an exact iteration difference, or FREE (any value is possible)
FREE = None


@dataclass(frozen=True)
class Dependence:
    """A conflict between `first` and `second` with distance `second_iter - first_iter`.

    `distance` has one entry per loop variable (outermost first): an int or FREE.
    `kind`: "flow" (write then read), "anti" (read then write), "output" (write, write).
    """

    first: Access
    second: Access
    distance: tuple[int | None, ...]
    kind: str


class Unknown(Exception):
    """The test cannot decide whether two accesses conflict."""


def distance(a: Access, b: Access, loop_vars: Sequence[str]) -> tuple[int | None, ...] | None:
    """Iteration distance J - I at which `a` (at I) and `b` (at J) touch the same element.

    Returns None when they never touch; raises Unknown when it cannot tell.
    """
    if len(a.indices) != len(b.indices) or a.has_slice or b.has_slice:
        raise Unknown(f"{a.array}: accesses with different or sliced subscripts")
    dist: dict[str, int] = {}
    lv = set(loop_vars)
    for ia, ib in zip(a.indices, b.indices, strict=True):
        if ia is None or ib is None:
            raise Unknown(f"{a.array}: indirect or non-affine subscript")
        va = {v: ia.coef(v) for v in ia.atoms() & lv}
        vb = {v: ib.coef(v) for v in ib.atoms() & lv}
        inv_a = ia.without(lv)
        inv_b = ib.without(lv)
        if not va and not vb:
            diff = inv_a - inv_b
            if diff.is_const:
                if diff.const != 0:
                    return None  # different constant positions never meet
                continue
            raise Unknown(f"{a.array}: invariant subscripts may or may not be equal")
        if va.keys() != vb.keys() or len(va) != 1 or va != vb:
            raise Unknown(f"{a.array}: subscripts with different strides")
        ((var, coef),) = va.items()
        diff = inv_a - inv_b  # coef*I + inv_a == coef*J + inv_b  =>  J - I = diff / coef
        if not diff.is_const:
            raise Unknown(f"{a.array}: symbolic offset between subscripts")
        if diff.const % coef:
            return None
        d = diff.const // coef
        if var in dist and dist[var] != d:
            return None
        dist[var] = d
    return tuple(dist.get(v, FREE) for v in loop_vars)


def _orders(dist: Sequence[int | None]) -> set[str]:
    """Possible lexicographic signs of a distance vector: "<" (J before I), "=", ">"."""
    for d in dist:
        if d is FREE:
            return {"<", "=", ">"}
        if d < 0:
            return {"<"}
        if d > 0:
            return {">"}
    return {"="}


def vectorization_blocker(
    accesses: Sequence[Access],
    loop_vars: Sequence[str],
    relation: Callable[[str, str], Relation],
) -> str | None:
    """Why the accesses forbid statement-by-statement execution (None: legal)."""
    for x in accesses:
        for y in accesses:
            if not (x.write or y.write):
                continue
            if x.stmt > y.stmt:
                continue  # each unordered pair is seen with x earlier
            rel = relation(x.array, y.array)
            if rel is Relation.DISJOINT:
                continue
            if rel is Relation.UNKNOWN:
                return f"{x.array} and {y.array} may share memory (aliasing, view or parameters)"
            try:
                dist = distance(x, y, loop_vars)
            except Unknown as exc:
                return f"cannot analyse dependence: {exc}"
            if dist is None:
                continue
            orders = _orders(dist)
            if x.stmt < y.stmt:
                if "<" in orders:
                    return (
                        f"loop-carried dependence on {x.array}: a later statement touches an "
                        "element in an earlier iteration"
                    )
                continue
            # the same statement
            if x.write and y.write:
                if x.node is y.node:
                    if orders != {"="}:
                        return f"several iterations write the same element of {x.array}"
                    continue
                if orders != {"="}:
                    return f"output dependence on {x.array} across iterations"
                continue
            writer, reader = (x, y) if x.write else (y, x)
            try:
                wr = distance(writer, reader, loop_vars)
            except Unknown as exc:
                return f"cannot analyse dependence: {exc}"
            if wr is not None and ">" in _orders(wr):
                return (
                    f"loop-carried flow dependence on {writer.array}: an iteration reads a value "
                    "written by an earlier one (a recurrence)"
                )
    return None


def injective_write(access: Access, loop_vars: Sequence[str]) -> bool:
    """True when different iterations always write different elements (every loop variable
    appears, alone and with a non-zero coefficient, in some subscript)."""
    seen: set[str] = set()
    for ix in access.indices:
        if ix is None:
            return False
        used = ix.atoms() & set(loop_vars)
        if len(used) > 1:
            return False
        seen |= used
    return seen == set(loop_vars)


def offsets(access: Access, var: str) -> Affine | None:
    """The subscript of `access` that depends on `var`, or None."""
    for ix in access.indices:
        if ix is not None and ix.coef(var):
            return ix
    return None
