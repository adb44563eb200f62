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
from collections.abc import Callable
from dataclasses import dataclass, field

#: qualified name used for code at module level (outside any function)
MODULE_SCOPE = "<module>"

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

#: calls that can produce float64 arrays or scalars (numpy allocations, conversions and
#: random draws, including Generator methods): what dtype-reduction rewrites
FLOAT_SOURCES = frozenset(
    {
        "zeros", "empty", "ones", "full", "arange", "linspace", "logspace", "geomspace",
        "eye", "identity", "zeros_like", "empty_like", "ones_like", "full_like", "array",
        "asarray", "asanyarray", "ascontiguousarray", "float64", "double", "float_",
        "rand", "randn", "random", "random_sample", "sample", "ranf", "uniform", "normal",
        "standard_normal", "exponential", "standard_exponential", "gamma", "standard_gamma",
        "beta", "lognormal", "laplace", "logistic", "gumbel", "rayleigh", "chisquare",
        "triangular", "vonmises", "wald", "weibull", "pareto", "power", "f", "standard_t",
        "standard_cauchy", "noncentral_chisquare", "noncentral_f", "multivariate_normal",
        "dirichlet",
    }
)  # fmt: skip


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
    n_range_loops: int = 0  # `for ... in range(...)` loops whose body subscripts something
    has_sibling_loops: bool = False  # two `for` loops in one statement list
    has_temporary_chain: bool = False  # `t = <expr>` followed by a statement computing with t
    called_names: frozenset[str] = frozenset()  # names called directly (`f(...)`)
    n_astype_calls: int = 0  # `x.astype(...)` calls
    # a parameter subscripted, in arithmetic, with a method called, or passed to numpy
    uses_params_as_arrays: bool = False
    n_float_sources: int = 0  # calls of FLOAT_SOURCES names (numpy or any object's method)

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
        they call (directly or transitively), which a pass may inspect as callees."""
        wanted = PASS_SCREENS.get(pass_name, _default_screen)
        chosen = {f.qualname: f for f in self.functions if wanted(f)}
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
    # GO2xx: GO201 adjacent `for` loops in one block, GO202 chains of temporaries
    "loop-fusion": lambda f: f.has_sibling_loops or f.has_temporary_chain,
    # GO4xx: module-level functions with loops (methods and nested functions only get notes)
    "jit": lambda f: f.module_level and f.n_loops > 0,
    # GO3xx: float64 allocations, draws and conversions (FLOAT_SOURCES calls, `.astype`),
    # and parameters used as arrays (converted on entry)
    "dtype-reduction": lambda f: (
        f.n_float_sources > 0 or f.n_astype_calls > 0 or f.uses_params_as_arrays
    ),
}


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
    n_astype_calls: int = 0
    params: frozenset[str] = frozenset()
    uses_params_as_arrays: bool = False
    n_float_sources: int = 0


def numpy_bindings(tree: ast.Module) -> tuple[frozenset[str], frozenset[str]]:
    """Names bound anywhere in `tree` to numpy modules, and names imported from numpy."""
    aliases: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "numpy" or a.name.startswith("numpy."):
                    aliases.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "numpy" or node.module.startswith("numpy."):
                for a in node.names:
                    if a.name != "*":
                        names.add(a.asname or a.name)
    return frozenset(aliases), frozenset(names)


def _call_root(func: ast.expr) -> tuple[str | None, bool]:
    """The root name of a call target and whether it was reached through attributes."""
    through_attr = False
    while isinstance(func, ast.Attribute):
        func = func.value
        through_attr = True
    if isinstance(func, ast.Name):
        return func.id, through_attr
    return None, through_attr


def _is_range_loop_over_arrays(loop: ast.AST) -> bool:
    """A `for` over `range(...)`-like calls whose body subscripts something."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)) or not isinstance(loop.iter, ast.Call):
        return False
    func = loop.iter.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    if "range" not in name:
        return False
    return any(isinstance(n, ast.Subscript) for stmt in loop.body for n in ast.walk(stmt))


def _uses_params(node: ast.AST, params: frozenset[str]) -> bool:
    """`p[...]`, `p.method(...)`/`p.attr`, or `p` as an arithmetic operand, for a parameter p."""
    if isinstance(node, (ast.Subscript, ast.Attribute)):
        return isinstance(node.value, ast.Name) and node.value.id in params
    if isinstance(node, ast.BinOp):
        return any(isinstance(x, ast.Name) and x.id in params for x in (node.left, node.right))
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Name) and node.operand.id in params
    return False


def _is_array_op(node: ast.AST, aliases: frozenset[str], names: frozenset[str]) -> bool:
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
    first: ast.stmt, second: ast.stmt, aliases: frozenset[str], names: frozenset[str]
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

    def __init__(self, aliases: frozenset[str], names: frozenset[str]) -> None:
        self.aliases = aliases
        self.names = names
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
        if isinstance(node, _LOOPS):
            frame.n_loops += 1
            if _is_range_loop_over_arrays(node):
                frame.n_range_loops += 1
            frame.loop_depth += 1
            frame.max_loop_depth = max(frame.max_loop_depth, frame.loop_depth)
            for child in ast.iter_child_nodes(node):
                self.visit(child)
            frame.loop_depth -= 1
            return
        if frame.params and not frame.uses_params_as_arrays:
            frame.uses_params_as_arrays = _uses_params(node, frame.params)
        if isinstance(node, _COMPREHENSIONS):
            frame.n_comprehensions += 1
        elif isinstance(node, ast.Call):
            frame.n_calls += 1
            if isinstance(node.func, ast.Name):
                frame.called_names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "astype":
                frame.n_astype_calls += 1
            root, through_attr = _call_root(node.func)
            is_numpy = root is not None and (
                (through_attr and root in self.aliases) or (not through_attr and root in self.names)
            )
            if is_numpy:
                frame.n_numpy_calls += 1
                if any(isinstance(a, ast.Name) and a.id in frame.params for a in node.args):
                    frame.uses_params_as_arrays = True  # a parameter passed to numpy
            last = node.func.attr if isinstance(node.func, ast.Attribute) else None
            if (last in FLOAT_SOURCES) or (
                is_numpy and isinstance(node.func, ast.Name) and node.func.id in FLOAT_SOURCES
            ):
                frame.n_float_sources += 1
        for child in ast.iter_child_nodes(node):
            self.visit(child)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # decorators, defaults and annotations are evaluated in the enclosing scope
        for d in node.decorator_list:
            self.visit(d)
        for default in (*node.args.defaults, *(d for d in node.args.kw_defaults if d)):
            self.visit(default)
        qualname = ".".join([*self.prefix, node.name])
        frame = _Frame(node=node, qualname=qualname, is_method=self.in_class[-1])
        frame.params = frozenset(
            a.arg
            for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
            if a.arg not in ("self", "cls")
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
                n_range_loops=frame.n_range_loops,
                has_sibling_loops=frame.has_sibling_loops,
                has_temporary_chain=frame.has_temporary_chain,
                called_names=frozenset(frame.called_names),
                n_astype_calls=frame.n_astype_calls,
                uses_params_as_arrays=frame.uses_params_as_arrays,
                n_float_sources=frame.n_float_sources,
            )
        )

    def _blocks(self, node: ast.stmt, frame: _Frame) -> None:
        for attr in ("body", "orelse", "finalbody"):
            block = getattr(node, attr, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                self._block_facts(block, frame)
        for handler in getattr(node, "handlers", ()) or ():
            self._block_facts(handler.body, frame)

    def _block_facts(self, block: list[ast.stmt], frame: _Frame) -> None:
        """Facts about one statement list: sibling loops, temporaries chains."""
        if sum(1 for s in block if isinstance(s, (ast.For, ast.AsyncFor))) >= 2:
            frame.has_sibling_loops = True
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
        numpy_names=names,
        module_has_loops=walker.module.n_loops > 0,
    )
