"""Registry of passes by stable name, so CLI and config select passes by name.

Passes are imported lazily: `check` must not pay for a pass module it does not use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from greenopt.errors import InputError
from greenopt.passes.base import Pass

#: stable pass name -> "module:Class"; also the canonical order (fusion -> vectorize -> dtype -> jit)
PASSES: dict[str, str] = {
    "loop-fusion": "greenopt.passes.loop_fusion:LoopFusionPass",
    "vectorize": "greenopt.passes.vectorize:VectorizePass",
    "dtype-reduction": "greenopt.passes.dtype_reduction:DtypeReductionPass",
    "jit": "greenopt.passes.jit:JitPass",
}

#: rule-code prefix of each pass
CODE_PREFIX: dict[str, str] = {
    "vectorize": "GO1",
    "loop-fusion": "GO2",
    "dtype-reduction": "GO3",
    "jit": "GO4",
}


def pass_class(name: str) -> type[Pass]:
    """Return the class of the pass called `name`; unknown names are an InputError."""
    target = PASSES.get(name)
    if target is None:
        raise InputError(f"unknown pass {name!r} (known: {', '.join(PASSES)})")
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


def get_pass(name: str) -> Pass:
    """Instantiate the pass called `name`."""
    return pass_class(name)()


def parse_pass_list(spec: str | Iterable[str] | None) -> list[str]:
    """Turn `"vectorize,jit"` (or a list) into validated pass names in canonical order."""
    if spec is None:
        return list(PASSES)
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [s.strip() for s in items if s.strip()]
    if isinstance(spec, str) and not names:  # `--passes ''` would silently run nothing
        raise InputError("--passes: no passes given")
    for n in names:
        if n not in PASSES:
            raise InputError(f"unknown pass {n!r} (known: {', '.join(PASSES)})")
    return [n for n in PASSES if n in names]


def pass_for_code(code: str) -> str | None:
    """Return the pass name owning rule code `code` (e.g. 'GO101' -> 'vectorize')."""
    for name, prefix in CODE_PREFIX.items():
        if code.upper().startswith(prefix):
            return name
    return None
