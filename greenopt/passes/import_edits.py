"""Imported names of a module: resolving `np.zeros` to `numpy.zeros`, and adding imports.

The loop-fusion, dtype-reduction and jit passes need to know whether a call is a
NumPy (or Numba) function whatever alias the user imported it under, and they
need to add `import numba` / `import numpy as np` exactly once. Only module-level
imports are considered: a name imported inside a function is shadowing we do not
try to follow (the passes then simply do not recognise the call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """`np.random.rand` -> "np.random.rand"; None for anything but a Name/Attribute chain."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        head = dotted_name(expr.value)
        return None if head is None else f"{head}.{expr.attr.value}"
    return None


def _alias_target(node: cst.BaseExpression) -> str:
    """The dotted module path written in an import statement."""
    name = dotted_name(node)
    return name or ""


@dataclass(frozen=True)
class ImportedNames:
    """Module-level bindings created by imports: local name -> fully qualified dotted name.

    `import numpy as np` binds "np" -> "numpy"; `import numpy` binds "numpy" -> "numpy";
    `import numpy.random` binds "numpy" -> "numpy"; `from numpy import zeros as z`
    binds "z" -> "numpy.zeros".
    """

    bindings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, module: cst.Module) -> ImportedNames:
        """Collect the top-level (and `if`/`try`-nested top-level) imports of `module`."""
        bindings: dict[str, str] = {}

        def visit_block(body: object) -> None:
            for stmt in body:  # type: ignore[attr-defined]
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, cst.Import):
                            for alias in small.names:
                                full = _alias_target(alias.name)
                                if alias.asname is not None and isinstance(
                                    alias.asname.name, cst.Name
                                ):
                                    bindings[alias.asname.name.value] = full
                                else:
                                    head = full.split(".")[0]
                                    bindings[head] = head
                        elif isinstance(small, cst.ImportFrom) and small.relative == ():
                            if small.module is None or isinstance(small.names, cst.ImportStar):
                                continue
                            base = _alias_target(small.module)
                            for alias in small.names:
                                name = _alias_target(alias.name)
                                local = name
                                if alias.asname is not None and isinstance(
                                    alias.asname.name, cst.Name
                                ):
                                    local = alias.asname.name.value
                                bindings[local] = f"{base}.{name}"
                elif isinstance(stmt, cst.If):
                    visit_block(stmt.body.body)
                elif isinstance(stmt, cst.Try):
                    visit_block(stmt.body.body)

        visit_block(module.body)
        return cls(bindings)

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        """The fully qualified name `expr` refers to, or None if it is not an imported name."""
        name = dotted_name(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        target = self.bindings.get(head)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target

    def alias_of(self, module: str) -> str | None:
        """The local name under which `module` itself is imported (`"np"` for numpy), if any."""
        for local, target in self.bindings.items():
            if target == module:
                return local
        return None


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def ensure_import(
    module: cst.Module, target: str, asname: str | None = None
) -> tuple[cst.Module, str]:
    """Make sure `import target [as asname]` is available; return (module, local name to use).

    If the module already imports `target` under some name, nothing changes and that
    name is returned (so applying a pass twice never adds a second import). Otherwise
    the import is inserted after the last import of the module header (after the
    docstring and `__future__` imports when there are no other imports), keeping
    every other line as it was.
    """
    existing = ImportedNames.of(module).alias_of(target)
    if existing is not None:
        return module, existing
    local = asname or target
    alias = cst.ImportAlias(
        name=cst.parse_expression(target),  # type: ignore[arg-type]
        asname=cst.AsName(name=cst.Name(asname)) if asname else None,
    )
    new_line = cst.SimpleStatementLine(body=[cst.Import(names=[alias])])
    body = list(module.body)
    last_import = -1
    for index, stmt in enumerate(body):
        if _is_import_line(stmt):
            last_import = index
        elif index == 0 and _is_docstring(stmt):
            continue
        else:
            break
    if last_import >= 0:
        body.insert(last_import + 1, new_line)
        return module.with_changes(body=body), local
    insert_at = 1 if body and _is_docstring(body[0]) else 0
    if insert_at < len(body):
        following = body[insert_at]
        blank_lines = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
        leading = list(following.leading_lines)
        while leading and leading[0].comment is None:
            leading.pop(0)
        body[insert_at] = following.with_changes(
            leading_lines=[cst.EmptyLine()] * blank_lines + leading
        )
    if insert_at == 1:
        new_line = new_line.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(insert_at, new_line)
    return module.with_changes(body=body), local
