"""May-alias analysis of array names inside one function, plus what is known of each array.

Two names may denote overlapping memory when one is a second name for the other
(`b = a`), a view of it (`a[1:]`, `a.T`, `a.reshape(...)`, `np.asarray(a)`), or
when both come from outside the function: two parameters may be the same array
(`saxpy(a, x, x)`) or overlapping views of one (`f(a[1:], a)`). Only locally
allocated arrays (`np.empty_like(x)`, `x.copy()`, `np.zeros(n)`) are known to be
distinct from everything else. The answer is one of `SAME` (the same memory with
the same indexing), `DISJOINT` and `UNKNOWN`.

The analysis is flow-insensitive, so it is sound only when it is strict about
what "fresh" means: a name is fresh when EVERY binding of it in the function is
a plain single-target assignment from a fresh allocation (an allocator called
without `out=`/`like=`/`*args`/`**kwargs`, `np.array` only with `copy` omitted or
`True`, never `asarray`-like), and it is not `global`/`nonlocal` nor rebound by
a nested scope. The targets of `a = b = np.zeros(n)` are one array (`b` is an
alias of `a`) when each is bound only there. A parameter keeps its origin only
when every rebinding of it is a fresh allocation or a view of itself
(`x = np.asarray(x)`). `DISJOINT` needs both roots known (parameter or fresh), at
least one fresh, different, and no view crossed on the way except views of a
fresh numeric ndarray (a subscript of a list or object array may be any object).

Rank (number of dimensions) and "is float64" are recorded where an allocation in
the function makes them visible, so passes can avoid rewrites whose result
depends on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

import libcst as cst

from greenopt.optimizer.cst_nodes import iter_children, walk
from greenopt.optimizer.name_facts import Binding, FunctionFacts, is_nonneg_size
from greenopt.optimizer.numpy_names import (
    ELEMENTWISE_UFUNCS,
    FRESH_ALLOCATORS,
    VIEW_MAKERS,
    VIEW_METHODS,
    NameResolver,
)

#: nodes whose bodies run in a scope of their own, possibly later (closures, generators)
_NESTED_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.GeneratorExp, cst.ListComp,
                  cst.SetComp, cst.DictComp)  # fmt: skip
#: names (or attributes) that read a frame's locals without naming them
FRAME_READERS = frozenset({"locals", "vars", "eval", "exec", "globals", "_getframe",
                            "currentframe", "f_locals", "f_back", "stack", "getouterframes",
                            "getframeinfo"})  # fmt: skip


def reads_own_frame(func: cst.FunctionDef) -> bool:
    """True when `func` may read its locals by name rather than by a Name node
    (`locals()`, `vars()`, `eval`, `exec`, `sys._getframe`...): an object or a name
    may then be reached without appearing in the text (`locals()["t"]`)."""
    return any(
        (type(n) is cst.Name and n.value in FRAME_READERS)
        or (type(n) is cst.Attribute and n.attr.value in FRAME_READERS)
        for n in walk(func.body)
    )


class Relation(Enum):
    """How the memory of two array names relates."""

    SAME = "same"  # provably the same array, indexed identically
    DISJOINT = "disjoint"  # provably no shared memory
    UNKNOWN = "unknown"  # may overlap, with unknown offsets/strides


@dataclass(frozen=True)
class Origin:
    """Where a name's value comes from: `kind` in fresh|param|alias|view|scalar|unknown."""

    kind: str
    base: str | None = None  # for alias/view: the name it aliases / views


_SHAPE_ALLOC = {"empty", "zeros", "ones", "full"}
_LIKE_ALLOC = {"empty_like", "zeros_like", "ones_like", "full_like", "copy"}
#: allocators that also take the output array positionally: the most positional
#: arguments a call may have without passing `out` (`np.dot(a, b, out)`)
_POSITIONAL_OUT = {"dot": 2, "matmul": 2, "outer": 2, "cumsum": 3, "cumprod": 3,
                   "concatenate": 2, "stack": 2}  # fmt: skip
#: allocators whose result is a new ndarray of a numeric dtype unless `dtype=` says
#: otherwise: subscripts of it are parts of its own buffer, never other objects
_NUMERIC_ALLOC = {"empty", "zeros", "ones", "arange", "linspace", "logspace", "eye",
                  "identity", "random.rand", "random.randn", "random.random",
                  "random.uniform", "random.normal", "random.randint",
                  "random.standard_normal", "random.random_sample"}  # fmt: skip
_NUMERIC_DTYPE_NAMES = {"float16", "float32", "float64", "double", "single", "half",
                        "longdouble", "int8", "int16", "int32", "int64", "intp", "uint8",
                        "uint16", "uint32", "uint64", "uintp", "complex64", "complex128",
                        "cdouble", "bool", "bool_", "int_", "float_", "complex_"}  # fmt: skip
_NUMERIC_DTYPE_STRINGS = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
                          "c8", "c16", "b1", "?", *_NUMERIC_DTYPE_NAMES}  # fmt: skip
_FLOAT64_RANDOM = {"random.rand", "random.randn", "random.random", "random.random_sample",
                   "random.standard_normal", "random.uniform", "random.normal"}  # fmt: skip


@dataclass
class ArrayFacts:
    """Origins, ranks and float64-ness of the names of one function."""

    facts: FunctionFacts
    resolver: NameResolver
    origins: dict[str, Origin] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    float64: set[str] = field(default_factory=set)
    #: fresh names whose every binding allocates a numeric ndarray (views stay in its buffer)
    numeric: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, facts: FunctionFacts, resolver: NameResolver) -> ArrayFacts:
        """Analyse every name stored in or passed to the function."""
        self = cls(facts=facts, resolver=resolver)
        for name in facts.params:
            self.origins[name] = self._param_origin(name)
        for name in facts.stores:
            if name in facts.params:
                continue
            self.origins[name] = self._origin_of(name)
        self.numeric = {
            name
            for name, origin in self.origins.items()
            if origin.kind == "fresh" and self._all_numeric_allocations(name)
        }
        # ranks / float64 need the origins of bases, iterate to a fixed point (chains are short)
        for _ in range(4):
            for name in facts.stores:
                values = facts.stored_only_from(name)
                if not values or name in facts.params:
                    continue
                ranks = {self._rank_of(v) for v in values}
                if len(ranks) == 1 and None not in ranks:
                    self.ranks[name] = ranks.pop()  # type: ignore[assignment]
                if all(self._is_float64(v) for v in values):
                    self.float64.add(name)
        return self

    # -- origins ---------------------------------------------------------------------------

    def _is_shared(self, name: str) -> bool:
        """True when `name` may be rebound where this function's bindings do not show it."""
        return name in self.facts.declared_nonlocal or name in self.facts.rebound_in_nested

    def _param_origin(self, name: str) -> Origin:
        """A parameter keeps "param" when every rebinding is fresh or a view of itself."""
        if self._is_shared(name):
            return Origin("unknown")
        for binding in self.facts.bindings.get(name, []):
            if binding.kind != "assign" or binding.value is None:
                return Origin("unknown")
            origin = self._classify(binding.value)
            if origin.kind == "fresh":
                continue
            if origin.kind in ("alias", "view") and origin.base == name:
                continue
            return Origin("unknown")
        return Origin("param")

    def _binding_origin(self, name: str, binding: Binding) -> Origin:
        """What one binding makes `name` denote (alias/view edges point at other names)."""
        if binding.kind == "assign" and binding.value is not None:
            return self._classify(binding.value)
        if binding.kind == "chained" and binding.value is not None:
            # `a = b = value`: one object under several names; trackable only when each
            # target is bound there alone (else one of them may hold another object)
            for target in binding.targets:
                if self._is_shared(target) or target in self.facts.params:
                    return Origin("unknown")
                if len(self.facts.bindings.get(target, [])) != binding.targets.count(target):
                    return Origin("unknown")
            first = binding.targets[0]
            if name == first:
                return self._classify(binding.value)
            return Origin("alias", first)
        return Origin("unknown")

    def _origin_of(self, name: str) -> Origin:
        if self._is_shared(name):
            return Origin("unknown")
        bindings = self.facts.bindings.get(name, [])
        if not bindings:
            return Origin("unknown")
        kinds = [self._binding_origin(name, b) for b in bindings]
        if any(k.kind == "unknown" for k in kinds):
            return Origin("unknown")
        if all(k.kind == "fresh" for k in kinds):
            return Origin("fresh")
        if all(k.kind == "scalar" for k in kinds):
            return Origin("scalar")
        if len(kinds) == 1:
            return kinds[0]
        return Origin("unknown")

    def _classify(self, value: cst.BaseExpression) -> Origin:
        if type(value) in (cst.Integer, cst.Float, cst.Imaginary):
            return Origin("scalar")
        if type(value) is cst.Name:
            return Origin("alias", value.value)
        if type(value) is cst.Subscript and type(value.value) is cst.Name:
            return Origin("view", value.value.value)
        if type(value) is cst.Attribute and value.attr.value in VIEW_METHODS:
            base = value.value
            return Origin("view", base.value) if type(base) is cst.Name else Origin("unknown")
        if type(value) is cst.Call:
            np_name = self.resolver.numpy_name(value.func)
            if np_name is not None:
                if np_name in FRESH_ALLOCATORS:
                    return self._allocation(np_name, value)
                if np_name in VIEW_MAKERS and value.args:
                    first = value.args[0].value
                    if type(first) is cst.Name:
                        return Origin("view", first.value)
                return Origin("unknown")
            func = value.func
            if type(func) is cst.Attribute and func.attr.value == "copy":
                # `x.copy()`, `a[:, j].copy()`: a new object (ndarray.copy always copies)
                return Origin("unknown") if any(a.star for a in value.args) else Origin("fresh")
            if type(func) is cst.Attribute and func.attr.value == "astype" and value.args:
                # `(np.arange(n) % 3).astype(np.int64)`: copies unless told `copy=False`
                shares = any(
                    a.star
                    or (
                        a.keyword is not None
                        and a.keyword.value == "copy"
                        and not (type(a.value) is cst.Name and a.value.value == "True")
                    )
                    for a in value.args
                )
                return Origin("unknown") if shares else Origin("fresh")
            if type(func) is cst.Attribute and type(func.value) is cst.Name:
                if func.attr.value in VIEW_METHODS:
                    return Origin("view", func.value.value)
        if type(value) is cst.BinaryOperation:
            # arithmetic on arrays makes a new array; on scalars a scalar: never a view
            return Origin("fresh")
        return Origin("unknown")

    def _allocation(self, np_name: str, call: cst.Call) -> Origin:
        """Origin of a call to a numpy allocator: fresh unless it may return an argument
        (`out=`, a positional `out`, `np.array(x, copy=False/None)`) or dispatch elsewhere
        (`like=`, `*args`, `**kwargs` that may hide either)."""
        if any(a.star for a in call.args):
            return Origin("unknown")
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if "out" in keywords or "like" in keywords:
            return Origin("unknown")
        positional = sum(1 for a in call.args if a.keyword is None)
        if positional > _POSITIONAL_OUT.get(np_name, positional):
            return Origin("unknown")
        if np_name == "array" and "copy" in keywords:
            copy = keywords["copy"]
            if not (type(copy) is cst.Name and copy.value == "True"):
                first = call.args[0].value if call.args else None
                if type(first) is cst.Name and call.args[0].keyword is None:
                    return Origin("view", first.value)
                return Origin("unknown")
        return Origin("fresh")

    def _all_numeric_allocations(self, name: str) -> bool:
        """True when every binding of `name` allocates a numeric (not object) ndarray."""
        bindings = self.facts.bindings.get(name, [])
        if not bindings:
            return False
        for binding in bindings:
            value = binding.value
            if binding.kind != "assign" or type(value) is not cst.Call:
                return False
            if self.resolver.numpy_name(value.func) not in _NUMERIC_ALLOC:
                return False
            dtype = next(
                (
                    a.value
                    for a in value.args
                    if a.keyword is not None and a.keyword.value == "dtype"
                ),
                None,
            )
            if dtype is not None and not self._is_numeric_dtype(dtype):
                return False
        return True

    def _is_numeric_dtype(self, dtype: cst.BaseExpression) -> bool:
        """`float`, `int`, `complex`, `bool`, `np.float32`..., or a string like "f8"."""
        if type(dtype) is cst.Name and any(
            self.resolver.is_builtin(dtype, b) for b in ("float", "int", "complex", "bool")
        ):
            return True
        if self.resolver.numpy_name(dtype) in _NUMERIC_DTYPE_NAMES:
            return True
        if type(dtype) is cst.SimpleString:
            text = dtype.evaluated_value
            return isinstance(text, str) and text.lstrip("<>=|") in _NUMERIC_DTYPE_STRINGS
        return False

    def root(self, name: str) -> tuple[str, bool]:
        """(the name `name` ultimately denotes, whether a view was crossed on the way)."""
        seen: set[str] = set()
        viewed = False
        while name not in seen:
            seen.add(name)
            origin = self.origins.get(name)
            if origin is None or origin.base is None:
                return name, viewed
            if origin.kind == "view":
                viewed = True
            name = origin.base
        return name, True  # a cycle: be conservative

    def relation(self, a: str, b: str) -> Relation:
        """May `a` and `b` share memory?

        DISJOINT only when both roots are known (a parameter or a fresh allocation),
        they differ, at least one is fresh, and each side is its root's own object or
        a view of a fresh numeric ndarray; SAME for two alias chains (no view) ending
        in one root; UNKNOWN otherwise.
        """
        if a == b:
            return Relation.SAME
        ra, va = self.root(a)
        rb, vb = self.root(b)
        if ra == rb:
            return Relation.SAME if not (va or vb) else Relation.UNKNOWN
        ka = self.origins.get(ra, Origin("unknown")).kind
        kb = self.origins.get(rb, Origin("unknown")).kind
        if ka == "scalar" or kb == "scalar":
            return Relation.DISJOINT  # bound only to number literals: not an array
        if "fresh" not in (ka, kb):
            return Relation.UNKNOWN
        if self._anchored(ra, va, ka) and self._anchored(rb, vb, kb):
            return Relation.DISJOINT
        return Relation.UNKNOWN

    def _anchored(self, root: str, viewed: bool, kind: str) -> bool:
        """True when a name with this root denotes memory of the root's own object only:
        the object itself (a parameter or fresh allocation), or a view of a fresh numeric
        ndarray (a subscript of a parameter or container may be any object stored in it)."""
        if kind not in ("fresh", "param"):
            return False
        return not viewed or root in self.numeric

    def relation_at(self, a: str, b: str, stmt: cst.BaseStatement) -> Relation:
        """`relation(a, b)` refined for the moment `stmt` runs (e.g. a loop to rewrite).

        Flow-insensitively `cur` may be `nxt` after `cur = nxt`; but when the statement
        just before `stmt` in its block is `nxt = <fresh allocation>` (or only statements
        that never mention `nxt` come in between), the new array is referenced by `nxt`
        alone when `stmt` starts, so it is DISJOINT from every other name, provided
        `stmt` itself neither rebinds nor passes on either name (only subscripts,
        `.shape`-like attributes and `len()` of them, and no calls but `range`/`len`/
        pure numpy ufuncs) and neither is global, nonlocal or rebound by a closure.
        "Never mention" is textual, so the new array must not be reachable without its
        name: no nested scope (closure, lambda, generator expression) reads it and the
        function never reads its own frame (`locals()`, `vars()`, `eval`, `exec`,
        `sys._getframe`...): `x = np.asarray(get(), ...)` with `get = lambda: nxt`, or
        `x = locals()["nxt"]`, makes `x` the new array without naming it.
        """
        found = self.relation(a, b)
        if found is not Relation.UNKNOWN or a == b:
            return found
        if self._reads_own_frame:
            return found
        for fresh, other in ((a, b), (b, a)):
            if fresh in self._names_in_nested_scopes:
                continue
            if self._allocated_just_before(fresh, stmt) and self._confined(stmt, (a, b)):
                if not self._is_shared(other):
                    return Relation.DISJOINT
        return Relation.UNKNOWN

    @cached_property
    def _names_in_nested_scopes(self) -> frozenset[str]:
        """Names mentioned inside nested functions, lambdas, classes and comprehensions
        (a closure or a lazy generator expression may hand the object on later)."""
        found: set[str] = set()
        for node in walk(self.facts.node.body):
            if type(node) in _NESTED_SCOPES:
                found.update(n.value for n in walk(node) if type(n) is cst.Name)
        return frozenset(found)

    @cached_property
    def _reads_own_frame(self) -> bool:
        """True when the function may reach its locals by name, not by a Name node."""
        return reads_own_frame(self.facts.node)

    def _allocated_just_before(self, name: str, stmt: cst.BaseStatement) -> bool:
        """True when, in `stmt`'s block, the last statement before it that mentions `name`
        is `name = <fresh allocation>` (one plain target)."""
        if self._is_shared(name) or name in self.facts.params:
            return False
        block = self._block_of(stmt)
        if block is None:
            return False
        index = next(i for i, s in enumerate(block) if s is stmt)
        for prev in reversed(block[:index]):
            if (
                type(prev) is cst.SimpleStatementLine
                and len(prev.body) == 1
                and type(prev.body[0]) is cst.Assign
                and len(prev.body[0].targets) == 1
                and type(prev.body[0].targets[0].target) is cst.Name
                and prev.body[0].targets[0].target.value == name
            ):
                value = prev.body[0].value
                mentioned = any(type(n) is cst.Name and n.value == name for n in walk(value))
                return not mentioned and self._classify(value).kind == "fresh"
            if any(type(n) is cst.Name and n.value == name for n in walk(prev)):
                return False
        return False

    def _block_of(self, stmt: cst.BaseStatement) -> Sequence[cst.BaseStatement] | None:
        """The statement list of the function that holds `stmt` directly."""
        for node in walk(self.facts.node):
            if type(node) is cst.IndentedBlock and any(s is stmt for s in node.body):
                return node.body
        return None

    def _confined(self, stmt: cst.BaseStatement, names: tuple[str, ...]) -> bool:
        """True when `stmt` only indexes `names` (or reads `.shape`-like attributes or
        `len()` of them) and calls nothing but `range`, `len` and pure numpy ufuncs, so
        it can neither rebind them nor hand their memory to code that could."""
        parents: dict[int, cst.CSTNode] = {}
        for node in walk(stmt):
            for child in iter_children(node):
                parents[id(child)] = node
            if type(node) is cst.Call and not self._harmless_call(node):
                return False
            if type(node) is cst.Name and node.value in names:
                parent = parents.get(id(node))
                if type(parent) is cst.Subscript and parent.value is node:
                    continue
                if type(parent) is cst.Attribute and parent.value is node:
                    if parent.attr.value in ("shape", "size", "ndim", "dtype"):
                        continue
                if type(parent) is cst.Arg:
                    call = parents.get(id(parent))
                    if type(call) is cst.Call and self.resolver.is_builtin(call.func, "len"):
                        continue
                return False
        return True

    def _harmless_call(self, call: cst.Call) -> bool:
        """`range(...)`, `len(...)` or a numpy ufunc without `out=`: returns a new value."""
        if self.resolver.builtin_name(call.func) in ("range", "len", "abs", "min", "max",
                                                      "float", "int"):  # fmt: skip
            return True
        np_name = self.resolver.numpy_name(call.func)
        return (
            np_name in ELEMENTWISE_UFUNCS
            and not any(a.star for a in call.args)
            and not any(a.keyword is not None and a.keyword.value == "out" for a in call.args)
        )

    def is_local_fresh(self, name: str) -> bool:
        """True when `name` is (an alias of) an array allocated in this function, with
        every binding of it and of the names on the way a fresh allocation or an alias."""
        root, viewed = self.root(name)
        return not viewed and self.origins.get(root, Origin("unknown")).kind == "fresh"

    # -- ranks and dtypes ---------------------------------------------------------------------

    def rank(self, name: str) -> int | None:
        """Number of dimensions of `name` when an allocation in the function shows it."""
        root, viewed = self.root(name)
        if viewed:
            return None
        return self.ranks.get(root)

    def rank_of_value(self, value: cst.BaseExpression) -> int | None:
        """Number of dimensions of the array `value` makes, when the code shows it
        (`np.zeros(n)`, `np.arange(n)`, a name of known rank)."""
        return self._rank_of(value)

    def is_float64(self, name: str) -> bool:
        """True when `name` is provably a float64 array allocated here."""
        root, viewed = self.root(name)
        return not viewed and root in self.float64

    def _rank_of(self, value: cst.BaseExpression) -> int | None:
        if type(value) is cst.Name:
            return self.ranks.get(value.value)
        if type(value) is not cst.Call:
            return None
        np_name = self.resolver.numpy_name(value.func)
        if np_name in _SHAPE_ALLOC and value.args:
            shape = value.args[0].value
            if type(shape) in (cst.Tuple, cst.List):
                return len(shape.elements)
            if type(shape) is cst.Integer:
                return 1
            if type(shape) is cst.BinaryOperation and self._is_int_expression(shape):
                return 1
            if type(shape) in (cst.Name, cst.Call, cst.Subscript) and self._is_size(shape):
                return 1
            return None
        if np_name in _LIKE_ALLOC and value.args:
            first = value.args[0].value
            return self.ranks.get(first.value) if type(first) is cst.Name else None
        if np_name in ("arange", "linspace", "logspace"):
            return 1
        if np_name in ("random.rand", "random.randn"):
            return len(value.args) if value.args else 0
        func = value.func
        if type(func) is cst.Attribute and func.attr.value == "copy":
            base = func.value
            return self.ranks.get(base.value) if type(base) is cst.Name else None
        return None

    def _is_int_expression(self, node: cst.BaseExpression) -> bool:
        """Arithmetic on integer literals and sizes only (not a shape tuple)."""
        if type(node) is cst.BinaryOperation:
            return self._is_int_expression(node.left) and self._is_int_expression(node.right)
        if type(node) is cst.UnaryOperation:
            return self._is_int_expression(node.expression)
        return type(node) is cst.Integer or self._is_size(node)

    def is_python_container(self, name: str) -> bool:
        """True when a store to `name` makes it a list, tuple, dict, set or str (not an array)."""
        for value in self.facts.stores.get(name, []):
            if value is None:
                continue
            if type(value) in (cst.List, cst.Tuple, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp, cst.SimpleString, cst.FormattedString, cst.ConcatenatedString):  # fmt: skip
                return True
            if type(value) is cst.BinaryOperation and type(value.left) in (
                cst.List,
                cst.Tuple,
                cst.ListComp,
            ):
                return True
            if type(value) is cst.Call and self.resolver.builtin_name(value.func) in (
                "list", "tuple", "dict", "set", "str", "sorted", "range", "bytearray",
            ):  # fmt: skip
                return True
        return False

    def _is_size(self, node: cst.BaseExpression) -> bool:
        """An integer size (not a shape tuple): `len(x)`, `x.shape[0]`, a name bound to one."""
        if type(node) is cst.Name:
            values = self.facts.stored_only_from(node.value)
            return (
                bool(values)
                and node.value not in self.facts.params
                and all(is_nonneg_size(v, self.resolver) for v in values)
            )
        return is_nonneg_size(node, self.resolver)

    def _is_float64(self, value: cst.BaseExpression) -> bool:
        if type(value) is cst.Name:
            return value.value in self.float64
        if type(value) is not cst.Call:
            return False
        np_name = self.resolver.numpy_name(value.func)
        dtype = next(
            (a.value for a in value.args if a.keyword is not None and a.keyword.value == "dtype"),
            None,
        )
        if np_name in _SHAPE_ALLOC or np_name in ("linspace", "logspace"):
            if np_name == "full" and dtype is None:
                return False  # dtype follows the fill value
            return dtype is None or self._means_float64(dtype)
        if np_name in _FLOAT64_RANDOM:
            return True
        if np_name in _LIKE_ALLOC and value.args:
            first = value.args[0].value
            if dtype is not None:
                return self._means_float64(dtype)
            return type(first) is cst.Name and first.value in self.float64
        func = value.func
        if type(func) is cst.Attribute and func.attr.value == "copy":
            base = func.value
            return type(base) is cst.Name and base.value in self.float64
        return False

    def _means_float64(self, dtype: cst.BaseExpression) -> bool:
        if type(dtype) is cst.Name and self.resolver.is_builtin(dtype, "float"):
            return True
        if self.resolver.numpy_name(dtype) in ("float64", "double"):
            return True
        return type(dtype) is cst.SimpleString and dtype.evaluated_value in ("float64", "f8")
