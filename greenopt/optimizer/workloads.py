"""Where `greenopt rewrite` gets its workloads: flags, `[tool.greenopt.workloads]`, workload files.

Parent side only: nothing here executes workload code. Setup code and call
expressions are compiled (not run) so a syntax error is reported at once, and a
workload file is read with `ast` to find its `workload_*` functions; the child
(`greenopt.measure.workload.prepare`) does the running.

A workload file is a Python file whose top-level `workload_*()` functions each set
up inputs and call the module under test, which they import by its own name
(`import kernels`). It becomes one `Workload` whose setup imports the file and
whose calls are `workload_x()`, one per function, in file order.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from greenopt.config import Config, WorkloadSpec
from greenopt.errors import InputError, WorkloadError
from greenopt.measure.workload import Workload

#: name under which a workload file's module is bound in the workload namespace
WORKLOAD_MODULE_VAR = "__greenopt_workload_file__"
#: label of the workload given by the `--setup`/`--call` flags
FLAGS_LABEL = "--call"


def check_syntax(workload: Workload) -> None:
    """Compile setup and calls without running them; a syntax error is a WorkloadError.

    The message names where the code came from: the workload's label (a pyproject.toml
    entry), or for the flags' workload the flag itself, `--setup` or `--call`.
    """
    where = f" ({workload.label})" if workload.label else ""
    setup_where = " (--setup)" if workload.label == FLAGS_LABEL else where
    try:
        compile(workload.setup, "<greenopt setup>", "exec")
    except SyntaxError as exc:
        raise WorkloadError(
            f"syntax error in setup{setup_where}: {exc.msg} (line {exc.lineno})"
        ) from None
    for expr in workload.calls:
        if not expr.strip():
            raise WorkloadError(f"empty call{where}: give an expression such as f(x)")
        try:
            compile(expr, "<greenopt call>", "eval")
        except SyntaxError:
            try:
                compile(expr, "<greenopt call>", "exec")
            except SyntaxError as exc:
                raise WorkloadError(f"syntax error in call {expr!r}{where}: {exc.msg}") from None


def from_flags(module_path: Path, setup: str | None, calls: Sequence[str]) -> list[Workload]:
    """The workload given by `--setup CODE` and `--call EXPR` flags (none without calls)."""
    if not calls:
        if setup:
            raise InputError("--setup needs at least one --call EXPR")
        return []
    return [
        Workload(
            setup=setup or "",
            calls=tuple(calls),
            module_path=str(module_path),
            label=FLAGS_LABEL,
        )
    ]


def from_config(module_path: Path, config: Config) -> list[Workload]:
    """Workloads configured for `module_path` in `[tool.greenopt.workloads]`.

    Keys are paths relative to the directory of the pyproject.toml they come from.
    """
    if not config.workloads or config.root is None:
        return []
    target = module_path.resolve()
    out: list[Workload] = []
    for key, specs in config.workloads.items():
        if (config.root / key).resolve() != target:
            continue
        for i, spec in enumerate(specs):
            out.append(_from_spec(module_path, spec, f"pyproject.toml workload {i + 1}"))
    return out


def _from_spec(module_path: Path, spec: WorkloadSpec, label: str) -> Workload:
    if not spec.calls:
        raise InputError(f"{label} for {module_path}: no call")
    return Workload(setup=spec.setup, calls=spec.calls, module_path=str(module_path), label=label)


def workload_functions(workload_file: Path) -> list[str]:
    """Names of the top-level `workload_*` functions of a workload file, in file order.

    Each must be callable without arguments. Read with `ast`; the file is not run.
    """
    try:
        text = workload_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{workload_file}: no such workload file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{workload_file}: cannot read workload file: {exc}") from None
    try:
        tree = ast.parse(text, filename=str(workload_file))
        # errors only the compiler sees ('break' outside a loop, ...), also before any child
        compile(tree, str(workload_file), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise WorkloadError(
            f"{workload_file}:{exc.lineno}: syntax error in workload file: {exc.msg}"
        ) from None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
            "workload_"
        ):
            args = node.args
            required = len(args.posonlyargs) + len(args.args) - len(args.defaults)
            required += sum(1 for d in args.kw_defaults if d is None)
            if required:
                raise WorkloadError(
                    f"{workload_file}:{node.lineno}: {node.name}() must take no arguments"
                )
            if isinstance(node, ast.AsyncFunctionDef):
                raise WorkloadError(f"{workload_file}:{node.lineno}: {node.name} is async")
            names.append(node.name)
    if not names:
        raise WorkloadError(f"{workload_file}: no workload_*() functions found")
    return names


def from_workload_file(module_path: Path, workload_file: Path) -> Workload:
    """One workload that imports `workload_file` and calls each of its `workload_*()`."""
    names = workload_functions(workload_file)
    wl_path = str(workload_file.resolve())
    mod_name = workload_file.stem
    setup = (
        "import sys as __greenopt_sys\n"
        "__greenopt_sys.dont_write_bytecode = True\n"
        "import importlib.util as __greenopt_util\n"
        f"__greenopt_spec = __greenopt_util.spec_from_file_location({mod_name!r}, {wl_path!r})\n"
        f"{WORKLOAD_MODULE_VAR} = __greenopt_util.module_from_spec(__greenopt_spec)\n"
        f"__greenopt_spec.loader.exec_module({WORKLOAD_MODULE_VAR})\n"
    )
    return Workload(
        setup=setup,
        calls=tuple(f"{WORKLOAD_MODULE_VAR}.{n}()" for n in names),
        module_path=str(module_path),
        extra_sys_path=(str(workload_file.resolve().parent),),
        label=workload_file.name,
    )


def call_labels(workload: Workload) -> list[str]:
    """Human names of a workload's calls (`workload_saxpy()` rather than the generated code)."""
    prefix = f"{WORKLOAD_MODULE_VAR}."
    return [c[len(prefix) :] if c.startswith(prefix) else c for c in workload.calls]


def collect_workloads(
    module_path: Path,
    *,
    setup: str | None = None,
    calls: Sequence[str] = (),
    workload_files: Sequence[Path] = (),
    config: Config | None = None,
) -> list[Workload]:
    """All workloads for `module_path`: flags and workload files, else the configured ones.

    Every workload is syntax-checked here, before any child process starts.
    """
    workloads = from_flags(module_path, setup, calls)
    workloads += [from_workload_file(module_path, Path(f)) for f in workload_files]
    if not workloads and config is not None:
        workloads = from_config(module_path, config)
    for wl in workloads:
        check_syntax(wl)
    return workloads


def with_module(workload: Workload, module_path: str, extra: Sequence[str]) -> Workload:
    """`workload` against another copy of the module, keeping its own extra sys.path."""
    return workload.with_module(
        module_path, extra_sys_path=tuple(dict.fromkeys((*workload.extra_sys_path, *extra)))
    )


def subset(workload: Workload, call_indices: Sequence[int]) -> Workload:
    """The same workload restricted to some of its calls (same setup, module and seed)."""
    return Workload(
        setup=workload.setup,
        calls=tuple(workload.calls[i] for i in call_indices),
        module_path=workload.module_path,
        module_name=workload.module_name,
        extra_sys_path=workload.extra_sys_path,
        seed=workload.seed,
        label=workload.label,
    )
