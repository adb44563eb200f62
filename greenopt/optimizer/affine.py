"""Affine integer expressions `c + sum(k_a * a)` over loop variables and invariant atoms.

Loop bounds (`n`, `len(x)`, `x.shape[1] - 1`) and subscripts (`2*i + 1`, `i - 1`,
`i + k`) are read into this form so that dependence tests and slice generation
work on numbers, not text. Atoms are loop variables or loop-invariant
sub-expressions, named by their source code (`"len(x)"`, `"n"`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import libcst as cst

_EMPTY = cst.Module([])


def node_code(node: cst.CSTNode) -> str:
    """Source text of a libcst node (as written, without surrounding whitespace)."""
    return _EMPTY.code_for_node(node).strip()


@dataclass(frozen=True)
class Affine:
    """`const + sum(coef * atom)`; terms are sorted (atom, coef) pairs with coef != 0."""

    terms: tuple[tuple[str, int], ...] = ()
    const: int = 0

    @staticmethod
    def constant(value: int) -> Affine:
        """The constant `value`."""
        return Affine((), value)

    @staticmethod
    def atom(name: str, coef: int = 1) -> Affine:
        """A single atom with coefficient `coef`."""
        return Affine(((name, coef),), 0) if coef else Affine()

    @staticmethod
    def _build(terms: Mapping[str, int], const: int) -> Affine:
        return Affine(tuple(sorted((a, c) for a, c in terms.items() if c)), const)

    def coef(self, atom: str) -> int:
        """Coefficient of `atom` (0 when absent)."""
        return dict(self.terms).get(atom, 0)

    def atoms(self) -> set[str]:
        """The atoms with a non-zero coefficient."""
        return {a for a, _ in self.terms}

    def __add__(self, other: Affine) -> Affine:
        terms = dict(self.terms)
        for a, c in other.terms:
            terms[a] = terms.get(a, 0) + c
        return Affine._build(terms, self.const + other.const)

    def __neg__(self) -> Affine:
        return self.scale(-1)

    def __sub__(self, other: Affine) -> Affine:
        return self + (-other)

    def scale(self, k: int) -> Affine:
        """`k * self`."""
        return Affine._build({a: c * k for a, c in self.terms}, self.const * k)

    def plus(self, k: int) -> Affine:
        """`self + k`."""
        return Affine(self.terms, self.const + k)

    def substitute(self, atom: str, value: Affine) -> Affine:
        """Replace `atom` by `value`."""
        k = self.coef(atom)
        if not k:
            return self
        rest = Affine._build({a: c for a, c in self.terms if a != atom}, self.const)
        return rest + value.scale(k)

    def without(self, atoms: Iterable[str]) -> Affine:
        """Drop the terms of `atoms`."""
        drop = set(atoms)
        return Affine(tuple((a, c) for a, c in self.terms if a not in drop), self.const)

    @property
    def is_const(self) -> bool:
        """True when there are no atoms."""
        return not self.terms

    def nonneg(self, nonneg_atoms: Callable[[str], bool]) -> bool:
        """Provably >= 0: non-negative constant and non-negative coefficients of non-negative atoms."""
        return self.const >= 0 and all(c > 0 and nonneg_atoms(a) for a, c in self.terms)

    def code(self) -> str:
        """Python source for this expression (`len(x) - 1`, `2 * i + 1`, `0`)."""
        parts: list[str] = []
        for atom, c in self.terms:
            text = atom if is_atomic(atom) else f"({atom})"
            mag = abs(c)
            piece = text if mag == 1 else f"{mag} * {text}"
            if not parts:
                parts.append(piece if c > 0 else f"-{piece}")
            else:
                parts.append(f"+ {piece}" if c > 0 else f"- {piece}")
        if self.const or not parts:
            if not parts:
                parts.append(str(self.const))
            else:
                parts.append(f"+ {self.const}" if self.const > 0 else f"- {-self.const}")
        return " ".join(parts)


def is_atomic(code: str) -> bool:
    """True when `code` needs no parentheses as an operand of a binary operator."""
    depth = 0
    for ch in code:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in " +-*/%<>=!&|^~@":
            return False
    return True


def to_affine(
    node: cst.BaseExpression,
    atom_of: Callable[[cst.BaseExpression], str | None],
) -> Affine | None:
    """Read an integer expression as an Affine, or None if it is not affine.

    `atom_of(node)` names a leaf (a loop variable, `len(x)`, `x.shape[0]`, an
    invariant name) or returns None when the leaf is not acceptable.
    """
    if type(node) is cst.Integer:
        try:
            return Affine((), int(node.value, 0))
        except ValueError:
            return None
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus:
        inner = to_affine(node.expression, atom_of)
        return None if inner is None else -inner
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Plus:
        return to_affine(node.expression, atom_of)
    if type(node) is cst.BinaryOperation:
        left = to_affine(node.left, atom_of)
        right = to_affine(node.right, atom_of)
        if left is None or right is None:
            return None
        if type(node.operator) is cst.Add:
            return left + right
        if type(node.operator) is cst.Subtract:
            return left - right
        if type(node.operator) is cst.Multiply:
            if left.is_const:
                return right.scale(left.const)
            if right.is_const:
                return left.scale(right.const)
        return None
    name = atom_of(node)
    if name is None:
        return None
    return Affine.atom(name)
