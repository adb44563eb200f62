"""greenopt: a compiler-style, source-level energy optimiser for Python numerical code.

The public API is loaded lazily so that `greenopt check` starts fast (no numpy,
numba or scikit-learn import unless a command needs them).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["optimize", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "optimize":
        from greenopt.optimizer.pipeline import optimize

        return optimize
    raise AttributeError(f"module 'greenopt' has no attribute {name!r}")
