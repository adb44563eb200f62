"""Cheap screening of a module with the stdlib `ast`: which functions deserve the libcst passes.

Building libcst trees and metadata is the slow part of analysis (~90 ms for an
average numpy source file against ~4 ms for `ast.parse`). Screening walks the
stdlib tree once, records a sketch of every function (location, loops, numpy
calls) and marks as *candidates* only the functions with a `for`/`while` loop or
a numpy call; only those are handed to the libcst-based passes
(see `greenopt.batch.pruning`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

from greenopt.passes.dtype_reduction import (
    ARRAY_CONSUMERS,
    ARRAY_METHODS,
    DEFAULT_FLOAT64,
    DTYPE_POSITION,
    FLOAT64_RANDOM,
    FLOAT64_STRINGS,
)

#: qualified name used for code at module level (outside any function)
MODULE_SCOPE = "<module>"

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

#: last names of the numpy functions whose arguments dtype-reduction takes as arrays
_CONSUMER_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in ARRAY_CONSUMERS)
#: what `x.astype(<this>)` must look like to be a float64 conversion: a name (it may be
#: `float` or an alias of `numpy.float64`), `<...>.float64`-like attributes, or a string
_FLOAT64_ATTRS = frozenset({"float64", "double", "float_"})


@dataclass(frozen=True)
class FunctionSketch:
    """What screening learns about one function (all counts exclude nested functions)."""

    qualname: str
    line: int  # line of the `def` keyword
    start_line: int  # first line of the definition, decorators included
    end_line: int
    col: int
    n_lines: int
    n_statements: int
    n_loops: int
    max_loop_depth: int
    n_comprehensions: int
    n_calls: int
    n_numpy_calls: int
    is_method: bool
    is_async: bool
    module_level: bool = False  # defined at module level (possibly under an `if`/`try`)
    is_decorated: bool = False  # has at least one decorator
    n_range_loops: int = 0  # `for ... in range(...)` loops whose body subscripts something
    has_sibling_loops: bool = False  # two adjacent `for x in range(...)` loops in one block
    has_temporary_chain: bool = False  # `t = <expr>` followed by a statement computing with t
    called_names: frozenset[str] = frozenset()  # names called directly (`f(...)`)
    # a parameter subscripted (`p[...]`), with an array method called (`p.sum()`) or
    # passed to a numpy function, here or in a nested function or lambda
    uses_params_as_arrays: bool = False
    # numpy calls that may produce float64 (FLOAT64_CALLS), `x.astype(<float64-like>)`
    n_float64_sources: int = 0

    @property
    def candidate(self) -> bool:
        """True when the function has a loop or a numpy call (worth the libcst passes)."""
        return self.n_loops > 0 or self.n_numpy_calls > 0


@dataclass(frozen=True)
class Screening:
    """The screening of one module: function sketches in source order and module-level facts."""

    functions: tuple[FunctionSketch, ...]
    numpy_aliases: frozenset[str]  # names bound to the numpy module or one of its submodules
    numpy_names: frozenset[str]  # names imported from numpy (`from numpy import zeros`)
    module_has_loops: bool  # a loop outside every function

    @property
    def candidates(self) -> tuple[FunctionSketch, ...]:
        """The functions worth analysing with the libcst passes."""
        return tuple(f for f in self.functions if f.candidate)

    def candidates_for(self, pass_name: str) -> tuple[FunctionSketch, ...]:
        """The functions pass `pass_name` could report on, plus the module-level functions
        they call (directly or transitively), which a pass may inspect as callees (not
        for the passes in `SELF_CONTAINED_PASSES`)."""
        wanted = PASS_SCREENS.get(pass_name, _default_screen)
        chosen = {f.qualname: f for f in self.functions if wanted(f)}
        if pass_name in SELF_CONTAINED_PASSES:
            return tuple(chosen.values())
        by_name = {f.qualname: f for f in self.functions if f.module_level}
        todo = list(chosen.values())
        while todo:
            for name in todo.pop().called_names:
                callee = by_name.get(name)
                if callee is not None and name not in chosen:
                    chosen[name] = callee
                    todo.append(callee)
        return tuple(f for f in self.functions if f.qualname in chosen)


def _default_screen(f: FunctionSketch) -> bool:
    return f.candidate


#: per pass, a cheap superset test of "this function could get a finding from the pass",
#: read off the pass's documented conditions (a test checks screened == unscreened results
#: on the corpus and on every pass's own examples); passes not listed use `candidate`
PASS_SCREENS: dict[str, Callable[[FunctionSketch], bool]] = {
    # GO1xx: `for ... in range(...)` loops (nests) over subscripted arrays
    "vectorize": lambda f: f.n_range_loops > 0,
    # GO2xx: GO201 adjacent `for x in range(...)` loops in one block, GO202 chains of
    # temporaries
    "loop-fusion": lambda f: f.has_sibling_loops or f.has_temporary_chain,
    # GO4xx: undecorated module-level functions with loops (methods, nested and decorated
    # functions only get notes, which analyze does not record)
    "jit": lambda f: f.module_level and f.n_loops > 0 and not f.is_decorated,
    # GO3xx: float64 allocations, draws and conversions (numpy FLOAT64_CALLS, `.astype`),
    # and parameters used as arrays (converted on entry)
    "dtype-reduction": lambda f: f.n_float64_sources > 0 or f.uses_params_as_arrays,
}


#: passes whose findings in a function depend only on that function and the module's
#: imports (dtype-reduction plans each function alone): their callees are not needed
SELF_CONTAINED_PASSES = frozenset({"dtype-reduction"})


@dataclass
class _Frame:
    """Mutable counters of the function being walked (local to one screening)."""

    node: ast.AST
    qualname: str
    is_method: bool
    n_statements: int = 0
    n_loops: int = 0
    max_loop_depth: int = 0
    loop_depth: int = 0
    n_comprehensions: int = 0
    n_calls: int = 0
    n_numpy_calls: int = 0
    n_range_loops: int = 0
    has_sibling_loops: bool = False
    has_temporary_chain: bool = False
    called_names: set[str] = field(default_factory=set)
    params: frozenset[str] = frozenset()
    array_evidence: set[str] = field(default_factory=set)  # names used as arrays (nested too)
    rebound: set[str] = field(default_factory=set)  # names bound or stored through (nested too)
    n_float64_sources: int = 0


def numpy_bindings(tree: ast.Module) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Names bound anywhere in `tree` to numpy modules, and names imported from numpy
    (`from numpy import zeros as z`), each with the name(s) it was imported as ("zeros")."""
    aliases: set[str] = set()
    names: dict[str, set[str]] = {}
    for node in statements(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "numpy" or a.name.startswith("numpy."):
                    aliases.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "numpy" or node.module.startswith("numpy."):
                for a in node.names:
                    if a.name != "*":
                        names.setdefault(a.asname or a.name, set()).add(a.name)
    return frozenset(aliases), {k: frozenset(v) for k, v in names.items()}


#: fields of `ast` nodes that hold statement lists (or except handlers / match cases)
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every statement under `tree` (except handlers and match cases too), in no
    particular order; expressions are never entered, which is what makes it cheap.

    Imports and definitions are statements, so this finds all of them.
    """
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        for name in _BLOCK_FIELDS:
            block = getattr(node, name, None)
            if type(block) is list:
                stack.extend(block)


#: node types `_Screener.visit` has nothing to count in, at any depth: names, constants,
#: load/store contexts and operators (about half of all nodes)
_INERT = frozenset(
    {ast.Name, ast.Constant}
    | {
        kind
        for base in (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)
        for kind in (base, *base.__subclasses__())
    }
)


def _countable_children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes(node)` as a list, minus the `_INERT` nodes (the hot path of
    screening: it saves two generators per node and the visits of the leaves)."""
    found: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            found.extend(
                item for item in value if isinstance(item, ast.AST) and type(item) not in _INERT
            )
        elif isinstance(value, ast.AST) and type(value) not in _INERT:
            found.append(value)
    return found


def _call_root(func: ast.expr) -> tuple[str | None, bool]:
    """The root name of a call target and whether it was reached through attributes."""
    through_attr = False
    while isinstance(func, ast.Attribute):
        func = func.value
        through_attr = True
    if isinstance(func, ast.Name):
        return func.id, through_attr
    return None, through_attr


def _simple_range_loop(stmt: ast.stmt) -> bool:
    """`for <name> in range(<1 to 3 positional arguments>):` without `else` (what
    loop-fusion's `simple_range_loop` accepts)."""
    if not (
        type(stmt) is ast.For
        and not stmt.orelse
        and isinstance(stmt.target, ast.Name)
        and isinstance(stmt.iter, ast.Call)
    ):
        return False
    call = stmt.iter
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "range"
        and not call.keywords
        and 1 <= len(call.args) <= 3
        and not any(isinstance(a, ast.Starred) for a in call.args)
    )


def _is_range_loop_over_arrays(loop: ast.AST) -> bool:
    """A `for` over `range(...)`-like calls whose body subscripts something."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)) or not isinstance(loop.iter, ast.Call):
        return False
    func = loop.iter.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    if "range" not in name:
        return False
    return any(isinstance(n, ast.Subscript) for stmt in loop.body for n in ast.walk(stmt))


def _may_mean_float64(dtype: ast.expr, float64_names: Collection[str]) -> bool:
    """Whether `dtype` may mean float64 to the dtype pass (`_means_float64`): one of
    `float64_names` (`float`, or a name imported from numpy as `float64`/`double`/
    `float_`), a `float64`/`double`/`float_` attribute, or a float64 dtype string."""
    if isinstance(dtype, ast.Name):
        return dtype.id in float64_names
    if isinstance(dtype, ast.Attribute):
        return dtype.attr in _FLOAT64_ATTRS
    return isinstance(dtype, ast.Constant) and dtype.value in FLOAT64_STRINGS


def _may_make_float64(name: str, call: ast.Call, float64_names: Collection[str]) -> bool:
    """Whether numpy's `name` called as `call` may produce float64: what the dtype pass's
    `classify_call` accepts, loosened where that needs more than syntax (`float64_names`:
    the names that may mean float64, see `_may_mean_float64`)."""
    if name in ("float64", "double") or name in FLOAT64_RANDOM:
        return True
    position = DTYPE_POSITION.get(name)
    if position is None:
        return False
    if any(k.arg is None for k in call.keywords) or any(
        isinstance(a, ast.Starred) for a in call.args
    ):
        return True  # `*args` / `**kwargs` may hold anything
    dtype = next((k.value for k in call.keywords if k.arg == "dtype"), None)
    if dtype is None and len(call.args) > position:
        dtype = call.args[position]
    if dtype is not None:
        return _may_mean_float64(dtype, float64_names)
    if name in DEFAULT_FLOAT64:
        return True
    positional = call.args
    if name == "full":
        return len(positional) > 1 and _float_literal(positional[1])
    if name == "arange":
        return any(_float_literal(p) for p in positional)
    if name == "array":
        return bool(positional) and _has_float_leaf(positional[0])
    return False


def _float_literal(expr: ast.expr) -> bool:
    """`1.5` or `-1.5` (as the dtype pass's `_float_literal`)."""
    if isinstance(expr, ast.UnaryOp):
        expr = expr.operand
    return isinstance(expr, ast.Constant) and type(expr.value) is float


def _has_float_leaf(expr: ast.expr) -> bool:
    """True for a (nested) list/tuple of number literals with a float among them."""
    stack = [expr]
    found = False
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.List, ast.Tuple)):
            stack.extend(node.elts)
            continue
        inner = node.operand if isinstance(node, ast.UnaryOp) else node
        if not (isinstance(inner, ast.Constant) and type(inner.value) in (int, float)):
            return False
        found = found or type(inner.value) is float
    return found


def _annotations(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """The parameter and return annotations of `func` (screening does not count them)."""
    args = func.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    found = [a.annotation for a in every if a is not None and a.annotation is not None]
    return found if func.returns is None else [*found, func.returns]


#: nodes that bind names (or store through them): what `_rebound_names` reads
_BINDERS = frozenset(
    {ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith,
     ast.NamedExpr, ast.comprehension, ast.Delete}
)  # fmt: skip


def _rebound_names(node: ast.AST) -> set[str]:
    """Names that `node` binds, and names an assignment stores through (`p[i] = ...`,
    `p.x = ...`, `p[i] += ...`).

    For a parameter, either disqualifies it in dtype-reduction's `_array_params`: a
    second binding site, or a store through it (`excluded`). Only what surely does
    is returned (a subset of the pass's conditions, so the screen stays a superset).
    """
    found: set[str] = set()
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
        for target in node.targets:
            if isinstance(target, (ast.Subscript, ast.Attribute)):
                found |= _store_root(target)
    elif isinstance(node, ast.AugAssign):
        targets = [node.target]
        found |= _store_root(node.target)
    elif isinstance(node, (ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.comprehension)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    elif isinstance(node, ast.Delete):
        targets = list(node.targets)
    while targets:
        target = targets.pop()
        if isinstance(target, ast.Name):
            found.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
        elif isinstance(target, ast.Starred):
            targets.append(target.value)
    return found


def _store_root(target: ast.expr) -> set[str]:
    """The name at the root of a subscript/attribute chain (`p` of `p[i].x`), if any."""
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return {target.id} if isinstance(target, ast.Name) else set()


def _scalar_annotated(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters annotated `int`, `float`, `bool` or `complex` (never float arrays to the
    dtype pass)."""
    args = func.args
    return {
        a.arg
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
        if isinstance(a.annotation, ast.Name)
        and a.annotation.id in ("int", "float", "bool", "complex")
    }


def _names(expr: ast.AST) -> set[str]:
    """Every name `expr` mentions."""
    return {node.id for node in ast.walk(expr) if isinstance(node, ast.Name)}


def _is_array_op(node: ast.AST, aliases: Collection[str], names: Collection[str]) -> bool:
    """Binary arithmetic, or a call of a numpy function (`np.add(...)`, numpy's `sqrt(...)`)."""
    if isinstance(node, ast.BinOp):
        return True
    if isinstance(node, ast.Call):
        root, through_attr = _call_root(node.func)
        return root is not None and (
            (through_attr and root in aliases) or (not through_attr and root in names)
        )
    return False


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        return [*node.args, *(k.value for k in node.keywords)]
    return []


def _starts_chain(
    first: ast.stmt, second: ast.stmt, aliases: Collection[str], names: Collection[str]
) -> bool:
    """`t = <array op>` followed by `u = <op with t as a direct operand>` or `return <op>`."""
    if not (
        isinstance(first, ast.Assign)
        and len(first.targets) == 1
        and isinstance(first.targets[0], ast.Name)
        and _is_array_op(first.value, aliases, names)
    ):
        return False
    if isinstance(second, ast.Assign) and len(second.targets) == 1:
        value: ast.AST | None = second.value
    elif isinstance(second, ast.Return):
        value = second.value
    else:
        return False
    if value is None or not _is_array_op(value, aliases, names):
        return False
    name = first.targets[0].id
    return any(isinstance(o, ast.Name) and o.id == name for o in _operands(value))


def start_line(node: ast.stmt) -> int:
    """First line of a statement, counting the decorators of a def or class."""
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


class _Screener:
    """One walk over a module's `ast` producing function sketches (used once, then dropped)."""

    def __init__(self, aliases: frozenset[str], names: Mapping[str, frozenset[str]]) -> None:
        self.aliases = aliases
        self.names = names
        self.float64_names = {"float"} | {
            local for local, imported in names.items() if imported & _FLOAT64_ATTRS
        }
        self.module = _Frame(
            node=ast.Module(body=[], type_ignores=[]), qualname="", is_method=False
        )
        self.frames: list[_Frame] = [self.module]
        self.prefix: list[str] = []  # qualified-name prefix parts
        self.in_class: list[bool] = [False]
        self.out: list[FunctionSketch] = []

    def run(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            self.visit(stmt)

    def visit(self, node: ast.AST) -> None:
        frame = self.frames[-1]
        if isinstance(node, _FUNCS):
            self._function(node)
            return
        if isinstance(node, ast.ClassDef):
            for d in node.decorator_list:
                self.visit(d)
            for b in (*node.bases, *(k.value for k in node.keywords)):
                self.visit(b)
            self.prefix.append(node.name)
            self.in_class.append(True)
            for stmt in node.body:
                self.visit(stmt)
            self.in_class.pop()
            self.prefix.pop()
            return
        if isinstance(node, ast.stmt):
            frame.n_statements += 1
            self._blocks(node, frame)
        if type(node) in _BINDERS:
            frame.rebound |= _rebound_names(node)
        if isinstance(node, _LOOPS):
            frame.n_loops += 1
            if _is_range_loop_over_arrays(node):
                frame.n_range_loops += 1
            frame.loop_depth += 1
            frame.max_loop_depth = max(frame.max_loop_depth, frame.loop_depth)
            for child in _countable_children(node):
                self.visit(child)
            frame.loop_depth -= 1
            return
        if isinstance(node, ast.Subscript):
            if isinstance(node.value, ast.Name):
                frame.array_evidence.add(node.value.id)
        elif isinstance(node, _COMPREHENSIONS):
            frame.n_comprehensions += 1
        elif isinstance(node, ast.Call):
            self._call(node, frame)
        for child in _countable_children(node):
            self.visit(child)

    def _call(self, node: ast.Call, frame: _Frame) -> None:
        """Count a call, and note what it tells the dtype-reduction screen."""
        func = node.func
        frame.n_calls += 1
        if isinstance(func, ast.Name):
            frame.called_names.add(func.id)
        root, through_attr = _call_root(func)
        if root is not None and (
            (through_attr and root in self.aliases) or (not through_attr and root in self.names)
        ):
            frame.n_numpy_calls += 1
        if self._float64_source(node):
            frame.n_float64_sources += 1
        # as dtype-reduction's `_array_params` takes evidence: a name passed to a numpy
        # function of ARRAY_CONSUMERS (known by its last name, through any numpy alias)
        if any(name.rsplit(".", 1)[-1] in _CONSUMER_NAMES for name in self._numpy_function(node)):
            for arg in (*node.args, *(k.value for k in node.keywords)):
                value = arg.value if isinstance(arg, ast.Starred) else arg
                if isinstance(value, ast.Name):
                    frame.array_evidence.add(value.id)  # passed whole to numpy
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ARRAY_METHODS
            and isinstance(func.value, ast.Name)
        ):
            frame.array_evidence.add(func.value.id)

    def _float64_source(self, node: ast.Call) -> bool:
        """Whether dtype-reduction's `classify_call` may accept `node` (loosened)."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "astype":
            if node.args and _may_mean_float64(node.args[0], self.float64_names):
                return True
        return any(
            _may_make_float64(name, node, self.float64_names) for name in self._numpy_function(node)
        )

    def _numpy_function(self, node: ast.Call) -> Collection[str]:
        """The names the called function may have in numpy (its last attribute, or the
        names a bare name was imported as); empty when the call cannot reach numpy."""
        func = node.func
        root, through_attr = _call_root(func)
        if root is None or not (root in self.aliases or root in self.names):
            return ()
        if through_attr:
            return (func.attr,)  # type: ignore[attr-defined]
        return self.names.get(root, frozenset())

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # decorators, defaults and annotations are evaluated in the enclosing scope
        for d in node.decorator_list:
            self.visit(d)
        for default in (*node.args.defaults, *(d for d in node.args.kw_defaults if d)):
            self.visit(default)
        qualname = ".".join([*self.prefix, node.name])
        frame = _Frame(node=node, qualname=qualname, is_method=self.in_class[-1])
        args = node.args
        frame.params = frozenset(
            a.arg
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
            if a is not None and a.arg not in ("self", "cls")
        )
        # the dtype pass counts the calls of a def's header (decorators, defaults and
        # annotations) as the function's own
        for expr in (*node.decorator_list, *args.defaults, *args.kw_defaults, *_annotations(node)):
            if expr is not None:
                frame.n_float64_sources += sum(
                    1
                    for sub in ast.walk(expr)
                    if isinstance(sub, ast.Call) and self._float64_source(sub)
                )
        module_level = not self.prefix
        self._block_facts(node.body, frame)
        self.frames.append(frame)
        self.prefix.extend([node.name, "<locals>"])
        self.in_class.append(False)
        for stmt in node.body:
            self.visit(stmt)
        self.in_class.pop()
        del self.prefix[-2:]
        self.frames.pop()
        # the dtype pass reads the whole body of the enclosing function, nested defs (with
        # their annotations) included: what this function uses as arrays counts there too
        parent = self.frames[-1]
        parent.array_evidence |= frame.array_evidence
        parent.rebound |= frame.rebound
        for annotation in _annotations(node):
            parent.array_evidence |= _names(annotation)
        end = node.end_lineno or node.lineno
        first = start_line(node)
        self.out.append(
            FunctionSketch(
                qualname=qualname,
                line=node.lineno,
                start_line=first,
                end_line=end,
                col=node.col_offset,
                n_lines=end - first + 1,
                n_statements=frame.n_statements,
                n_loops=frame.n_loops,
                max_loop_depth=frame.max_loop_depth,
                n_comprehensions=frame.n_comprehensions,
                n_calls=frame.n_calls,
                n_numpy_calls=frame.n_numpy_calls,
                is_method=frame.is_method,
                is_async=isinstance(node, ast.AsyncFunctionDef),
                module_level=module_level,
                is_decorated=bool(node.decorator_list),
                n_range_loops=frame.n_range_loops,
                has_sibling_loops=frame.has_sibling_loops,
                has_temporary_chain=frame.has_temporary_chain,
                called_names=frozenset(frame.called_names),
                uses_params_as_arrays=bool(
                    (frame.params & frame.array_evidence) - frame.rebound - _scalar_annotated(node)
                ),
                n_float64_sources=frame.n_float64_sources,
            )
        )

    def _blocks(self, node: ast.stmt, frame: _Frame) -> None:
        for attr in ("body", "orelse", "finalbody"):
            block = getattr(node, attr, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                self._block_facts(block, frame)
        for handler in getattr(node, "handlers", ()) or ():
            self._block_facts(handler.body, frame)
        for case in getattr(node, "cases", ()) or ():
            self._block_facts(case.body, frame)

    def _block_facts(self, block: list[ast.stmt], frame: _Frame) -> None:
        """Facts about one statement list: adjacent range loops, temporaries chains."""
        if not frame.has_sibling_loops:
            frame.has_sibling_loops = any(
                _simple_range_loop(first) and _simple_range_loop(second)
                for first, second in zip(block, block[1:], strict=False)
            )
        if not frame.has_temporary_chain:
            for first, second in zip(block, block[1:], strict=False):
                if _starts_chain(first, second, self.aliases, self.names):
                    frame.has_temporary_chain = True
                    break


def screen(tree: ast.Module) -> Screening:
    """Sketch every function of a parsed module, in source order."""
    aliases, names = numpy_bindings(tree)
    walker = _Screener(aliases, names)
    walker.run(tree)
    functions = tuple(sorted(walker.out, key=lambda f: (f.line, f.col, f.qualname)))
    return Screening(
        functions=functions,
        numpy_aliases=aliases,
        numpy_names=frozenset(names),
        module_has_loops=walker.module.n_loops > 0,
    )
