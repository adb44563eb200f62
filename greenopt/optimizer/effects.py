"""Side effects and early exits in loop bodies, each explained in one phrase.

A loop may only be rewritten when running its body for all iterations at once
cannot be told apart from running it one iteration at a time. That rules out
early exits (`break`, `continue`, `return`, `raise`, `assert`, `yield`), I/O
(`print`, `open`, ...), calls of unknown functions (they may do anything),
mutation of objects through methods (`lst.append`), writes to attributes or
globals, and exceptions handled inside the loop. The functions here return the
first reason found, or None when the code is free of them.
"""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst
from libcst.metadata import QualifiedNameSource

from greenopt.optimizer.cst_nodes import walk
from greenopt.optimizer.numpy_names import ELEMENTWISE_UFUNCS, NameResolver

#: builtins a vectorised expression may contain (translated by the pass)
PURE_BUILTINS = frozenset({"abs", "min", "max"})

#: builtins that do I/O
IO_BUILTINS = frozenset({"print", "open", "input", "exec", "eval", "breakpoint", "__import__"})

#: attributes that are plain data of an array (no side effects, cheap)
ARRAY_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype", "T", "real", "imag"})

#: numpy constants usable in vectorised expressions
NUMPY_CONSTANTS = frozenset({"pi", "e", "inf", "nan", "newaxis", "euler_gamma"})

_EXIT_REASONS: dict[type[cst.CSTNode], str] = {
    cst.Break: "early exit (break)",
    cst.Continue: "early exit (continue)",
    cst.Return: "early exit (return)",
    cst.Raise: "may raise (raise)",
    cst.Assert: "may raise (assert)",
    cst.Yield: "yields inside the loop",
    cst.Await: "awaits inside the loop",
    cst.Global: "declares a global",
    cst.Nonlocal: "declares a nonlocal",
    cst.Del: "deletes names or items",
    cst.Try: "handles exceptions inside the loop",
    cst.With: "uses a context manager inside the loop",
    cst.While: "contains a while loop",
    cst.Import: "imports inside the loop",
    cst.ImportFrom: "imports inside the loop",
    cst.FunctionDef: "defines a function inside the loop",
    cst.ClassDef: "defines a class inside the loop",
    cst.Lambda: "creates a lambda inside the loop",
}


def early_exit(body: cst.CSTNode) -> str | None:
    """The first early exit or control-flow construct in `body` that blocks a rewrite."""
    for node in walk(body):
        reason = _EXIT_REASONS.get(type(node))
        if reason is not None:
            return reason
    return None


def expression_effect(
    expr: cst.CSTNode,
    resolver: NameResolver,
    allowed_numpy: Collection[str] = ELEMENTWISE_UFUNCS,
) -> str | None:
    """Why evaluating `expr` once for all iterations might differ (None: it is pure)."""
    skip: set[int] = set()
    for node in walk(expr):
        if id(node) in skip:
            continue
        if type(node) is cst.Call:
            reason = _call_problem(node, resolver, allowed_numpy)
            if reason:
                return reason
            skip.update(id(n) for n in walk(node.func))  # the callee is checked above
        elif type(node) is cst.Attribute:
            np_name = resolver.numpy_name(node)
            if np_name is not None:
                if np_name not in NUMPY_CONSTANTS and np_name not in allowed_numpy:
                    return f"uses numpy.{np_name}"
                skip.update(id(n) for n in walk(node))
            elif node.attr.value not in ARRAY_ATTRIBUTES:
                return f"reads attribute .{node.attr.value} (may run code)"
        elif type(node) is cst.NamedExpr:
            return "assignment expression (:=)"
        elif type(node) in (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp):
            return "comprehension inside the loop"
        elif type(node) in (cst.Yield, cst.Await, cst.Lambda):
            return _EXIT_REASONS[type(node)]
    return None


def _call_problem(
    node: cst.Call, resolver: NameResolver, allowed_numpy: Collection[str]
) -> str | None:
    func = node.func
    np_name = resolver.numpy_name(func)
    if np_name is not None:
        if np_name in allowed_numpy:
            if any(a.keyword is not None and a.keyword.value == "out" for a in node.args):
                return f"numpy.{np_name}(out=...) writes its output"
            return None
        return f"calls numpy.{np_name}, not an elementwise function"
    builtin = resolver.builtin_name(func)
    if builtin in IO_BUILTINS:
        return f"does I/O ({builtin})"
    if builtin in PURE_BUILTINS:
        return None
    if builtin is not None:
        return f"calls builtin {builtin}() (not vectorisable)"
    module_function = _stdlib_math_name(func, resolver)
    if module_function is not None:
        return (
            f"calls {module_function}(): math functions are not vectorised "
            "(they raise on domain errors where NumPy returns nan or inf)"
        )
    if type(func) is cst.Attribute:
        return f"calls method .{func.attr.value}() (may mutate or have side effects)"
    name = func.value if type(func) is cst.Name else "a computed callable"
    return f"calls {name}(), which may have side effects"


def _stdlib_math_name(func: cst.BaseExpression, resolver: NameResolver) -> str | None:
    """`"math.sqrt"` when `func` is a function imported from `math` or `cmath`, else None."""
    for qn in resolver.qualified(func):
        head = qn.name.split(".", 1)[0]
        if qn.source is QualifiedNameSource.IMPORT and head in ("math", "cmath") and "." in qn.name:
            return qn.name
    return None


def statement_effect(stmt: cst.BaseSmallStatement, resolver: NameResolver) -> str | None:
    """Why a simple statement of a loop body cannot be vectorised (None: it is an
    assignment to a name or a subscript of a name with a pure value)."""
    if type(stmt) is cst.Expr:
        value = stmt.value
        if type(value) is cst.Call:
            return expression_effect(value, resolver) or "a bare call statement"
        return "an expression statement"
    if type(stmt) is cst.Pass:
        return None
    if type(stmt) is cst.AnnAssign:
        return "an annotated assignment"
    if type(stmt) is cst.Assign:
        if len(stmt.targets) != 1:
            return "a chained assignment"
        targets = [stmt.targets[0].target]
        value: cst.CSTNode = stmt.value
    elif type(stmt) is cst.AugAssign:
        targets = [stmt.target]
        value = stmt.value
    else:
        return early_exit(stmt) or f"a {type(stmt).__name__} statement"
    for target in targets:
        problem = target_effect(target)
        if problem:
            return problem
        if type(target) is cst.Subscript:
            problem = expression_effect(_subscript_indices(target), resolver)
            if problem:
                return problem
    return expression_effect(value, resolver)


def target_effect(target: cst.BaseExpression) -> str | None:
    """Why writing to `target` is not a local array or scalar write (None when it is)."""
    if type(target) is cst.Name:
        return None
    if type(target) is cst.Attribute:
        return f"writes attribute .{target.attr.value}"
    if type(target) is cst.Subscript:
        base: cst.BaseExpression = target
        while type(base) is cst.Subscript:
            base = base.value
        if type(base) is cst.Name:
            return None
        if type(base) is cst.Attribute:
            return f"writes into attribute .{base.attr.value}"
        return "writes into a computed object"
    return "unpacks into several targets"


def _subscript_indices(target: cst.Subscript) -> cst.CSTNode:
    """A Tuple holding the index expressions of a (chained) subscript, for checking."""
    elements: list[cst.Element] = []
    current: cst.BaseExpression = target
    while type(current) is cst.Subscript:
        for el in current.slice:
            if type(el.slice) is cst.Index:
                elements.append(cst.Element(el.slice.value))
        current = current.value
    return cst.Tuple(elements=elements) if elements else cst.Tuple(elements=[])
