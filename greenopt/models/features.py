"""Static features of a function for the energy cost model (stdlib `ast` only, fast).

The features follow the Ansor/AutoTVM recipe (DESIGN §6): counts of what the
function does, each weighted by the estimated number of times it runs (the
product of the trip counts of the enclosing loops), then log-scaled. Trip counts
are estimated symbolically: `range(n)`, `range(a, b, s)`, `len(x)`, `x.shape[k]`,
`x.size` and simple local assignments (`n, m = a.shape`, `h = img.shape[0] // 2`)
are evaluated against `sizes` when the workload's sizes are known, else against
`DEFAULT_TRIP`. A loop variable used in an inner bound (`range(i)`) counts as half
of its own range, so triangular nests come out right.

`sizes` convention (shared with `greenopt.models.corpus`): a scalar parameter `n`
is `"n"`; an array parameter `x` gives `"x"` (its length), `"x.shape[k]"` and
`"x.size"`.

The work is split into interpreted work (a CPython loop executing bytecode) and
compiled work (the same statements under `@njit`), numpy calls by kind
(elementwise ufunc, reduction, allocation, linear algebra / FFT), whole-array
arithmetic and the temporaries it creates, and bytes touched by float width.
Some scalar work is also counted by what Numba's variants do with it: divisions
(fastmath turns them into multiplications), libm calls and non-integer powers
(as costly compiled as interpreted), accesses whose innermost loop variable
indexes a non-last axis (strided: no SIMD), and floating-point accumulations
(fastmath may reassociate and vectorise them; integer counters it leaves alone).
Work inside `prange` loops is also counted apart (`par_*`), with how often such a
loop is entered (each entry starts the threads), whether its body indexes the loop
variable with an offset (`a[i - 1]`: a stencil) and whether it holds another loop;
the ops per entry (`par_ops_per_launch`) say whether starting the threads pays.
Each top-level loop nest is also profiled on its own (`LoopNest`), so a caller can
build a rough candidate from an opportunity's site without rewriting any code
(`greenopt.models.delta`).
"""

from __future__ import annotations

import ast
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from greenopt.models.baselines import roofline_log_ratio

#: trip count assumed for a loop whose bound cannot be evaluated
DEFAULT_TRIP = 100.0
#: elements assumed for an array whose size is unknown
DEFAULT_ELEMS = 10_000.0

#: numpy functions / array methods by kind (last attribute of the call)
ELEMENTWISE = frozenset(
    "exp log log2 log10 log1p expm1 sqrt cbrt sin cos tan arcsin arccos arctan arctan2 sinh "
    "cosh tanh abs absolute fabs maximum minimum fmax fmin where clip power square sign "
    "floor ceil round rint multiply add subtract divide true_divide negative reciprocal "
    "isnan isfinite logical_and logical_or greater less equal hypot mod remainder".split()
)
REDUCTION = frozenset(
    "sum mean max min prod cumsum cumprod argmax argmin any all std var median nansum "
    "nanmean amax amin average count_nonzero bincount histogram".split()
)
ALLOCATION = frozenset(
    "zeros ones empty full zeros_like ones_like empty_like full_like array asarray "
    "ascontiguousarray copy arange linspace eye identity hanning hamming tile repeat "
    "concatenate stack vstack hstack astype reshape ravel flatten fill_diagonal tril triu "
    "meshgrid".split()
)
LINALG = frozenset(
    "dot matmul vdot inner outer tensordot einsum norm solve inv det cholesky eig eigh "
    "svd qr lstsq fft ifft rfft irfft fft2 ifft2 convolve correlate".split()
)
#: scalar operators that compile to a division (slow unless fastmath turns them into
#: multiplications by a reciprocal)
SCALAR_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)
#: modules whose scalar functions are transcendental or libm calls (`math.exp(x)`)
MATH_MODULES = frozenset({"math", "cmath"})
#: names under which numpy is usually imported
NUMPY_ALIASES = frozenset({"np", "numpy"})
#: names that mark a numba-compiled function
JIT_DECORATORS = frozenset({"njit", "jit", "vectorize", "guvectorize", "stencil"})
#: pass names, in the registry's canonical order (one-hot features)
PASS_NAMES = ("loop-fusion", "vectorize", "dtype-reduction", "jit")

#: the additive (count) features, each log1p-scaled in the feature vector
COUNT_FEATURES = (
    "n_loops",
    "loop_iters_w",
    "interp_ops_w",
    "interp_subscripts_w",
    "interp_calls_w",
    "interp_branches_w",
    "compiled_ops_w",
    "np_calls_w",
    "np_elementwise_w",
    "np_reduction_w",
    "np_allocation_w",
    "np_linalg_w",
    "np_elems_w",
    "vec_ops_w",
    "vec_elems_w",
    "temporaries_w",
    "temp_bytes_w",
    "bytes_f64_w",
    "bytes_f32_w",
    "reductions_w",
    "float_reductions_w",
    "scatters_w",
    "stmts",
    "divisions_w",
    "math_calls_w",
    "strided_w",
    "par_launches_w",
    "par_ops_w",
    "par_iters_w",
    "par_float_reductions_w",
    "par_offset_loops",
    "par_nested_loops",
)
#: features derived from the counts by `scale`
DERIVED_FEATURES = ("par_ops_per_launch",)
#: flag / scalar features (not summed over nests)
FLAG_FEATURES = (
    "max_depth",
    "mode_jit",
    "mode_parallel",
    "mode_fastmath",
    "uses_prange",
    "uses_float32",
    "vectorised",
    "log_input_elems",
    "sizes_known",
)
#: every feature of `function_features`, in a fixed order
FEATURE_NAMES = COUNT_FEATURES + DERIVED_FEATURES + FLAG_FEATURES


@dataclass
class LoopNest:
    """The weighted counts of one top-level loop nest and the lines it spans."""

    line: int
    end_line: int
    depth: int
    trip_product: float
    counts: dict[str, float] = field(default_factory=dict)
    #: the outer loop indexes with its variable plus or minus an offset (`a[i - 1]`)
    outer_offsets: bool = False


@dataclass
class FunctionProfile:
    """Raw (unscaled) counts of a function, its loop nests and its flags."""

    name: str
    counts: dict[str, float]
    flags: dict[str, float]
    nests: list[LoopNest]
    first_line: int = 1

    def features(self) -> dict[str, float]:
        """The log-scaled feature dict (`FEATURE_NAMES` keys)."""
        return scale(self.counts, self.flags)


def scale(counts: Mapping[str, float], flags: Mapping[str, float]) -> dict[str, float]:
    """log1p-scale the counts, derive the per-launch work and append the flags
    (`FEATURE_NAMES` order)."""
    out = {name: math.log1p(max(0.0, float(counts.get(name, 0.0)))) for name in COUNT_FEATURES}
    launches = float(counts.get("par_launches_w", 0.0))
    work = max(0.0, float(counts.get("par_ops_w", 0.0)))
    out["par_ops_per_launch"] = math.log1p(work / launches) if launches > 0 else 0.0
    out.update({name: float(flags.get(name, 0.0)) for name in FLAG_FEATURES})
    return out


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` of a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Env:
    """Symbolic values of names: sizes of the workload plus local integer assignments."""

    def __init__(self, sizes: Mapping[str, int] | None) -> None:
        self.sizes: dict[str, float] = {k: float(v) for k, v in (sizes or {}).items()}
        self.local: dict[str, float] = {}

    def lookup(self, key: str) -> float | None:
        if key in self.local:
            return self.local[key]
        return self.sizes.get(key)

    def value(self, node: ast.expr) -> float | None:
        """The numeric value of `node`, or None when it cannot be evaluated."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            if isinstance(node.value, bool):
                return None
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.value(node.operand)
            return -v if v is not None else None
        if isinstance(node, ast.BinOp):
            a, b = self.value(node.left), self.value(node.right)
            if a is None or b is None:
                return None
            try:
                if isinstance(node.op, ast.Add):
                    return a + b
                if isinstance(node.op, ast.Sub):
                    return a - b
                if isinstance(node.op, ast.Mult):
                    return a * b
                if isinstance(node.op, ast.FloorDiv):
                    return float(a // b)
                if isinstance(node.op, ast.Div):
                    return a / b
                if isinstance(node.op, ast.Mod):
                    return a % b
                if isinstance(node.op, ast.Pow) and abs(b) < 64:
                    return a**b
            except (ZeroDivisionError, OverflowError):
                return None
            return None
        if isinstance(node, ast.Call):
            fname = _dotted(node.func)
            if fname == "len" and len(node.args) == 1:
                inner = node.args[0]
                name = _dotted(inner)
                if name is not None:
                    return self.lookup(name)
            if fname in {"int", "round", "abs"} and len(node.args) == 1:
                return self.value(node.args[0])
            if fname in {"min", "max"} and node.args:
                vals = [self.value(a) for a in node.args]
                if all(v is not None for v in vals):
                    return (min if fname == "min" else max)(vals)  # type: ignore[type-var]
            return None
        if isinstance(node, ast.Subscript):
            # x.shape[k]
            base = node.value
            if isinstance(base, ast.Attribute) and base.attr == "shape":
                owner = _dotted(base.value)
                idx = node.slice
                if owner and isinstance(idx, ast.Constant) and isinstance(idx.value, int):
                    k = idx.value
                    if k < 0:
                        return None
                    return self.lookup(f"{owner}.shape[{k}]")
            return None
        if isinstance(node, ast.Attribute) and node.attr == "size":
            owner = _dotted(node.value)
            return self.lookup(f"{owner}.size") if owner else None
        return None

    def assign(self, target: ast.expr, value: ast.expr) -> None:
        """Record `target = value` when it binds integers (including `n, m = a.shape`)."""
        if isinstance(target, ast.Name):
            v = self.value(value)
            if v is not None:
                self.local[target.id] = v
            else:
                self.local.pop(target.id, None)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, ast.Attribute) and value.attr == "shape":
                owner = _dotted(value.value)
                for k, elt in enumerate(target.elts):
                    if isinstance(elt, ast.Name) and owner:
                        v = self.lookup(f"{owner}.shape[{k}]")
                        if v is not None:
                            self.local[elt.id] = v
            elif isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self.assign(t, v)

    def elements(self, name: str) -> float | None:
        """Number of elements of the array called `name`, if known."""
        size = self.lookup(f"{name}.size")
        if size is not None:
            return size
        return self.local.get(f"{name}.size")


def shape_sizes(param: str, shape: Sequence[int]) -> dict[str, int]:
    """The `sizes` entries of an array parameter of this shape (module docstring)."""
    dims = [int(d) for d in shape]
    out = {f"{param}.shape[{k}]": d for k, d in enumerate(dims)}
    if dims:
        out[param] = dims[0]
    out[f"{param}.size"] = math.prod(dims) if dims else 1
    return out


def argument_sizes(param: str, value: object) -> dict[str, int]:
    """The `sizes` entries of one actual argument: an array by its shape, a list or
    tuple by its length, an integer by its value; nothing for anything else."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape and all(isinstance(d, int) for d in shape):
        return shape_sizes(param, shape)
    if isinstance(value, (list, tuple)):
        return {param: len(value), f"{param}.size": len(value)}
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return {param: int(value)}  # numpy integer scalars too
    return {}


def trip_count(loop: ast.For, env: _Env) -> float:
    """Estimated iterations of a `for` loop (DEFAULT_TRIP when unknown)."""
    it = loop.iter
    if isinstance(it, ast.Call):
        fname = _dotted(it.func) or ""
        last = fname.rsplit(".", 1)[-1]
        if last in {"range", "prange"} and 1 <= len(it.args) <= 3:
            vals = [env.value(a) for a in it.args]
            if all(v is not None for v in vals):
                if len(vals) == 1:
                    start, stop, step = 0.0, vals[0], 1.0
                elif len(vals) == 2:
                    start, stop, step = vals[0], vals[1], 1.0
                else:
                    start, stop, step = vals  # type: ignore[misc]
                if step:
                    return max(0.0, math.ceil((stop - start) / step))  # type: ignore[operator]
            return DEFAULT_TRIP
        if last in {"enumerate", "reversed"} and it.args:
            name = _dotted(it.args[0])
            if name:
                v = env.lookup(name)
                if v is not None:
                    return v
        if last == "zip" and it.args:
            lens = [env.lookup(n) for n in (_dotted(a) for a in it.args) if n]
            known = [v for v in lens if v is not None]
            if known:
                return min(known)
        return DEFAULT_TRIP
    name = _dotted(it)
    if name:
        v = env.lookup(name)
        if v is not None:
            return v
    return DEFAULT_TRIP


def _loop_var_midpoint(loop: ast.For, env: _Env) -> float | None:
    """Half-way value of a `range` loop variable, used to bound inner triangular loops."""
    it = loop.iter
    if isinstance(it, ast.Call) and (_dotted(it.func) or "").rsplit(".", 1)[-1] in {
        "range",
        "prange",
    }:
        vals = [env.value(a) for a in it.args]
        if vals and all(v is not None for v in vals):
            if len(vals) == 1:
                return vals[0] / 2.0  # type: ignore[operator]
            return (vals[0] + vals[1]) / 2.0  # type: ignore[operator]
    return None


def _is_int_constant(node: ast.expr) -> bool:
    """True for an int literal (`0`, `1`): what integer counters start from and add."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    )


def _is_small_power(exponent: ast.expr) -> bool:
    """True for `x ** 2`-style integer exponents (a multiplication, not a libm `pow`)."""
    return (
        isinstance(exponent, ast.Constant)
        and isinstance(exponent.value, int)
        and not isinstance(exponent.value, bool)
        and 0 <= exponent.value <= 4
    )


def _decorator_mode(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, float]:
    """Execution-mode flags from the decorators (njit / jit / parallel / fastmath)."""
    flags = {"mode_jit": 0.0, "mode_parallel": 0.0, "mode_fastmath": 0.0}
    for dec in func.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = (_dotted(target) or "").rsplit(".", 1)[-1]
        if name not in JIT_DECORATORS:
            continue
        flags["mode_jit"] = 1.0
        if isinstance(dec, ast.Call):
            for kw in dec.keywords:
                # `fastmath=True` or a non-empty set of LLVM flags (`{"reassoc", ...}`)
                truthy = (isinstance(kw.value, ast.Constant) and bool(kw.value.value)) or (
                    isinstance(kw.value, (ast.Set, ast.List, ast.Tuple)) and bool(kw.value.elts)
                )
                if kw.arg == "parallel" and truthy:
                    flags["mode_parallel"] = 1.0
                if kw.arg == "fastmath" and truthy:
                    flags["mode_fastmath"] = 1.0
                if kw.arg == "nopython" and isinstance(kw.value, ast.Constant):
                    if not kw.value.value:
                        flags["mode_jit"] = 0.0
    return flags


class _Profiler:
    """Walks one function body accumulating weighted counts (see module docstring)."""

    def __init__(self, env: _Env, compiled: bool, itemsize: float, arrays: set[str]) -> None:
        self.env = env
        self.compiled = compiled
        self.itemsize = itemsize
        self.arrays = arrays  # names known to hold arrays
        self.counts: dict[str, float] = {}
        self.max_depth = 0
        self.uses_prange = False
        self.nests: list[LoopNest] = []
        self._nest: LoopNest | None = None
        self.loop_vars: list[str] = []  # targets of the enclosing loops, innermost last
        self.int_names: set[str] = set()  # scalars last assigned an int literal (counters)

    # -- accumulation -------------------------------------------------------
    def add(self, key: str, value: float) -> None:
        self.counts[key] = self.counts.get(key, 0.0) + value
        if self._nest is not None:
            self._nest.counts[key] = self._nest.counts.get(key, 0.0) + value

    def ops(self, key: str, value: float) -> None:
        """Scalar statement-level work: interpreted or compiled depending on the mode."""
        if self.compiled:
            self.add("compiled_ops_w", value)
        else:
            self.add(key, value)
            if key != "interp_ops_w":
                self.add("interp_ops_w", value)

    def array_elems(self, node: ast.expr) -> float | None:
        """Elements of the array expression `node` (largest known operand), if any."""
        best: float | None = None
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.arrays:
                n = self.env.elements(sub.id)
                if n is None:
                    n = DEFAULT_ELEMS
                best = n if best is None else max(best, n)
        return best

    def is_array_expr(self, node: ast.expr) -> bool:
        """Heuristic: does `node` evaluate to an array (not an element)?"""
        if isinstance(node, ast.Name):
            return node.id in self.arrays
        if isinstance(node, ast.Subscript):
            sl = node.slice
            parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
            if any(isinstance(p, ast.Slice) for p in parts):
                return True
            if isinstance(node.value, ast.Name) and node.value.id in self.arrays:
                # a[i] of a 2-D array is a row: treat a single index on a >1-D array as an array
                return self.env.lookup(f"{node.value.id}.shape[1]") is not None and len(parts) == 1
            return False
        if isinstance(node, ast.BinOp):
            return self.is_array_expr(node.left) or self.is_array_expr(node.right)
        if isinstance(node, ast.UnaryOp):
            return self.is_array_expr(node.operand)
        if isinstance(node, ast.Call):
            name = _dotted(node.func) or ""
            root = name.split(".", 1)[0]
            last = name.rsplit(".", 1)[-1]
            if root in NUMPY_ALIASES and last not in REDUCTION:
                return True
            if isinstance(node.func, ast.Attribute) and self.is_array_expr(node.func.value):
                return last not in REDUCTION or any(k.arg == "axis" for k in node.keywords)
        return False

    # -- expressions ---------------------------------------------------------
    def expr(self, node: ast.expr, mult: float, top: bool = True) -> None:
        """Count the work of evaluating expression `node` `mult` times."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                self.call(sub, mult)
            elif isinstance(sub, ast.BinOp):
                if self.is_array_expr(sub):
                    elems = self.array_elems(sub) or DEFAULT_ELEMS
                    self.add("vec_ops_w", mult)
                    self.add("vec_elems_w", mult * elems)
                    self.add(self._bytes_key(), mult * elems * self.itemsize * 3)
                    if not (top and sub is node):
                        self.add("temporaries_w", mult)
                        self.add("temp_bytes_w", mult * elems * self.itemsize)
                else:
                    self.ops("interp_ops_w", mult)
                    if isinstance(sub.op, ast.MatMult):
                        self.add("np_linalg_w", mult)
                    elif isinstance(sub.op, SCALAR_DIVISIONS):
                        self.add("divisions_w", mult)
                    elif isinstance(sub.op, ast.Pow) and not _is_small_power(sub.right):
                        self.add("math_calls_w", mult)
            elif isinstance(sub, (ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp)):
                self.ops("interp_ops_w", mult)
            elif isinstance(sub, ast.Subscript):
                if self.is_array_expr(sub):
                    elems = self.array_elems(sub) or DEFAULT_ELEMS
                    self.add(self._bytes_key(), mult * elems * self.itemsize)
                    self.ops("interp_ops_w", mult)
                else:
                    self.ops("interp_subscripts_w", mult)
                    self.add(self._bytes_key(), mult * self.itemsize)
                    if self._strided(sub):
                        self.add("strided_w", mult)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                self.ops("interp_ops_w", 0.25 * mult)

    def _strided(self, node: ast.Subscript) -> bool:
        """True when the innermost loop variable indexes a non-last axis only (`w[i, j]` in an
        `i` loop): consecutive iterations then touch memory a row apart, which defeats SIMD."""
        if not self.loop_vars or not isinstance(node.slice, ast.Tuple):
            return False
        parts = node.slice.elts
        var = self.loop_vars[-1]
        if len(parts) < 2 or not var:
            return False

        def mentions(part: ast.expr) -> bool:
            return any(isinstance(n, ast.Name) and n.id == var for n in ast.walk(part))

        return not mentions(parts[-1]) and any(mentions(p) for p in parts[:-1])

    def _bytes_key(self) -> str:
        return "bytes_f32_w" if self.itemsize == 4 else "bytes_f64_w"

    def call(self, node: ast.Call, mult: float) -> None:
        """Count one call: numpy by kind, else an interpreted/compiled Python call."""
        name = _dotted(node.func) or ""
        root = name.split(".", 1)[0]
        last = name.rsplit(".", 1)[-1]
        is_method = isinstance(node.func, ast.Attribute) and self.is_array_expr(node.func.value)
        if root in NUMPY_ALIASES or is_method:
            elems = self.array_elems(node)
            if elems is None:
                elems = self._alloc_elems(node)
            self.add("np_calls_w", mult)
            self.add("np_elems_w", mult * elems)
            self.add(self._bytes_key(), mult * elems * self.itemsize)
            if last in LINALG:
                self.add("np_linalg_w", mult)
            elif last in REDUCTION:
                self.add("np_reduction_w", mult)
            elif last in ALLOCATION:
                self.add("np_allocation_w", mult)
            else:
                self.add("np_elementwise_w", mult)
            return
        if root in {"range", "prange", "len"}:
            return
        if root in MATH_MODULES:
            self.add("math_calls_w", mult)
        self.ops("interp_calls_w", mult)

    def _alloc_elems(self, node: ast.Call) -> float:
        """Elements created by an allocation like `np.zeros((n, m))`."""
        if node.args:
            shape = node.args[0]
            dims = shape.elts if isinstance(shape, (ast.Tuple, ast.List)) else [shape]
            total = 1.0
            for d in dims:
                v = self.env.value(d)
                if v is None:
                    return DEFAULT_ELEMS
                total *= max(v, 0.0)
            return total
        return DEFAULT_ELEMS

    # -- statements ------------------------------------------------------------
    def block(self, body: Iterable[ast.stmt], mult: float, depth: int) -> None:
        for stmt in body:
            self.stmt(stmt, mult, depth)

    def _track_arrays(self, target: ast.expr, value: ast.expr) -> None:
        """Remember names assigned from array expressions, with their sizes if known."""
        if isinstance(target, ast.Name):
            if self.is_array_expr(value):
                self.arrays.add(target.id)
                elems = (
                    self._alloc_elems(value)
                    if isinstance(value, ast.Call) and value.args
                    else self.array_elems(value)
                )
                if elems is not None:
                    self.env.local[f"{target.id}.size"] = elems
            elif isinstance(value, ast.Name) and value.id in self.arrays:
                self.arrays.add(target.id)

    def stmt(self, node: ast.stmt, mult: float, depth: int) -> None:
        """Count statement `node`, executed `mult` times at loop depth `depth`."""
        self.add("stmts", 1.0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.loop(node, mult, depth)
            return
        if isinstance(node, ast.While):
            self._enter_nest(node, depth, DEFAULT_TRIP)
            self.add("n_loops", 1.0)
            inner = mult * DEFAULT_TRIP
            self.add("loop_iters_w", inner)
            self.max_depth = max(self.max_depth, depth + 1)
            self.expr(node.test, inner)
            self.block(node.body, inner, depth + 1)
            self.block(node.orelse, mult, depth)
            self._leave_nest(depth)
            return
        if isinstance(node, ast.If):
            if depth > 0:
                self.ops("interp_branches_w", mult)
            self.expr(node.test, mult)
            if _is_rank_guard(node.test):
                # vectorize's `if a.ndim == x.ndim == 1: <slices> else: <the loop>`:
                # the loop is kept for ranks the code was not written for
                self.block(node.body, mult, depth)
                return
            # both arms, half each: a static stand-in for branch probability
            self.block(node.body, mult * 0.5 if node.orelse else mult, depth)
            self.block(node.orelse, mult * 0.5, depth)
            return
        if isinstance(node, ast.Assign):
            self.expr(node.value, mult)
            for t in node.targets:
                self._store(t, mult, depth)
                self.env.assign(t, node.value)
                self._track_arrays(t, node.value)
                if isinstance(t, ast.Name):
                    if _is_int_constant(node.value):
                        self.int_names.add(t.id)
                    else:
                        self.int_names.discard(t.id)
            return
        if isinstance(node, ast.AugAssign):
            self.expr(node.value, mult)
            self.ops("interp_ops_w", mult)
            if depth > 0:
                if isinstance(node.target, ast.Name) and node.target.id not in self.arrays:
                    self.add("reductions_w", mult)
                    if node.target.id not in self.int_names and not _is_int_constant(node.value):
                        self.add("float_reductions_w", mult)
                elif isinstance(node.target, ast.Subscript):
                    if self._indirect(node.target):
                        self.add("scatters_w", mult)
            self._store(node.target, mult, depth)
            return
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            self.expr(node.value, mult)
            self._store(node.target, mult, depth)
            self.env.assign(node.target, node.value)
            return
        if isinstance(node, (ast.Return, ast.Expr)) and node.value is not None:
            self.expr(node.value, mult)
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            self.block(node.body, mult, depth)
            return
        if isinstance(node, ast.Try):
            self.block(node.body, mult, depth)
            self.block(node.orelse, mult, depth)
            self.block(node.finalbody, mult, depth)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, mult)

    def _indirect(self, target: ast.Subscript) -> bool:
        """True when a store index is computed from data (`h[idx[i]]`, `c[i + j]`)."""
        sl = target.slice
        parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        return any(isinstance(p, (ast.Subscript, ast.Call)) for p in parts)

    def _store(self, target: ast.expr, mult: float, depth: int) -> None:
        if isinstance(target, ast.Subscript):
            self.expr(target.slice, mult)
            if self.is_array_expr(target):
                elems = self.array_elems(target) or DEFAULT_ELEMS
                self.add(self._bytes_key(), mult * elems * self.itemsize)
            else:
                self.ops("interp_subscripts_w", mult)
                self.add(self._bytes_key(), mult * self.itemsize)
                if self._strided(target):
                    self.add("strided_w", mult)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._store(elt, mult, depth)
        else:
            self.ops("interp_ops_w", 0.5 * mult)

    def _enter_nest(self, node: ast.stmt, depth: int, trip: float) -> None:
        if depth == 0:
            self._nest = LoopNest(
                line=node.lineno,
                end_line=getattr(node, "end_lineno", node.lineno) or node.lineno,
                depth=1,
                trip_product=trip,
            )

    def _leave_nest(self, depth: int) -> None:
        if depth == 0 and self._nest is not None:
            self.nests.append(self._nest)
            self._nest = None

    def loop(self, node: ast.For | ast.AsyncFor, mult: float, depth: int) -> None:
        trip = trip_count(node, self.env)  # type: ignore[arg-type]
        it = node.iter
        is_prange = isinstance(it, ast.Call) and (_dotted(it.func) or "").endswith("prange")
        if is_prange:
            self.uses_prange = True
        # the shape of the loop matters where it can be (or is) the `prange` loop
        shaped = is_prange or depth == 0
        body_nodes = [sub for stmt in node.body for sub in ast.walk(stmt)] if shaped else []
        offsets = _offset_indexing(node.target, body_nodes)
        before = dict(self.counts) if is_prange else {}
        self._enter_nest(node, depth, trip)
        if self._nest is not None and depth == 0:
            self._nest.outer_offsets = offsets
        self._loop_body(node, mult, depth, trip)
        if is_prange:
            body = {k: v - before.get(k, 0.0) for k, v in self.counts.items()}
            nested = any(isinstance(sub, (ast.For, ast.AsyncFor, ast.While)) for sub in body_nodes)
            self.add("par_launches_w", mult)
            self.add("par_ops_w", body.get("compiled_ops_w", 0.0) + body.get("interp_ops_w", 0.0))
            self.add("par_iters_w", body.get("loop_iters_w", 0.0))
            self.add("par_float_reductions_w", body.get("float_reductions_w", 0.0))
            self.add("par_offset_loops", 1.0 if offsets else 0.0)
            self.add("par_nested_loops", 1.0 if nested else 0.0)
        self._leave_nest(depth)

    def _loop_body(
        self, node: ast.For | ast.AsyncFor, mult: float, depth: int, trip: float
    ) -> None:
        """Count one `for` loop's iterations, body and `else` (`loop` adds the shape counts)."""
        if self._nest is not None and depth > 0:
            self._nest.depth = max(self._nest.depth, depth + 1)
            self._nest.trip_product = max(self._nest.trip_product, mult * trip)
        self.add("n_loops", 1.0)
        inner = mult * trip
        self.add("loop_iters_w", inner)
        self.ops("interp_ops_w", inner)  # the iteration itself (next(), store of the target)
        self.max_depth = max(self.max_depth, depth + 1)
        saved = None
        if isinstance(node.target, ast.Name):
            mid = _loop_var_midpoint(node, self.env)  # type: ignore[arg-type]
            saved = self.env.local.get(node.target.id)
            if mid is not None:
                self.env.local[node.target.id] = mid
        self.loop_vars.append(node.target.id if isinstance(node.target, ast.Name) else "")
        self.block(node.body, inner, depth + 1)
        self.loop_vars.pop()
        if isinstance(node.target, ast.Name):
            if saved is None:
                self.env.local.pop(node.target.id, None)
            else:
                self.env.local[node.target.id] = saved
        self.block(node.orelse, mult, depth)


def _offset_indexing(target: ast.expr, body: Iterable[ast.AST]) -> bool:
    """True when a subscript in `body` indexes with the loop variable plus or minus
    something (`a[i - 1]`, `u[i + 1, j]`): a stencil. On the training machine
    stencils lost under `parallel=True` far more often than element-wise loops."""
    if not isinstance(target, ast.Name):
        return False
    var = target.id
    for sub in body:
        if not isinstance(sub, ast.Subscript):
            continue
        parts = sub.slice.elts if isinstance(sub.slice, ast.Tuple) else [sub.slice]
        for part in parts:
            if isinstance(part, ast.BinOp) and isinstance(part.op, (ast.Add, ast.Sub)):
                if any(isinstance(n, ast.Name) and n.id == var for n in ast.walk(part)):
                    return True
    return False


def _array_params(func: ast.FunctionDef | ast.AsyncFunctionDef, env: _Env) -> set[str]:
    """Parameters that hold arrays: sized as arrays in `sizes`, or indexed in the body."""
    params = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
    arrays = {p for p in params if env.lookup(f"{p}.size") is not None}
    for node in ast.walk(func):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if node.value.id in params:
                arrays.add(node.value.id)
        if isinstance(node, ast.Attribute) and node.attr in {"shape", "size", "ndim", "dtype"}:
            if isinstance(node.value, ast.Name) and node.value.id in params:
                arrays.add(node.value.id)
        if isinstance(node, ast.Call) and _dotted(node.func) == "len" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Name) and arg.id in params:
                arrays.add(arg.id)
    return arrays


#: a parsed function definition
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
#: the fields that hold statements, handlers or match cases, in `ast` field order
_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")


def _is_rank_guard(test: ast.expr) -> bool:
    """True for a test `a.ndim == b.ndim == 1 and c.ndim == 2` (vectorize's rank guard)."""
    parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    for part in parts:
        if not isinstance(part, ast.Compare) or not all(isinstance(o, ast.Eq) for o in part.ops):
            return False
        *arrays, rank = [part.left, *part.comparators]
        if not (isinstance(rank, ast.Constant) and type(rank.value) is int):
            return False
        if not all(
            isinstance(a, ast.Attribute) and a.attr == "ndim" and isinstance(a.value, ast.Name)
            for a in arrays
        ):
            return False
    return True


def _wanted_name(name: str | None) -> str | None:
    """The plain name `find_function_node` looks for: the last component of `name`."""
    if not name:
        return None
    return name.replace(".<locals>", "").split(".")[-1]


def find_function_node(tree: ast.Module, name: str | None = None) -> FunctionNode | None:
    """The function called `name` (last component of a qualified name), else the first one."""
    wanted = _wanted_name(name)
    first = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if first is None:
                first = node
            if wanted is not None and node.name == wanted:
                return node
    return first


@dataclass(frozen=True)
class FunctionIndex:
    """Every function of one parsed module by plain name, from a single `ast.walk`.

    `find` answers exactly as `find_function_node` on the same tree (the first
    function of that name in walk order, else the first function), but a module
    with many findings is walked once instead of once per lookup.
    """

    first: FunctionNode | None
    by_name: Mapping[str, FunctionNode]

    @classmethod
    def of(cls, tree: ast.Module) -> FunctionIndex:
        """Index the functions of `tree` (the first of each name in `ast.walk` order wins).

        A definition is a statement, and statements sit only in the blocks of statements,
        except handlers and match cases (`_BLOCKS`), never inside expressions: so a
        breadth-first walk of those blocks alone meets the definitions in `ast.walk`'s
        order (same depth, same sibling order) without visiting any expression.
        """
        first: FunctionNode | None = None
        by_name: dict[str, FunctionNode] = {}
        level: list[ast.AST] = [tree]
        while level:
            below: list[ast.AST] = []
            for node in level:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if first is None:
                        first = node
                    by_name.setdefault(node.name, node)
                for name in _BLOCKS:
                    block = getattr(node, name, None)
                    if block:
                        below.extend(block)
            level = below
        return cls(first, by_name)

    def find(self, name: str | None = None) -> FunctionNode | None:
        """The function called `name` (last component of a qualified name), else the first."""
        wanted = _wanted_name(name)
        if wanted is not None:
            node = self.by_name.get(wanted)
            if node is not None:
                return node
        return self.first


def profile_function(
    func: ast.FunctionDef | ast.AsyncFunctionDef, sizes: Mapping[str, int] | None = None
) -> FunctionProfile:
    """Profile one parsed function: weighted counts, nests and flags."""
    env = _Env(sizes)
    mode = _decorator_mode(func)
    source_names = {n.attr for n in ast.walk(func) if isinstance(n, ast.Attribute)}
    source_names |= {
        n.value for n in ast.walk(func) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    uses_f32 = bool({"float32", "single", "f4"} & source_names)
    prof = _Profiler(
        env,
        compiled=bool(mode["mode_jit"]),
        itemsize=4.0 if uses_f32 else 8.0,
        arrays=_array_params(func, env),
    )
    prof.block(func.body, 1.0, 0)
    params = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
    input_elems = sum(v for p in params if (v := env.sizes.get(f"{p}.size")) is not None)
    np_total = prof.counts.get("np_calls_w", 0.0) + prof.counts.get("vec_ops_w", 0.0)
    flags = {
        "max_depth": float(prof.max_depth),
        **mode,
        "uses_prange": 1.0 if prof.uses_prange else 0.0,
        "uses_float32": 1.0 if uses_f32 else 0.0,
        "vectorised": 1.0 if np_total > 0 and prof.counts.get("n_loops", 0.0) == 0 else 0.0,
        "log_input_elems": math.log1p(input_elems),
        "sizes_known": 1.0 if sizes else 0.0,
    }
    return FunctionProfile(
        name=func.name,
        counts=dict(prof.counts),
        flags=flags,
        nests=prof.nests,
        first_line=func.lineno,
    )


def profile_code(
    code: str, sizes: Mapping[str, int] | None = None, function: str | None = None
) -> FunctionProfile:
    """Profile the function `function` (or the first one) in `code`.

    Code without any function is profiled as the body of one. A syntax error
    raises `SyntaxError`; callers that face user code catch it.
    """
    tree = ast.parse(code)
    func = find_function_node(tree, function)
    if func is None:
        func = ast.FunctionDef(
            name="<module>",
            args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=tree.body or [ast.Pass()],
            decorator_list=[],
            lineno=1,
        )
    return profile_function(func, sizes)


def function_features(
    function_code: str, sizes: Mapping[str, int] | None = None, function: str | None = None
) -> dict[str, float]:
    """Log-scaled static features of a function (keys: `FEATURE_NAMES`)."""
    return profile_code(function_code, sizes, function).features()


def pass_onehot(passes: Iterable[str]) -> dict[str, float]:
    """One-hot (multi-hot) encoding of the passes a candidate applied."""
    chosen = set(passes)
    return {f"pass_{p}": 1.0 if p in chosen else 0.0 for p in PASS_NAMES}


#: names of the candidate feature vector: original, delta, pass one-hots
CANDIDATE_FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"orig_{n}" for n in FEATURE_NAMES)
    + tuple(f"delta_{n}" for n in FEATURE_NAMES)
    + tuple(f"pass_{p}" for p in PASS_NAMES)
    + ("roofline_log_ratio",)
)


def candidate_features(
    original: Mapping[str, float], candidate: Mapping[str, float], passes: Iterable[str]
) -> dict[str, float]:
    """The model's input: original features, candidate − original, pass one-hots and
    the roofline baseline's log ratio (an analytic prior the trees can correct)."""
    out = {f"orig_{n}": float(original.get(n, 0.0)) for n in FEATURE_NAMES}
    out.update(
        {
            f"delta_{n}": float(candidate.get(n, 0.0)) - float(original.get(n, 0.0))
            for n in FEATURE_NAMES
        }
    )
    out.update(pass_onehot(passes))
    out["roofline_log_ratio"] = roofline_log_ratio(out)
    return out


def feature_vector(features: Mapping[str, float]) -> list[float]:
    """`candidate_features` as a list in `CANDIDATE_FEATURE_NAMES` order."""
    return [float(features.get(n, 0.0)) for n in CANDIDATE_FEATURE_NAMES]
