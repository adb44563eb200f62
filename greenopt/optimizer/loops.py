"""Counted loops: `for i in range(start, stop, step)` with affine, loop-invariant bounds.

`range_loop()` reads a `for` statement into a `RangeLoop` (index variable, bounds
as `Affine` expressions over invariant atoms such as `n`, `len(x)`, `x.shape[k]`,
constant positive step) or explains in one phrase why it is not one. `loop_nest()`
follows perfectly nested range loops (`for i: for j: body`), the shape vectorize
turns into multi-dimensional slices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from greenopt.optimizer.affine import Affine, node_code, to_affine
from greenopt.optimizer.numpy_names import NameResolver


@dataclass(frozen=True)
class RangeLoop:
    """One `for var in range(start, stop, step)` loop with a constant step > 0."""

    node: cst.For
    var: str
    start: Affine
    stop: Affine
    step: int

    @property
    def body(self) -> tuple[cst.BaseStatement, ...]:
        """The statements of the loop body."""
        body = self.node.body
        if type(body) is cst.IndentedBlock:
            return tuple(body.body)
        return (cst.SimpleStatementLine(body=body.body),)


@dataclass(frozen=True)
class LoopNest:
    """Perfectly nested range loops, outermost first, and the innermost body."""

    loops: tuple[RangeLoop, ...]
    body: tuple[cst.BaseStatement, ...]

    @property
    def vars(self) -> tuple[str, ...]:
        """Index variables, outermost first."""
        return tuple(loop.var for loop in self.loops)


def bound_atom(resolver: NameResolver) -> Callable[[cst.BaseExpression], str | None]:
    """An `atom_of` for `to_affine` accepting names, `len(x)`, `x.shape[k]`, `x.size`."""

    def atom_of(node: cst.BaseExpression) -> str | None:
        if type(node) is cst.Name:
            return node.value
        if (
            type(node) is cst.Call
            and resolver.is_builtin(node.func, "len")
            and len(node.args) == 1
            and type(node.args[0].value) is cst.Name
            and node.args[0].star == ""
            and node.args[0].keyword is None
        ):
            return node_code(node)
        if (
            type(node) is cst.Subscript
            and type(node.value) is cst.Attribute
            and node.value.attr.value == "shape"
            and type(node.value.value) is cst.Name
            and len(node.slice) == 1
            and type(node.slice[0].slice) is cst.Index
            and type(node.slice[0].slice.value) is cst.Integer
        ):
            return node_code(node)
        if (
            type(node) is cst.Attribute
            and node.attr.value == "size"
            and type(node.value) is cst.Name
        ):
            return node_code(node)
        return None

    return atom_of


def range_loop(node: cst.For, resolver: NameResolver) -> RangeLoop | str:
    """Read `node` as a RangeLoop, or return why it is not a simple counted loop."""
    if node.asynchronous is not None:
        return "async for loop"
    if node.orelse is not None:
        return "the loop has an else clause"
    if type(node.target) is not cst.Name:
        return "the loop target is not a single name"
    it = node.iter
    if not (type(it) is cst.Call and resolver.is_builtin(it.func, "range")):
        return "the loop does not iterate over range(...)"
    args = it.args
    if not 1 <= len(args) <= 3 or any(a.star or a.keyword is not None for a in args):
        return "range() with unusual arguments"
    atom_of = bound_atom(resolver)
    parsed = [to_affine(a.value, atom_of) for a in args]
    if any(p is None for p in parsed):
        return "range() bounds are not affine in n, len(x) or x.shape[k]"
    bounds: list[Affine] = [p for p in parsed if p is not None]
    if len(bounds) == 1:
        start, stop, step = Affine(), bounds[0], Affine.constant(1)
    elif len(bounds) == 2:
        start, stop, step = bounds[0], bounds[1], Affine.constant(1)
    else:
        start, stop, step = bounds
    if not step.is_const or step.const <= 0:
        return "range() step is not a positive constant"
    var = node.target.value
    if var in start.atoms() | stop.atoms():
        return "range() bounds use the loop variable"
    return RangeLoop(node=node, var=var, start=start, stop=stop, step=step.const)


def loop_nest(node: cst.For, resolver: NameResolver) -> LoopNest | str:
    """The perfect nest of range loops starting at `node`, or why there is none."""
    loops: list[RangeLoop] = []
    current: cst.For = node
    while True:
        loop = range_loop(current, resolver)
        if isinstance(loop, str):
            return loop if not loops else f"inner loop: {loop}"
        outer_vars = {lp.var for lp in loops}
        if (loop.start.atoms() | loop.stop.atoms()) & outer_vars:
            return "inner loop bounds depend on an outer index (triangular nest)"
        if loop.var in outer_vars:
            return "nested loops reuse an index variable"
        loops.append(loop)
        body = loop.body
        if len(body) == 1 and type(body[0]) is cst.For:
            current = body[0]
            continue
        return LoopNest(loops=tuple(loops), body=body)
