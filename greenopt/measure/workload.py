"""Workloads (DESIGN §4) and the child-side code that prepares one for running.

A workload is setup code plus one or more call expressions. The module under test
is imported from a real file under its own name (candidates are written to their
own temporary directory, so Numba's on-disk cache never mixes variants) and its
public names are visible to setup and calls. `random`, `numpy.random` and
`numpy.random.default_rng` are seeded identically for every variant.

The parent never executes workload code; only child processes call `prepare`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.errors import WorkloadError


@dataclass(frozen=True)
class Workload:
    """Setup code and call expressions, optionally against a module file.

    `module_path` is the file to import as `module_name` (default: the file's stem);
    `extra_sys_path` lets a candidate written to a temp dir still import the
    original's sibling modules.
    """

    setup: str = ""
    calls: tuple[str, ...] = ()
    module_path: str | None = None
    module_name: str | None = None
    extra_sys_path: tuple[str, ...] = ()
    seed: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        if not self.calls:
            raise WorkloadError("a workload needs at least one call expression")
        for what, text in (("setup", self.setup), *((f"call {c!r}", c) for c in self.calls)):
            try:  # undecodable bytes from the command line arrive as lone surrogates
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise WorkloadError(
                    f"{what} is not valid UTF-8 text (undecodable byte at position {exc.start})"
                ) from None
            if "\0" in text:
                raise WorkloadError(f"{what} contains a null byte")

    @property
    def name(self) -> str | None:
        """The importable name of the module under test."""
        if self.module_name:
            return self.module_name
        return Path(self.module_path).stem if self.module_path else None

    def digest(self) -> str:
        """Stable hash of setup, calls and seed (not of the module's code)."""
        h = hashlib.sha256()
        for part in (self.setup, *self.calls, str(self.seed)):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()[:16]

    def with_module(self, module_path: str, extra_sys_path: tuple[str, ...] = ()) -> Workload:
        """The same workload against another file (e.g. a candidate), same module name."""
        return Workload(
            setup=self.setup,
            calls=self.calls,
            module_path=module_path,
            module_name=self.name,
            extra_sys_path=extra_sys_path,
            seed=self.seed,
            label=self.label,
        )

    def with_seed(self, seed: int) -> Workload:
        """The same workload with another seed (for a second, differently seeded draw)."""
        return Workload(
            self.setup,
            self.calls,
            self.module_path,
            self.module_name,
            self.extra_sys_path,
            seed,
            self.label,
        )


def exception_text(exc: BaseException) -> str:
    """``str(exc)`` for a one-line report; when ``str()`` itself raises (a broken
    ``__str__``, an int too long to print) the report says that instead."""
    try:
        return str(exc)
    except Exception:
        return "<exception str() failed>"


def exception_line(exc: BaseException, limit: int | None = None) -> str:
    """``Type: message``, or just ``Type`` when the message is empty (`KeyboardInterrupt()`).

    With `limit`, the message is put on one line and cut to `limit` characters."""
    text = exception_text(exc)
    if limit is not None:
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class Prepared:
    """A workload ready to run in this (child) process."""

    namespace: dict[str, Any]
    calls: list[Callable[[], Any]]
    module: types.ModuleType | None = None
    module_names: frozenset[str] = field(default_factory=frozenset)


def seed_everything(seed: int) -> None:
    """Seed `random`, `numpy.random` and make `default_rng()` without a seed deterministic."""
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return
    np.random.seed(seed % (2**32))
    original = getattr(np.random.default_rng, "__greenopt_original__", np.random.default_rng)
    counter = iter(range(10**9))

    def default_rng(seed_arg: Any = None) -> Any:
        if seed_arg is None:
            seed_arg = np.random.SeedSequence([seed, next(counter)])
        return original(seed_arg)

    default_rng.__greenopt_original__ = original  # type: ignore[attr-defined]
    default_rng.__doc__ = original.__doc__
    np.random.default_rng = default_rng  # type: ignore[assignment]


def import_module_file(
    path: str, name: str, extra_sys_path: tuple[str, ...] = ()
) -> types.ModuleType:
    """Import the file at `path` as module `name` (registered in sys.modules)."""
    for p in (str(Path(path).resolve().parent), *extra_sys_path):
        if p not in sys.path:
            sys.path.insert(0, p)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkloadError(f"cannot import {path} as {name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        raise WorkloadError(f"importing {path} raised {exception_line(exc)}") from exc
    return module


def compile_call(expr: str) -> tuple[types.CodeType, bool]:
    """Compile a call expression (or a statement); return (code, is_expression).

    A syntax error becomes a WorkloadError naming the call.
    """
    if not expr.strip():
        raise WorkloadError("empty call: give an expression such as f(x)")
    try:
        return compile(expr, "<greenopt call>", "eval"), True
    except SyntaxError:
        try:
            return compile(expr, "<greenopt call>", "exec"), False
        except SyntaxError as exc:
            raise WorkloadError(f"syntax error in call {expr!r}: {exc.msg}") from None


def prepare(workload: Workload) -> Prepared:
    """Seed, import the module, run setup and compile the calls (child side only)."""
    seed_everything(workload.seed)
    namespace: dict[str, Any] = {"__name__": "__greenopt_workload__", "__builtins__": __builtins__}
    module = None
    if workload.module_path:
        module = import_module_file(
            workload.module_path, workload.name or "module", workload.extra_sys_path
        )
        namespace[workload.name or "module"] = module
        for key, value in vars(module).items():
            if not key.startswith("__"):
                namespace[key] = value
    module_names = frozenset(namespace)
    codes = [compile_call(c) for c in workload.calls]
    try:
        setup_code = compile(workload.setup, "<greenopt setup>", "exec")
    except SyntaxError as exc:
        raise WorkloadError(f"syntax error in setup: {exc.msg} (line {exc.lineno})") from None
    try:
        exec(setup_code, namespace)
    except BaseException as exc:
        raise WorkloadError(f"setup raised {exception_line(exc)}") from exc
    calls: list[Callable[[], Any]] = []
    for code, is_expr in codes:
        if is_expr:
            calls.append(lambda code=code: eval(code, namespace))
        else:
            calls.append(lambda code=code: exec(code, namespace))
    return Prepared(namespace=namespace, calls=calls, module=module, module_names=module_names)
