"""Name resolution for numerical code: which names mean numpy, builtins or locals.

Built on a scope analysis (`scopes.ScopeIndex`, libcst's qualified names without
libcst's cost), never on string matching, so `np.sum`, `numpy.sum`, `xp.sum` (after `import numpy as xp`) and
`sum` (after `from numpy import sum`) all resolve to `numpy.sum`, while a local
variable called `len` is not the builtin. Also decides which alias a rewrite
should use for numpy and adds `import numpy as np` once when none exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    PositionProvider,
    QualifiedName,
    QualifiedNameSource,
)

from greenopt.optimizer.cst_nodes import walk
from greenopt.optimizer.scopes import ScopeIndex

#: numpy functions that are pure (no side effects, no in-place mutation of their arguments)
#: and elementwise (ufunc-like): safe inside a vectorised expression.
ELEMENTWISE_UFUNCS = frozenset(
    {
        "abs", "absolute", "fabs", "negative", "positive", "sqrt", "cbrt", "square", "exp",
        "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin",
        "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
        "arctanh", "hypot", "floor", "ceil", "trunc", "rint", "sign", "minimum", "maximum",
        "fmin", "fmax", "add", "subtract", "multiply", "divide", "true_divide", "power",
        "float_power", "mod", "fmod", "remainder", "floor_divide", "copysign", "isnan",
        "isinf", "isfinite", "logical_and", "logical_or", "logical_not", "logical_xor",
        "where", "clip", "deg2rad", "rad2deg", "degrees", "radians", "reciprocal",
        "heaviside", "real", "imag", "conj", "conjugate",
    }
)  # fmt: skip

#: numpy ufuncs that never warn or raise on any finite/inf/NaN input (safe to evaluate
#: speculatively, e.g. on both branches of an `np.where`)
TOTAL_UFUNCS = frozenset(
    {
        "abs", "absolute", "fabs", "negative", "positive", "square", "sin", "cos", "tanh",
        "floor", "ceil", "trunc", "rint", "sign", "minimum", "maximum", "fmin", "fmax",
        "add", "subtract", "multiply", "copysign", "isnan", "isinf", "isfinite",
        "logical_and", "logical_or", "logical_not", "logical_xor", "clip", "where",
    }
)  # fmt: skip

#: numpy callables that take an output array by position -> how many positional
#: arguments come before it (`np.add(a, b, c)` writes `c`; a ufunc: its `nin`).
#: Generated from NumPy 2.4 (`inspect.signature`, `ufunc.nin`); no import at run time.
# fmt: off
OUT_POSITION: dict[str, int] = {
    **dict.fromkeys((
        "abs", "absolute", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh",
        "arctan", "arctanh", "asin", "asinh", "atan", "atanh", "bitwise_count",
        "bitwise_invert", "bitwise_not", "cbrt", "ceil", "conj", "conjugate", "cos",
        "cosh", "deg2rad", "degrees", "exp", "exp2", "expm1", "fabs", "fix", "floor",
        "frexp", "invert", "isfinite", "isinf", "isnan", "isnat", "isneginf", "isposinf",
        "log", "log10", "log1p", "log2", "logical_not", "modf", "negative", "positive",
        "rad2deg", "radians", "reciprocal", "rint", "sign", "signbit", "sin", "sinh",
        "spacing", "sqrt", "square", "tan", "tanh", "trunc",
    ), 1),
    **dict.fromkeys((
        "add", "all", "amax", "amin", "any", "arctan2", "argmax", "argmin", "around",
        "atan2", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift",
        "bitwise_xor", "choose", "concat", "concatenate", "copysign", "divide", "divmod",
        "dot", "equal", "float_power", "floor_divide", "fmax", "fmin", "fmod", "gcd",
        "greater", "greater_equal", "heaviside", "hypot", "lcm", "ldexp", "left_shift",
        "less", "less_equal", "logaddexp", "logaddexp2", "logical_and", "logical_or",
        "logical_xor", "matmul", "matvec", "max", "maximum", "median", "min", "minimum",
        "mod", "multiply", "nanargmax", "nanargmin", "nanmax", "nanmedian", "nanmin",
        "nextafter", "not_equal", "outer", "pow", "power", "ptp", "remainder",
        "right_shift", "round", "stack", "subtract", "true_divide", "vecdot", "vecmat",
    ), 2),
    **dict.fromkeys((
        "clip", "compress", "cumprod", "cumsum", "mean", "nancumprod", "nancumsum",
        "nanmean", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar",
        "percentile", "prod", "quantile", "std", "sum", "take", "var",
    ), 3),
    **dict.fromkeys((
        "fft.fft", "fft.fft2", "fft.fftn", "fft.hfft", "fft.ifft", "fft.ifft2",
        "fft.ifftn", "fft.ihfft", "fft.irfft", "fft.irfft2", "fft.irfftn", "fft.rfft",
        "fft.rfft2", "fft.rfftn", "is_busday",
    ), 4),
    **dict.fromkeys((
        "busday_count", "trace",
    ), 5),
    **dict.fromkeys((
        "busday_offset",
    ), 6),
}
# fmt: on

#: numpy callables that return a new array (never a view of an argument)
FRESH_ALLOCATORS = frozenset(
    {
        "empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like",
        "full_like", "array", "copy", "arange", "linspace", "logspace", "eye", "identity",
        "concatenate", "stack", "vstack", "hstack", "random.rand", "random.randn",
        "random.random", "random.uniform", "random.normal", "random.randint",
        "random.standard_normal", "random.random_sample", "tile", "repeat", "outer",
        "dot", "matmul", "cumsum", "cumprod", "diff", "sort", "argsort",
    }
)  # fmt: skip

#: numpy callables that may return a view sharing memory with their first argument
VIEW_MAKERS = frozenset(
    {
        "asarray", "asanyarray", "ascontiguousarray", "reshape", "ravel", "transpose",
        "squeeze", "expand_dims", "swapaxes", "moveaxis", "atleast_1d", "atleast_2d",
        "atleast_3d", "broadcast_to", "flip", "fliplr", "flipud", "diagonal", "real",
        "imag", "asfortranarray", "require",
    }
)  # fmt: skip

#: array methods / attributes that return views
VIEW_METHODS = frozenset(
    {"reshape", "ravel", "view", "transpose", "squeeze", "swapaxes", "T", "real", "imag", "flat"}
)


class NameResolver:
    """Qualified names and positions of one module, from a fast scope analysis.

    `qualified(node)` is the set of fully qualified names a Name/Attribute/Call
    refers to (e.g. `{"numpy.sum"}`, `{"builtins.len"}`, `{"f.<locals>.x"}`), the
    values libcst's `QualifiedNameProvider` gives, computed by `scopes.ScopeIndex`.
    """

    def __init__(
        self,
        source: MetadataWrapper | cst.Module,
        keep: Callable[[cst.BaseStatement], bool] | None = None,
    ) -> None:
        if isinstance(source, MetadataWrapper):
            self._wrapper: MetadataWrapper | None = source
            module = source.module
        else:
            self._wrapper = None
            module = source
        self._module = module
        self._index = ScopeIndex(module, keep)
        self._positions: Mapping[cst.CSTNode, object] | None = None  # resolved on first use

    @classmethod
    def for_loops(
        cls, module: cst.Module, keep: Callable[[cst.BaseStatement], bool] | None = None
    ) -> NameResolver:
        """A resolver that analyses only the functions and classes loop analyses need.

        Module-level statements are always analysed; a top-level function or class is
        analysed when it contains a `for` loop (or when `keep(statement)` is true, when
        given); the others only bind their names, and names inside them are unknown.
        """
        if keep is None:
            keep = _has_for_loop
        return cls(module, keep)

    def qualified(self, node: cst.CSTNode) -> set[QualifiedName]:
        """The qualified names of `node` (empty when unknown)."""
        return self._index.qualified(node)

    def numpy_name(self, node: cst.CSTNode) -> str | None:
        """`"sum"` for a node meaning `numpy.sum` (`"random.rand"` for `numpy.random.rand`)."""
        for qn in self.qualified(node):
            if qn.source is QualifiedNameSource.IMPORT and (
                qn.name == "numpy" or qn.name.startswith("numpy.")
            ):
                return qn.name[len("numpy.") :] if qn.name != "numpy" else ""
        return None

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        """True when `node` refers to the (unshadowed) builtin `name`."""
        return any(
            qn.source is QualifiedNameSource.BUILTIN and qn.name == f"builtins.{name}"
            for qn in self.qualified(node)
        )

    def builtin_name(self, node: cst.CSTNode) -> str | None:
        """The builtin a node refers to (`"len"`), or None."""
        for qn in self.qualified(node):
            if qn.source is QualifiedNameSource.BUILTIN and qn.name.startswith("builtins."):
                return qn.name[len("builtins.") :]
        return None

    def position(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """(line, col, end_line, end_col) of `node`; lines 1-based, columns 0-based.

        Computed with libcst's `PositionProvider` over the whole module on first use
        (slow; the passes take statement positions from `SourceModule.statement_positions`).
        """
        if self._positions is None:
            if self._wrapper is None:
                self._wrapper = MetadataWrapper(self._module, unsafe_skip_copy=True)
            self._positions = self._wrapper.resolve(PositionProvider)
        rng = self._positions[node]  # type: ignore[assignment]
        return rng.start.line, rng.start.column, rng.end.line, rng.end.column


def _has_for_loop(stmt: cst.BaseStatement) -> bool:
    return any(isinstance(n, cst.For) for n in walk(stmt))


def numpy_alias(module: cst.Module) -> str | None:
    """The module-level name bound to the numpy package (`np`, `xp`, `numpy`), if any.

    Prefers `import numpy as np`-style aliases over plain `import numpy`; imports
    inside functions or under `if`/`try` are not considered module-level.
    """
    found: list[str] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, cst.Import):
                continue
            for alias in small.names:
                if _dotted(alias.name) != "numpy":
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    found.insert(0, alias.asname.name.value)
                else:
                    found.append("numpy")
    return found[0] if found else None


def module_level_names(module: cst.Module) -> set[str]:
    """Names bound at module level by imports, defs, classes and simple assignments."""
    names: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            names.add(alias.asname.name.value)
                        else:
                            names.add(_dotted(alias.name).split(".")[0])
                elif isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        target = alias.asname.name if alias.asname else alias.name
                        if isinstance(target, cst.Name):
                            names.add(target.value)
                elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = (
                        [t.target for t in small.targets]
                        if isinstance(small, cst.Assign)
                        else [small.target]
                    )
                    for t in targets:
                        if isinstance(t, cst.Name):
                            names.add(t.value)
    return names


def alias_for_rewrite(module: cst.Module) -> str | None:
    """The name a rewrite should write numpy as: the existing alias, else `np` if free.

    Returns None when no alias exists and both `np` and `numpy` are taken by
    something else at module level (the rewrite is then refused).
    """
    existing = numpy_alias(module)
    if existing is not None:
        return existing
    taken = module_level_names(module)
    for candidate in ("np", "numpy"):
        if candidate not in taken:
            return candidate
    return None


def ensure_numpy_import(module: cst.Module, alias: str) -> cst.Module:
    """Return `module` with `import numpy as <alias>` added once, after the docstring
    and `from __future__` imports, when `alias` is not already bound to numpy."""
    if numpy_alias(module) == alias:
        return module
    text = "import numpy\n" if alias == "numpy" else f"import numpy as {alias}\n"
    new_stmt = cst.parse_statement(text)
    body = list(module.body)
    index = 0
    for i, stmt in enumerate(body):
        if i == 0 and _is_docstring(stmt):
            index = 1
            continue
        if isinstance(stmt, cst.SimpleStatementLine) and any(
            isinstance(s, cst.ImportFrom)
            and isinstance(s.module, cst.Name)
            and s.module.value == "__future__"
            for s in stmt.body
        ):
            index = i + 1
            continue
        break
    if index < len(body) and index > 0:
        # keep the blank line that followed the docstring/future imports after them
        if body[index].leading_lines:
            new_stmt = new_stmt.with_changes(leading_lines=(cst.EmptyLine(),))
    elif index == 0 and body:
        first = body[0]
        new_stmt = new_stmt.with_changes(leading_lines=first.leading_lines)
        gap = 2 if isinstance(first, (cst.FunctionDef, cst.ClassDef)) else 0
        body[0] = first.with_changes(leading_lines=tuple(cst.EmptyLine() for _ in range(gap)))
    body.insert(index, new_stmt)
    return module.with_changes(body=body)


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
