"""Running test sources as real modules (original and rewritten code, side by side)."""

from __future__ import annotations

import sys
import types


def exec_module(source: str, name: str) -> types.ModuleType:
    """Execute `source` as a fresh module (registered so `global` works as usual)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module
