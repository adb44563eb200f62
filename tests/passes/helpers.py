"""Shared helpers for the pass tests: parse, find, apply, and run code in a namespace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Opportunity, Pass


def rewrite(
    pass_: Pass, code: str, codes: Sequence[str] | None = None
) -> tuple[str, list[Opportunity]]:
    """Apply every fixable opportunity of `pass_` (optionally only `codes`) to `code`."""
    module = SourceModule.parse(code, "mod.py")
    found = pass_.find(module)
    chosen = [o for o in found if o.fixable and (codes is None or o.code in codes)]
    return pass_.apply(module, chosen).code, found


def load(code: str) -> dict[str, Any]:
    """Execute module source in a fresh namespace (tests only run code they wrote)."""
    namespace: dict[str, Any] = {"__name__": "greenopt_test_module"}
    exec(compile(code, "<test module>", "exec"), namespace)
    return namespace
