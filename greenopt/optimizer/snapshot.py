"""Plain, picklable snapshots of the values a workload produced (child side).

The equivalence check compares what the original and a candidate computed. Those
values are made in a child process and may be instances of the user's own classes,
which the parent cannot unpickle (the module under test is not importable there).
`snapshot` turns a value into plain data the parent can always load: numbers,
strings, NumPy arrays and scalars, and lists/tuples/dicts of them are kept as they
are; array-likes (pandas, xarray: anything with `__array__`) become an `Opaque`
holding their values as an array; any other object becomes an `Opaque` holding its
type name and a snapshot of its attributes (or its repr), so a changed attribute is
still caught.
"""

from __future__ import annotations

import itertools
import pickle
import re
import types
from dataclasses import dataclass
from typing import Any

#: nesting depth beyond which containers are summarised by their repr
MAX_DEPTH = 12

_PLAIN_SCALARS = (bool, int, float, complex, str, bytes, type(None))


@dataclass(frozen=True)
class Opaque:
    """A value of a type the parent may not know: its type name and its contents."""

    type_name: str
    attributes: Any = None  # snapshot of vars(obj) when it has a __dict__
    text: str | None = None  # repr(obj) when it has no __dict__


@dataclass(frozen=True)
class Raised:
    """A call that raised: the exception's qualified type name and its message."""

    type_name: str
    message: str


def type_name(obj: Any) -> str:
    """`module.QualName` of the type of `obj`."""
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def snapshot(value: Any, depth: int = 0) -> Any:
    """A picklable copy of `value` made only of plain data (see module docstring)."""
    if isinstance(value, _PLAIN_SCALARS):
        return value
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None  # type: ignore[assignment]
    if np is not None:
        if isinstance(value, np.ndarray):
            if type(value) is not np.ndarray:
                # ndarray subclasses (masked arrays, matrix, recarray): keep the type,
                # and for masked arrays the mask (np.array(...) would drop both)
                return _subclass_snapshot(np, value, depth)
            if value.dtype.hasobject:
                return Opaque(
                    "numpy.ndarray[object]",
                    attributes=(value.shape, [snapshot(v, depth + 1) for v in value.ravel()]),
                )
            return np.array(value, copy=True)
        if isinstance(value, np.generic):
            return value
    if depth >= MAX_DEPTH:
        return Opaque(type_name(value), text=_safe_repr(value))
    if type(value) in (list, tuple):
        return type(value)(snapshot(v, depth + 1) for v in value)
    if type(value) is dict:
        return {_key(k): snapshot(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, dict)):
        # subclasses (OrderedDict, Counter, defaultdict, namedtuple, user classes): their
        # items, in order, plus their attributes -- never their repr (numpy summarises
        # long arrays) nor their attributes alone (a dict subclass has a __dict__)
        items = (
            [(_key(k), snapshot(v, depth + 1)) for k, v in value.items()]
            if isinstance(value, dict)
            else [snapshot(v, depth + 1) for v in value]
        )
        return Opaque(
            type_name(value), attributes={"items": items, "vars": _attributes(value, depth)}
        )
    if isinstance(value, memoryview):
        try:
            return Opaque(type_name(value), attributes=snapshot(np.array(value), depth + 1))
        except Exception:
            pass
    if isinstance(value, types.GeneratorType) or _is_iterator(value):
        # a returned generator/iterator: its values (the run is over when this is taken)
        items = list(itertools.islice(value, MAX_ITEMS))
        return Opaque(type_name(value), attributes=[snapshot(v, depth + 1) for v in items])
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)):
        # pickled by reference, a function of the module under test cannot be loaded by
        # the parent: compare its qualified name
        name = f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"
        return Opaque(type_name(value), text=name)
    if isinstance(value, (set, frozenset)):
        return Opaque(type_name(value), text=repr(sorted(map(_safe_repr, value))))
    if np is not None:
        state = _rng_state(np, value)
        if state is not None:
            # random generators: compare their state, never their repr (it holds an address)
            return Opaque(type_name(value), attributes=snapshot(state, depth + 1))
    if np is not None and hasattr(value, "__array__") and not isinstance(value, type):
        # array-likes (pandas, xarray, ...): compare their values as an array
        try:
            as_array = np.asarray(value)
        except Exception:
            as_array = None
        if as_array is not None:
            attributes = {"__array__": snapshot(as_array, depth + 1)}
            attributes.update(_attributes(value, depth) or {})
            return Opaque(type_name(value), attributes=attributes)
    attrs = _attributes(value, depth)
    if attrs is not None and (not callable(value) or is_stateful_callable(value)):
        return Opaque(type_name(value), attributes=attrs)
    try:
        pickle.dumps(value)
    except Exception:
        return Opaque(type_name(value), text=_safe_repr(value))
    if type(value).__module__ in ("builtins", "numpy", "datetime", "decimal", "fractions"):
        return value
    return Opaque(type_name(value), text=_safe_repr(value))


#: items taken from a returned generator or iterator
MAX_ITEMS = 100_000


def _is_iterator(value: Any) -> bool:
    try:
        return hasattr(type(value), "__next__") and iter(value) is value
    except Exception:
        return False


def _attributes(value: Any, depth: int) -> dict[str, Any] | None:
    """Snapshot of an object's `__dict__` and `__slots__` (None when it has neither)."""
    found: dict[str, Any] | None = None
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        found = {k: snapshot(v, depth + 1) for k, v in attrs.items() if not k.startswith("__")}
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot.startswith("__") or slot in (found or {}):
                continue
            try:
                v = object.__getattribute__(value, slot)
            except AttributeError:
                continue
            found = found if found is not None else {}
            found[slot] = snapshot(v, depth + 1)
    return found


def _subclass_snapshot(np: Any, value: Any, depth: int) -> Any:
    plain = np.array(value, copy=True)  # subok=False: a plain ndarray
    if isinstance(value, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(value).copy()
        if mask.any():
            plain[mask] = (
                np.zeros((), dtype=plain.dtype) if plain.dtype.kind not in "OV" else plain[mask]
            )
        return Opaque(
            type_name(value), attributes={"data": snapshot(plain, depth + 1), "mask": mask}
        )
    return Opaque(type_name(value), attributes=snapshot(plain, depth + 1))


def is_stateful_callable(value: Any) -> bool:
    """A callable instance of a user class (a model, a functor) whose attributes are data,
    as opposed to functions, methods, classes, and library callables (ufuncs, Numba
    dispatchers, partials) that a candidate may legitimately add or replace."""
    if isinstance(
        value,
        (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType),
    ):
        return False
    module = type(value).__module__ or ""
    if module.split(".")[0] in ("builtins", "numpy", "numba", "functools", "scipy"):
        return False
    return isinstance(getattr(value, "__dict__", None), dict)


def _rng_state(np: Any, value: Any) -> Any:
    """The state of a NumPy random generator (Generator, BitGenerator, RandomState), else None."""
    random = np.random
    if isinstance(value, random.Generator):
        return value.bit_generator.state
    if isinstance(value, random.BitGenerator):
        return value.state
    if isinstance(value, random.RandomState):
        return value.get_state(legacy=False)
    return None


def _key(key: Any) -> Any:
    """Dict keys stay as they are when plain, else become their repr."""
    return key if isinstance(key, _PLAIN_SCALARS) else _safe_repr(key)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _safe_repr(value: Any) -> str:
    """repr() without memory addresses (they differ between processes), bounded in length."""
    try:
        return _ADDRESS.sub(" at 0x…", repr(value))[:2000]
    except Exception as exc:  # a broken __repr__ must not break the validator
        return f"<unrepresentable {type_name(value)}: {type(exc).__name__}>"


def is_data(value: Any) -> bool:
    """True for values the equivalence check compares when left in the setup namespace.

    Arrays, numbers, strings and containers are data; modules, functions, classes
    and other callables are not (a candidate may legitimately add an import).
    """
    if isinstance(value, (types.ModuleType, type)):
        return False
    if callable(value):
        return is_stateful_callable(value)
    return True
