"""`[tool.greenopt]` configuration from the user's pyproject.toml.

Found by walking up from the first path given on the command line. Command-line
flags override it. Unknown keys and wrong types are InputErrors (a typo in config
must not silently disable a pass).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class WorkloadSpec:
    """One workload from config: setup code and one or more call expressions."""

    setup: str
    calls: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """Settings from `[tool.greenopt]`; defaults are those of a project without config."""

    select: tuple[str, ...] = ()  # pass names or rule codes; empty = all
    ignore: tuple[str, ...] = ()  # pass names or rule codes
    exclude: tuple[str, ...] = ()  # glob patterns (relative to the config's directory)
    rtol: float = 1e-9
    atol: float = 0.0
    meter: str = "auto"
    region: str | None = None
    carbon_intensity: float | None = None
    samples: int = 10
    workloads: dict[str, tuple[WorkloadSpec, ...]] = field(default_factory=dict)
    root: Path | None = None  # directory holding the pyproject.toml the config came from
    #: a cost model to use instead of the shipped one (`greenopt train --out DIR` writes
    #: DIR/cost_model.json), resolved against `root`
    cost_model: str | None = None


_LIST_KEYS = ("select", "ignore", "exclude")
_KNOWN = set(_LIST_KEYS) | {
    "rtol",
    "atol",
    "meter",
    "region",
    "carbon-intensity",
    "samples",
    "workloads",
    "cost-model",
}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` (a file or directory)."""
    try:
        here = start.resolve()
    except (RuntimeError, OSError):  # a symlink loop: reading the file will say so
        here = start.absolute()
    if not path_is_dir(here):
        here = here.parent
    for d in (here, *here.parents):
        candidate = d / "pyproject.toml"
        if _is_file(candidate):
            return candidate
    return None


def path_is_dir(path: Path) -> bool:
    """`path.is_dir()`, False when it cannot be searched (Python 3.11 raises
    PermissionError below a directory without search permission; the command reports
    the path itself)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _is_file(path: Path) -> bool:
    """`path.is_file()`, False when it cannot be searched (see `path_is_dir`)."""
    try:
        return path.is_file()
    except OSError:
        return False


def load_config(start: Path | str | None = None, pyproject: Path | None = None) -> Config:
    """Load `[tool.greenopt]` from `pyproject` or the nearest one above `start`."""
    if pyproject is None:
        pyproject = find_pyproject(Path(start) if start is not None else Path.cwd())
    if pyproject is None:
        return Config()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{pyproject}: cannot read configuration: {exc}") from None
    section = data.get("tool", {}).get("greenopt", {})
    return parse_config(section, pyproject)


def parse_config(section: dict[str, Any], origin: Path) -> Config:
    """Validate a `[tool.greenopt]` table and build a Config."""
    if not isinstance(section, dict):
        raise InputError(f"{origin}: [tool.greenopt] must be a table")
    unknown = sorted(set(section) - _KNOWN)
    if unknown:
        raise InputError(f"{origin}: unknown [tool.greenopt] key(s): {', '.join(unknown)}")
    kw: dict[str, Any] = {"root": origin.parent}
    for key in _LIST_KEYS:
        if key in section:
            value = section[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{origin}: [tool.greenopt] {key} must be a list of strings")
            kw[key] = tuple(value)
    for key, attr in (("rtol", "rtol"), ("atol", "atol"), ("carbon-intensity", "carbon_intensity")):
        if key in section:
            value = section[key]
            if not _is_non_negative_number(value):
                raise InputError(
                    f"{origin}: [tool.greenopt] {key} must be a finite, non-negative number"
                )
            kw[attr] = float(value)
    for key in ("meter", "region"):
        if key in section:
            if not isinstance(section[key], str):
                raise InputError(f"{origin}: [tool.greenopt] {key} must be a string")
            _check_name(key, section[key], origin)
            kw[key] = section[key]
    if "samples" in section:
        value = section["samples"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            raise InputError(f"{origin}: [tool.greenopt] samples must be an integer >= 2")
        kw["samples"] = value
    if "workloads" in section:
        kw["workloads"] = _parse_workloads(section["workloads"], origin)
    if "cost-model" in section:
        value = section["cost-model"]
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{origin}: [tool.greenopt] cost-model must be a path (a string)")
        kw["cost_model"] = str(origin.parent / Path(value).expanduser())
    return Config(**kw)


def _is_non_negative_number(value: Any) -> bool:
    """True for a finite number >= 0 (TOML has `nan` and `inf`, which no tolerance or
    intensity can be; a bool is not a number here)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _check_name(key: str, value: str, origin: Path) -> None:
    """Raise InputError naming `origin` when `meter` or `region` is not one greenopt
    knows: the project's own lists (`METER_NAMES`, the shipped carbon table) are the
    ones the commands use later, so a typo fails every command the same way, at once."""
    if key == "meter":
        from greenopt.measure.meter import validate_meter_name

        try:
            validate_meter_name(value)
        except InputError as exc:
            raise InputError(f"{origin}: [tool.greenopt] meter: {exc}") from None
        return
    from greenopt.measure.carbon import load_table

    if value.strip() and value.strip().upper() not in load_table():
        raise InputError(
            f"{origin}: [tool.greenopt] region: unknown carbon region {value!r} "
            "(an ISO 3166-1 alpha-3 code from the shipped table, e.g. FRA, DEU, USA)"
        )


def _parse_workloads(table: Any, origin: Path) -> dict[str, tuple[WorkloadSpec, ...]]:
    if not isinstance(table, dict):
        raise InputError(f"{origin}: [tool.greenopt.workloads] must be a table")
    out: dict[str, tuple[WorkloadSpec, ...]] = {}
    for path, entries in table.items():
        if not isinstance(entries, list):
            raise InputError(f"{origin}: workloads for {path!r} must be a list of tables")
        specs = []
        for entry in entries:
            if not isinstance(entry, dict) or "call" not in entry:
                raise InputError(f"{origin}: each workload for {path!r} needs a 'call'")
            calls = entry["call"]
            calls = [calls] if isinstance(calls, str) else calls
            setup = entry.get("setup", "")
            if not isinstance(setup, str) or not all(isinstance(c, str) for c in calls):
                raise InputError(f"{origin}: workload for {path!r}: setup and call must be strings")
            specs.append(WorkloadSpec(setup=setup, calls=tuple(calls)))
        out[path] = tuple(specs)
    return out
