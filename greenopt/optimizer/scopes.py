"""Python scoping over a libcst tree, fast: which binding a name in a function refers to.

libcst's `ScopeProvider` + `QualifiedNameProvider` answer the same question but rebuild
every node of the module while they walk it (about a second for 1,000 dense lines, the
largest single cost of `greenopt check`). The passes only ever ask "is this name numpy's
`X`, or the builtin `Y`, or something else", so this module walks the dataclass fields
once, records the bindings of each scope (module, function, lambda, class,
comprehension) with Python's compile-time rules, and answers with libcst's own
`QualifiedName` values, so callers cannot tell the difference.

Where it departs from libcst it is stricter, never looser: a name bound anywhere in a
function is local to the whole function (Python's rule; libcst looks past a local that
is only assigned later), a `del x` makes `x` local, a walrus in a comprehension binds in
the enclosing function, and after `from M import *` the builtin names that numpy's namespace rebinds
(`sum`, `abs`, `max`, ...) resolve to nothing (unknown) instead of to the builtin.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import QualifiedName, QualifiedNameSource

from greenopt.optimizer.cst_nodes import iter_children, walk_statements

#: builtin names that `from numpy import *` rebinds (numpy's `__all__`, plus the dtype
#: aliases that older numpy releases exported), and with it every module that re-exports
#: numpy's namespace (pylab, scipy, ...) or shadows a builtin the same way (`math.pow`):
#: after any star import they resolve to nothing. Other builtins (`range`, `len`) stay
#: builtins: a module rebinding those through `*` is not numerical code we can help.
NUMPY_STAR_SHADOWS = frozenset(
    {"abs", "all", "any", "bool", "divmod", "max", "min", "pow", "round", "sum",
     "float", "int", "complex", "object", "str"}
)  # fmt: skip

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


@dataclass(frozen=True)
class Binding:
    """One way a name gets a value in a scope: an import (with its statement) or anything
    else (assignment, parameter, def, class, loop target, ...), which is `LOCAL`."""

    name: str
    node: cst.Import | cst.ImportFrom | None = None


@dataclass(eq=False)
class Scope:
    """A Python scope: its kind, parent, bindings and `global`/`nonlocal` declarations."""

    kind: str  # "module", "function", "class" or "comprehension"
    parent: Scope | None
    prefix: str  # libcst's qualified-name prefix ("f.<locals>", "C", ...)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    star_imports: list[str] = field(default_factory=list)  # module names, module scope only

    def bind(self, binding: Binding) -> None:
        """Record a binding of `binding.name` in this scope."""
        self.bindings.setdefault(binding.name, []).append(binding)

    def child(self, kind: str, name: str | None) -> Scope:
        """A new scope nested in this one (qualified-name prefixes as libcst builds them)."""
        if kind == "function":
            prefix = ".".join(p for p in (self.prefix, name, "<locals>") if p)
        elif kind == "class":
            prefix = ".".join(p for p in (self.prefix, name) if p)
        else:
            prefix = ".".join(p for p in (self.prefix, "<comprehension>") if p)
        return Scope(kind, self, prefix)


class ScopeIndex:
    """The scopes of one module and the scope of every Name/Attribute/Call/Subscript in it.

    `keep(statement)` (optional) selects the top-level functions and classes whose bodies
    are analysed; the others only bind their own name (queries about nodes inside them
    answer "unknown"). Bodies are always walked when the module declares `global` or
    `nonlocal` somewhere, since those can bind module-level names from inside a function.
    """

    def __init__(
        self, module: cst.Module, keep: Callable[[cst.BaseStatement], bool] | None = None
    ) -> None:
        self.module_scope = Scope("module", None, "")
        self._scope_of: dict[int, Scope] = {}
        self._scopes: list[Scope] = [self.module_scope]
        # (id(import statement), dotted name) -> what the name means through that import;
        # a module made of concatenated files binds `np` dozens of times
        self._imports: dict[tuple[int, str], set[QualifiedName]] = {}
        if keep is not None and _declares_outer_names(module):
            keep = None
        stack: list[tuple[cst.CSTNode, Scope]] = []
        for stmt in reversed(module.body):
            if keep is not None and isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                if not keep(stmt):
                    self.module_scope.bind(Binding(stmt.name.value))
                    continue
            stack.append((stmt, self.module_scope))
        self._walk(stack)
        self._apply_declarations()

    # -- queries ----------------------------------------------------------------------

    def scope_of(self, node: cst.CSTNode) -> Scope | None:
        """The scope a Name/Attribute/Call/Subscript node was read in (None if not seen)."""
        return self._scope_of.get(id(node))

    def qualified(self, node: cst.CSTNode) -> set[QualifiedName]:
        """The qualified names `node` may refer to, as libcst's `QualifiedNameProvider` gives."""
        scope = self._scope_of.get(id(node))
        if scope is None:
            return set()
        full_name = get_full_name_for_node(node)
        if not full_name:
            return set()
        prefix: str | None = full_name
        while prefix:
            found = self._resolve(scope, prefix)
            if found is not None:
                return self._names(found, full_name)
            cut = prefix.rfind(".")
            prefix = None if cut == -1 else prefix[:cut]
        return set()

    def _resolve(self, scope: Scope, name: str) -> tuple[Scope | None, list[Binding]] | None:
        """The bindings `name` refers to from `scope` (scope None: the builtin), or None."""
        origin = scope
        current: Scope | None = scope
        while current is not None:
            if current.kind == "class" and current is not origin:
                current = current.parent  # class bodies are invisible to nested scopes
                continue
            if name in current.globals:
                current = self.module_scope
            found = current.bindings.get(name)
            if found:
                return current, found
            current = current.parent
        if "." in name:
            return None
        if self.module_scope.star_imports and name in NUMPY_STAR_SHADOWS:
            return None  # `from numpy import *` (or pylab, scipy, math, ...) rebinds it
        if hasattr(builtins, name):
            return None, [Binding(name)]
        return None

    def _names(
        self, found: tuple[Scope | None, list[Binding]], full_name: str
    ) -> set[QualifiedName]:
        scope, bindings = found
        out: set[QualifiedName] = set()
        for b in bindings:
            if scope is None:
                out.add(QualifiedName(f"builtins.{b.name}", QualifiedNameSource.BUILTIN))
            elif b.node is not None:
                key = (id(b.node), full_name)
                imported = self._imports.get(key)
                if imported is None:
                    imported = self._imports[key] = _imported_names(b.node, full_name)
                out |= imported
            else:
                name = f"{scope.prefix}.{full_name}" if scope.prefix else full_name
                out.add(QualifiedName(name, QualifiedNameSource.LOCAL))
        return out

    # -- construction -------------------------------------------------------------------

    def _walk(self, stack: list[tuple[cst.CSTNode, Scope]]) -> None:
        """Visit every node once, recording bindings and the scope of each name read."""
        scope_of = self._scope_of
        while stack:
            node, scope = stack.pop()
            kind = type(node)
            if kind is cst.Name:
                scope_of[id(node)] = scope
            elif kind is cst.Attribute:
                scope_of[id(node)] = scope
                stack.append((node.value, scope))  # type: ignore[attr-defined]
            elif kind is cst.Call or kind is cst.Subscript:
                scope_of[id(node)] = scope
                stack.extend((c, scope) for c in iter_children(node))
            elif kind is cst.Arg:
                stack.append((node.value, scope))  # type: ignore[attr-defined]
            elif kind is cst.FunctionDef:
                self._function(node, scope, stack)  # type: ignore[arg-type]
            elif kind is cst.Lambda:
                inner = self._new(scope, "function", None)
                self._params(node.params, scope, inner, stack)  # type: ignore[attr-defined]
                stack.append((node.body, inner))  # type: ignore[attr-defined]
            elif kind is cst.ClassDef:
                self._class(node, scope, stack)  # type: ignore[arg-type]
            elif kind in _COMPREHENSIONS:
                self._comprehension(node, scope, stack)  # type: ignore[arg-type]
            elif kind is cst.Import or kind is cst.ImportFrom:
                self._import(node, scope)  # type: ignore[arg-type]
            elif kind is cst.Global:
                scope.globals.update(n.name.value for n in node.names)  # type: ignore[attr-defined]
            elif kind is cst.Nonlocal:
                scope.nonlocals.update(n.name.value for n in node.names)  # type: ignore[attr-defined]
            elif kind is cst.Assign:
                for target in node.targets:  # type: ignore[attr-defined]
                    self._store(target.target, scope, stack)
                stack.append((node.value, scope))  # type: ignore[attr-defined]
            elif kind is cst.AugAssign or kind is cst.AnnAssign:
                self._store(node.target, scope, stack)  # type: ignore[attr-defined]
                for child in iter_children(node):
                    if child is not node.target:  # type: ignore[attr-defined]
                        stack.append((child, scope))
            elif kind is cst.For:
                self._store(node.target, scope, stack)  # type: ignore[attr-defined]
                for child in (node.iter, node.body, node.orelse):  # type: ignore[attr-defined]
                    if child is not None:
                        stack.append((child, scope))
            elif kind is cst.WithItem:
                stack.append((node.item, scope))  # type: ignore[attr-defined]
                if node.asname is not None:  # type: ignore[attr-defined]
                    self._store(node.asname.name, scope, stack)  # type: ignore[attr-defined]
            elif kind is cst.ExceptHandler or kind is cst.ExceptStarHandler:
                if node.type is not None:  # type: ignore[attr-defined]
                    stack.append((node.type, scope))  # type: ignore[attr-defined]
                if node.name is not None:  # type: ignore[attr-defined]
                    self._store(node.name.name, scope, stack)  # type: ignore[attr-defined]
                stack.append((node.body, scope))  # type: ignore[attr-defined]
            elif kind is cst.NamedExpr:
                target = scope
                while target.kind == "comprehension" and target.parent is not None:
                    target = target.parent  # PEP 572: binds in the enclosing function
                self._store(node.target, target, stack)  # type: ignore[attr-defined]
                stack.append((node.value, scope))  # type: ignore[attr-defined]
            elif kind is cst.Del:
                self._store(node.target, scope, stack)  # type: ignore[attr-defined]
            elif kind is cst.MatchAs or kind is cst.MatchStar:
                if node.name is not None:  # type: ignore[attr-defined]
                    scope.bind(Binding(node.name.value))  # type: ignore[attr-defined]
                for child in iter_children(node):
                    if child is not node.name:  # type: ignore[attr-defined]
                        stack.append((child, scope))
            elif kind is cst.MatchMapping:
                if node.rest is not None:  # type: ignore[attr-defined]
                    scope.bind(Binding(node.rest.value))  # type: ignore[attr-defined]
                for child in iter_children(node):
                    if child is not node.rest:  # type: ignore[attr-defined]
                        stack.append((child, scope))
            elif kind is cst.SimpleString or kind is cst.Integer or kind is cst.Float:
                continue
            else:
                stack.extend((c, scope) for c in iter_children(node))

    def _new(self, parent: Scope, kind: str, name: str | None) -> Scope:
        scope = parent.child(kind, name)
        self._scopes.append(scope)
        return scope

    def _store(
        self, target: cst.BaseExpression, scope: Scope, stack: list[tuple[cst.CSTNode, Scope]]
    ) -> None:
        """Bind the names of an assignment target; attribute/subscript targets are reads."""
        kind = type(target)
        if kind is cst.Name:
            scope.bind(Binding(target.value))  # type: ignore[attr-defined]
        elif kind is cst.Tuple or kind is cst.List:
            for element in target.elements:  # type: ignore[attr-defined]
                self._store(element.value, scope, stack)
        elif kind is cst.StarredElement:
            self._store(target.value, scope, stack)  # type: ignore[attr-defined]
        else:
            stack.append((target, scope))

    def _params(
        self,
        params: cst.Parameters,
        outer: Scope,
        inner: Scope,
        stack: list[tuple[cst.CSTNode, Scope]],
    ) -> None:
        """Parameters bind in the new scope; defaults and annotations are read outside it."""
        every: list[cst.Param] = [*params.posonly_params, *params.params, *params.kwonly_params]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                every.append(star)
        for param in every:
            inner.bind(Binding(param.name.value))
            if param.default is not None:
                stack.append((param.default, outer))
            if param.annotation is not None:
                stack.append((param.annotation, outer))

    def _function(
        self, node: cst.FunctionDef, scope: Scope, stack: list[tuple[cst.CSTNode, Scope]]
    ) -> None:
        scope.bind(Binding(node.name.value))
        inner = self._new(scope, "function", node.name.value)
        stack.append((node.body, inner))
        self._params(node.params, scope, inner, stack)
        stack.extend((d, scope) for d in node.decorators)
        if node.returns is not None:
            stack.append((node.returns, scope))

    def _class(
        self, node: cst.ClassDef, scope: Scope, stack: list[tuple[cst.CSTNode, Scope]]
    ) -> None:
        scope.bind(Binding(node.name.value))
        inner = self._new(scope, "class", node.name.value)
        stack.append((node.body, inner))
        stack.extend((d, scope) for d in node.decorators)
        stack.extend((a, scope) for a in (*node.bases, *node.keywords))

    def _comprehension(
        self,
        node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp,
        scope: Scope,
        stack: list[tuple[cst.CSTNode, Scope]],
    ) -> None:
        """The first iterable is read outside; targets, conditions and elements inside."""
        inner = self._new(scope, "comprehension", None)
        for_in: cst.CompFor | None = node.for_in
        first = True
        while for_in is not None:
            stack.append((for_in.iter, scope if first else inner))
            first = False
            self._store(for_in.target, inner, stack)
            stack.extend((cond.test, inner) for cond in for_in.ifs)
            for_in = for_in.inner_for_in
        if isinstance(node, cst.DictComp):
            stack.append((node.key, inner))
            stack.append((node.value, inner))
        else:
            stack.append((node.elt, inner))

    def _import(self, node: cst.Import | cst.ImportFrom, scope: Scope) -> None:
        """Bind imported names (every dotted prefix of `import a.b.c`, as libcst does)."""
        names = node.names
        if isinstance(names, cst.ImportStar):
            assert isinstance(node, cst.ImportFrom)
            module = get_full_name_for_node(node.module) if node.module is not None else ""
            scope.star_imports.append("." * len(node.relative) + (module or ""))
            return
        for alias in names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                scope.bind(Binding(alias.asname.name.value, node))
                continue
            dotted = get_full_name_for_node(alias.name) or ""
            for prefix in _dotted_prefixes(dotted):
                scope.bind(Binding(prefix, node))

    def _apply_declarations(self) -> None:
        """Move bindings of `global`/`nonlocal` names to the scope they really bind in."""
        for scope in self._scopes:
            for name in scope.globals:
                moved = scope.bindings.pop(name, [])
                for b in moved:
                    self.module_scope.bind(b)
            for name in scope.nonlocals - scope.globals:
                moved = scope.bindings.pop(name, [])
                target = _enclosing_binder(scope, name)
                if target is not None:
                    for b in moved:
                        target.bind(b)


def _enclosing_binder(scope: Scope, name: str) -> Scope | None:
    """The nearest enclosing function scope that binds `name` (what `nonlocal name` means)."""
    current = scope.parent
    while current is not None and current.kind != "module":
        if current.kind != "class" and name in current.bindings:
            return current
        current = current.parent
    return None


def _imported_names(node: cst.Import | cst.ImportFrom, full_name: str) -> set[QualifiedName]:
    """What `full_name` means through an import statement: libcst's
    `ImportAssignment.get_qualified_names_for`, without its codegen of aliases."""
    module = ""
    if isinstance(node, cst.ImportFrom):
        if node.module is not None:
            module = get_full_name_for_node(node.module) or ""
        if node.relative:
            module = "." * len(node.relative) + module
    results: set[QualifiedName] = set()
    if isinstance(node.names, cst.ImportStar):
        return results
    for alias in node.names:
        dotted = get_full_name_for_node(alias.name)
        if not dotted:
            continue
        alias_name = get_full_name_for_node(alias.asname.name) if alias.asname is not None else None
        for real in _dotted_prefixes(dotted):
            as_name = alias_name or real
            if module.endswith("."):
                real = f"{module}{real}"
            elif module:
                real = f"{module}.{real}"
            if not full_name.startswith(as_name):
                continue
            remaining = full_name.split(as_name, 1)[1]
            if remaining and not remaining.startswith("."):
                continue
            remaining = remaining.lstrip(".")
            name = f"{real}.{remaining}" if remaining else real
            results.add(QualifiedName(name, QualifiedNameSource.IMPORT))
            break
    return results


def _dotted_prefixes(dotted: str) -> Iterator[str]:
    """`a.b.c` -> `a.b.c`, `a.b`, `a`."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        yield ".".join(parts[:n])


def _declares_outer_names(module: cst.Module) -> bool:
    """True if the module holds a `global` or `nonlocal` statement (at any depth)."""
    for node in walk_statements(module):
        smalls = node.body if type(node) is cst.SimpleStatementLine else (node,)
        if any(type(small) in (cst.Global, cst.Nonlocal) for small in smalls):  # type: ignore[attr-defined]
            return True
    return False
