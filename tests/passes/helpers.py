"""Shared helpers for the pass tests: parse, find, apply, and run code in a namespace."""

from __future__ import annotations

import importlib.util
import types
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static
from greenopt.passes.base import Opportunity, Pass


def rewrite(
    pass_: Pass, code: str, codes: Sequence[str] | None = None
) -> tuple[str, list[Opportunity]]:
    """Apply every fixable opportunity of `pass_` (optionally only `codes`) to `code`."""
    module = SourceModule.parse(code, "mod.py")
    found = pass_.find(module)
    chosen = [o for o in found if o.fixable and (codes is None or o.code in codes)]
    return pass_.apply(module, chosen).code, found


#: imports the jit tests' kernels may use
JIT_HEADER = "import math\nimport random\n\nimport numpy as np\n\n\n"


def jit_by_function(code: str) -> dict[str, dict[str, str]]:
    """function -> {rule code: message} of every jit opportunity in `JIT_HEADER + code`."""
    from greenopt.passes.jit import JitPass

    _, found = rewrite(JitPass(), JIT_HEADER + code)
    result: dict[str, dict[str, str]] = {}
    for o in found:
        result.setdefault(o.site.function, {})[o.code] = o.message
    return result


def static_rewrite(code: str, pass_name: str) -> str:
    """The module text after `greenopt rewrite --static --passes <pass_name>`."""
    return rewrite_static(SourceModule.parse(code, "m.py"), passes=[pass_name]).new_code


def finding_codes(pass_: Pass, code: str) -> list[tuple[str, bool]]:
    """(code, statically safe) of each opportunity `pass_` finds in module source `code`."""
    return [(o.code, o.static_safe) for o in pass_.find(SourceModule.parse(code, "m.py"))]


def load(code: str) -> dict[str, Any]:
    """Execute module source in a fresh namespace (tests only run code they wrote)."""
    namespace: dict[str, Any] = {"__name__": "greenopt_test_module"}
    exec(compile(code, "<test module>", "exec"), namespace)
    return namespace


def outcome(code: str, *args: Any, name: str = "f") -> tuple[str, Any]:
    """Run `name(*args)` of module source `code`: ("returns", value) or ("raises", the
    exception's class name), NumPy warnings silenced (the outcome compared by traps)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("returns", load(code)[name](*args))
        except Exception as exc:  # the exception type is the outcome
            return ("raises", type(exc).__name__)


def same(a: Any, b: Any) -> bool:
    """True if two outcomes (or values) are equal: tuples item by item, arrays in dtype,
    shape and value (NaN equal to NaN), anything else in type and value."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=True))
        )
    return type(a) is type(b) and a == b


def import_file(directory: Path, name: str, code: str) -> types.ModuleType:
    """Write `code` to `directory/name.py` and import it (Numba's cache needs a real file)."""
    path = directory / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
