"""Reading the training corpus: kernel files described by module-level literals.

Each corpus kernel is one Python file under `corpus/<family>/<stem>.py` whose
module-level constants (`FAMILY`, `KERNEL`, `SETUP`, `CALL`, `SIZES`, `SHAPES`)
describe how to run it (format: `corpus/README.md`). The files are read with
`ast` and `ast.literal_eval` only: the parent process never imports or executes
corpus code (DESIGN §7); only the measurement children do.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenopt.errors import InputError
from greenopt.models.features import shape_sizes

#: module-level names every corpus file must define
REQUIRED = ("FAMILY", "KERNEL", "SETUP", "CALL", "SIZES")

#: the size labels every kernel must have (more are allowed)
REQUIRED_SIZES = ("small", "medium", "large")


@dataclass(frozen=True)
class CorpusWorkload:
    """One size of a kernel: setup and call code plus the sizes bound for features.

    `sizes` maps the kernel function's own names to integers, in the convention of
    `greenopt.models.features` ("n" for a scalar parameter, "x" / "x.shape[k]" /
    "x.size" for an array parameter).
    """

    size: str
    setup: str
    call: str
    sizes: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CorpusKernel:
    """A corpus kernel file: its family, entry function and workloads by size."""

    path: str
    stem: str
    family: str
    kernel: str
    code: str
    workloads: tuple[CorpusWorkload, ...]

    @property
    def key(self) -> str:
        """Stable identifier `family/stem` used in the training table."""
        return f"{self.family}/{self.stem}"


def _literals(tree: ast.Module, path: str) -> dict[str, object]:
    """Evaluate the module-level `NAME = <literal>` assignments of a corpus file."""
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise InputError(f"{path}: {target.id} must be a literal") from None
    return values


def _dim_value(dim: object, params: Mapping[str, int], path: str) -> int:
    """Resolve one SHAPES dimension (an int or the name of a SIZES parameter)."""
    if isinstance(dim, bool):
        raise InputError(f"{path}: bad SHAPES dimension {dim!r}")
    if isinstance(dim, int):
        return dim
    if isinstance(dim, str) and dim in params:
        return int(params[dim])
    raise InputError(f"{path}: SHAPES dimension {dim!r} is not an int or a SIZES parameter")


def workload_arrays(
    shapes: Mapping[str, Sequence[object]], params: Mapping[str, int], path: str = "<corpus>"
) -> dict[str, tuple[int, ...]]:
    """Concrete array shapes of the workload's variables for one size."""
    return {name: tuple(_dim_value(d, params, path) for d in dims) for name, dims in shapes.items()}


def bind_call_sizes(
    call: str,
    function: ast.FunctionDef,
    arrays: Mapping[str, tuple[int, ...]],
    scalars: Mapping[str, object],
) -> dict[str, int]:
    """Map the kernel's parameter names to sizes through the call expression.

    `kernel(a, b, 3)` binds parameter 1 to the workload array `a` (giving
    `"p"`, `"p.shape[k]"`, `"p.size"`), and an int literal argument or a name
    bound to an int in `scalars` gives the parameter that value.
    """
    try:
        expr = ast.parse(call, mode="eval").body
    except SyntaxError:
        return {}
    if not isinstance(expr, ast.Call):
        return {}
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    pairs: list[tuple[str, ast.expr]] = list(zip(params, expr.args, strict=False))
    pairs += [(kw.arg, kw.value) for kw in expr.keywords if kw.arg]
    sizes: dict[str, int] = {}
    for param, arg in pairs:
        if isinstance(arg, ast.Name) and arg.id in arrays:
            sizes.update(shape_sizes(param, arrays[arg.id]))
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, int):
            if not isinstance(arg.value, bool):
                sizes[param] = arg.value
        elif isinstance(arg, ast.Name) and isinstance(scalars.get(arg.id), int):
            sizes[param] = int(scalars[arg.id])  # type: ignore[arg-type]
    return sizes


def find_function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    """The top-level function called `name` in `tree`, if any."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _syntax_error_message(path: Path, exc: SyntaxError | ValueError) -> str:
    """`path:LINE: syntax error: why`; without a line number (a NUL byte makes the
    whole file unparsable) just `path: syntax error: why`, never `path:None:`."""
    lineno = getattr(exc, "lineno", None)
    where = f"{path}:{lineno}" if lineno else str(path)
    why = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{where}: syntax error: {why}"


def load_kernel(path: str | Path) -> CorpusKernel:
    """Parse one corpus file into a CorpusKernel; malformed files are InputErrors."""
    p = Path(path)
    try:
        code = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read corpus kernel: {exc}") from None
    try:
        tree = ast.parse(code, filename=str(p))
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes on older Pythons
        raise InputError(_syntax_error_message(p, exc)) from None
    values = _literals(tree, str(p))
    missing = [k for k in REQUIRED if k not in values]
    if missing:
        raise InputError(f"{p}: missing {', '.join(missing)}")
    family, kernel = values["FAMILY"], values["KERNEL"]
    setup, call, sizes_spec = values["SETUP"], values["CALL"], values["SIZES"]
    shapes = values.get("SHAPES", {})
    if not (isinstance(family, str) and isinstance(kernel, str)):
        raise InputError(f"{p}: FAMILY and KERNEL must be strings")
    if not (isinstance(setup, str) and isinstance(call, str)):
        raise InputError(f"{p}: SETUP and CALL must be strings")
    if not isinstance(sizes_spec, dict) or not isinstance(shapes, dict):
        raise InputError(f"{p}: SIZES and SHAPES must be dicts")
    function = find_function(tree, kernel)
    if function is None:
        raise InputError(f"{p}: KERNEL {kernel!r} is not a top-level function")
    absent = [s for s in REQUIRED_SIZES if s not in sizes_spec]
    if absent:
        raise InputError(f"{p}: SIZES lacks {', '.join(absent)}")
    workloads: list[CorpusWorkload] = []
    for label, params in sizes_spec.items():
        if not isinstance(params, dict) or not all(isinstance(v, int) for v in params.values()):
            raise InputError(f"{p}: SIZES[{label!r}] must map names to ints")
        try:
            setup_code = setup.format(**params)
            call_code = call.format(**params)
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(
                f"{p}: SETUP/CALL template field {exc} not in SIZES[{label!r}]"
            ) from None
        arrays = workload_arrays(shapes, params, str(p))
        bound = bind_call_sizes(call_code, function, arrays, params)
        workloads.append(CorpusWorkload(str(label), setup_code, call_code, bound))
    return CorpusKernel(
        path=str(p),
        stem=p.stem,
        family=family,
        kernel=kernel,
        code=code,
        workloads=tuple(workloads),
    )


def load_corpus(
    root: str | Path,
    families: Sequence[str] | None = None,
    limit: int | None = None,
    errors: list[str] | None = None,
) -> list[CorpusKernel]:
    """All kernels under `root/<family>/*.py`, sorted by key, optionally filtered.

    `families` keeps only those families; `limit` keeps at most that many kernels
    per family (the first by name), which is how a quick training run is made.
    With an `errors` list a malformed kernel file is one message there and the others
    are still loaded (a batch goes on); without one it raises InputError.
    """
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"{base}: corpus directory not found")
    kernels: list[CorpusKernel] = []
    for path in sorted(base.glob("*/*.py")):
        if path.name.startswith("_"):
            continue
        try:
            kernel = load_kernel(path)
        except InputError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        if families and kernel.family not in families:
            continue
        kernels.append(kernel)
    kernels.sort(key=lambda k: k.key)
    if limit is not None:
        kept: list[CorpusKernel] = []
        per_family: dict[str, int] = {}
        for k in kernels:
            if per_family.get(k.family, 0) < limit:
                kept.append(k)
                per_family[k.family] = per_family.get(k.family, 0) + 1
        kernels = kept
    if not kernels:
        raise InputError(f"{base}: no corpus kernels found")
    return kernels


def round_robin(kernels: Sequence[CorpusKernel]) -> list[CorpusKernel]:
    """Kernels reordered to alternate between families (a1, f1, i1, ..., a2, f2, ...).

    Training measures in this order, so a run stopped early still covers every
    family evenly, which GroupKFold by family needs.
    """
    by_family: dict[str, list[CorpusKernel]] = {}
    for k in kernels:
        by_family.setdefault(k.family, []).append(k)
    out: list[CorpusKernel] = []
    depth = max((len(v) for v in by_family.values()), default=0)
    for i in range(depth):
        for family in sorted(by_family):
            if i < len(by_family[family]):
                out.append(by_family[family][i])
    return out


def default_corpus_dir() -> Path:
    """The corpus bundled with a source checkout (`<repo>/corpus`)."""
    return Path(__file__).resolve().parents[2] / "corpus"
