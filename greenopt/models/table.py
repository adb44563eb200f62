"""The training table: one row per corpus kernel × size × candidate, with its measurement.

Rows are recorded in the measurement store (`greenopt.store.Store`, kind
`STORE_KIND`) while `greenopt train` measures, which is what makes training
resumable: a row already stored for the same kernel, size, candidate text, meter
and machine is not measured again. The **exported table** (`training_table.json` + a flat `training_table.csv`),
  versioned, shipped under `greenopt/models/data/`, from which the shipped model is
  built. Every row carries its meter name and whether the energy was measured or
  estimated; the table carries the machine fingerprint.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from greenopt.errors import InputError

#: format version of the exported table (bump when columns change meaning)
TABLE_VERSION = 1
#: `Store.record_result` kind of training rows
STORE_KIND = "cost-model-training-row"


@dataclass
class TrainingRow:
    """One measured (or rejected) candidate of one kernel at one size."""

    kernel: str  # "family/stem"
    family: str
    size: str
    function: str
    candidate: str  # source hash of the candidate module
    passes: list[str]
    recipe: str
    status: str  # "measured" | "not-equivalent" | "failed"
    meter: str
    measured: bool  # False when the meter is an estimate
    machine_id: str
    ratio: float | None = None  # median E_candidate / median E_original
    ci95: tuple[float, float] | None = None
    time_ratio: float | None = None
    orig_energy_j: float | None = None  # per call, median
    cand_energy_j: float | None = None
    samples: int = 0
    reason: str = ""
    features: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # bound sizes of this workload
    original_code: str = ""  # source of the original function
    candidate_code: str = ""  # source of the candidate function
    view: str = "sized"  # "sized": features bound to the workload sizes; "unsized": not
    other_cpus: float | None = None  # CPUs busy with other work while measured (None: unknown)
    attempts: int = 0  # comparisons run for this row (more than 1: re-measured after contention)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Resume key: a row with the same key is not measured again."""
        return (self.kernel, self.size, self.candidate, self.meter, self.machine_id)

    @property
    def store_key(self) -> str:
        """`key` as one string, the Store's result key."""
        return "|".join(self.key)

    @property
    def group(self) -> str:
        """The ranking group: candidates of the same kernel at the same size (and view) compete."""
        base = f"{self.kernel}@{self.size}"
        return base if self.view == "sized" else f"{base}#{self.view}"

    @property
    def usable(self) -> bool:
        """True for a measured row with a finite positive ratio."""
        return (
            self.status == "measured"
            and self.ratio is not None
            and math.isfinite(self.ratio)
            and self.ratio > 0
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["ci95"] = list(self.ci95) if self.ci95 is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingRow:
        """Rebuild a row; unknown keys are ignored, missing required ones and values of
        the wrong type are an InputError (a hand-edited table must not crash the fit)."""
        if not isinstance(data, Mapping):
            raise InputError("malformed training row: not an object")
        names = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in names}
        missing = [
            f.name
            for f in fields(cls)
            if f.default is MISSING and f.default_factory is MISSING and f.name not in values
        ]
        if missing:
            raise InputError(f"malformed training row: missing {', '.join(missing)}")
        _check_field_types(values)
        try:
            ci = values.get("ci95")
            values["ci95"] = (float(ci[0]), float(ci[1])) if ci else None
            values["features"] = {
                str(k): float(v) for k, v in (values.get("features") or {}).items()
            }
            values["passes"] = [str(p) for p in values.get("passes") or []]
            values["sizes"] = {str(k): int(v) for k, v in (values.get("sizes") or {}).items()}
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            raise InputError(
                "malformed training row: ci95, features, passes or sizes has the wrong shape"
            ) from None
        try:
            return cls(**values)
        except TypeError as exc:
            raise InputError(f"malformed training row: {exc}") from None


#: row fields that hold text
_TEXT_FIELDS = (
    "kernel",
    "family",
    "size",
    "function",
    "candidate",
    "recipe",
    "status",
    "meter",
    "machine_id",
    "reason",
    "original_code",
    "candidate_code",
    "view",
)
#: row fields that hold a number or null
_NUMBER_FIELDS = ("ratio", "time_ratio", "orig_energy_j", "cand_energy_j", "other_cpus")
#: row fields that hold a whole number
_INT_FIELDS = ("samples", "attempts")


def _is_number(value: Any) -> bool:
    """True for an int or float that is not a bool (JSON true is not a measurement)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    """True for an int, or a float with no fractional part (not a bool, NaN or infinity)."""
    if isinstance(value, float):
        return value.is_integer()
    return _is_number(value)


def _check_field_types(values: Mapping[str, Any]) -> None:
    """Raise InputError naming the first row field whose value has the wrong JSON type:
    a string where a number belongs (or the reverse) would otherwise fail deep inside
    the fit with an internal error."""
    for name in _TEXT_FIELDS:
        if name in values and not isinstance(values[name], str):
            raise InputError(f"malformed training row: {name} must be a string")
    for name in _NUMBER_FIELDS:
        if values.get(name) is not None and not _is_number(values[name]):
            raise InputError(f"malformed training row: {name} must be a number or null")
    for name in _INT_FIELDS:
        if name in values and not _is_whole(values[name]):
            raise InputError(f"malformed training row: {name} must be a whole number")
    if "measured" in values and not isinstance(values["measured"], bool | int):
        raise InputError("malformed training row: measured must be true or false")


@dataclass
class TrainingTable:
    """Exported training data plus what it was measured with."""

    rows: list[TrainingRow]
    feature_names: list[str]
    machine: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    greenopt_version: str = ""
    notes: list[str] = field(default_factory=list)
    version: int = TABLE_VERSION

    def usable_rows(self) -> list[TrainingRow]:
        """Measured rows with a valid ratio (what the model is fitted on)."""
        return [r for r in self.rows if r.usable]

    def matrix(self) -> tuple[list[list[float]], list[float], list[str], list[str]]:
        """(X, y = log ratio, family per row, group per row) of the usable rows."""
        rows = self.usable_rows()
        x = [[float(r.features.get(n, 0.0)) for n in self.feature_names] for r in rows]
        y = [math.log(float(r.ratio)) for r in rows]  # type: ignore[arg-type]
        return x, y, [r.family for r in rows], [r.group for r in rows]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "version": self.version,
            "created": self.created,
            "greenopt_version": self.greenopt_version,
            "machine": self.machine,
            "notes": self.notes,
            "feature_names": self.feature_names,
            "rows": [self._row_dict(r) for r in self.rows],
        }

    def _row_dict(self, row: TrainingRow) -> dict[str, Any]:
        """A row with its features as a list in `feature_names` order (compact)."""
        data = row.to_dict()
        data["features"] = [row.features.get(n, 0.0) for n in self.feature_names]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingTable:
        """Rebuild from `to_dict` output; a newer format version or a malformed document
        (rows that are not a list of row objects, non-finite features) is an InputError."""
        version = data.get("version", 0)
        if not _is_whole(version):
            raise InputError("not a training table: version must be a whole number")
        version = int(version)
        if version > TABLE_VERSION:
            raise InputError(f"training table version {version} is newer than this greenopt")
        names = _string_list(data, "feature_names")
        items = data.get("rows", [])
        if not isinstance(items, list):
            raise InputError("not a training table: rows must be a list of row objects")
        rows = [_table_row(i, item, names) for i, item in enumerate(items, 1)]
        machine = data.get("machine", {})
        if not isinstance(machine, dict):
            raise InputError("not a training table: machine must be an object")
        return cls(
            rows=rows,
            feature_names=names,
            machine=dict(machine),
            created=str(data.get("created", "")),
            greenopt_version=str(data.get("greenopt_version", "")),
            notes=[str(n) for n in _string_list(data, "notes")],
            version=version,
        )


def _string_list(data: Mapping[str, Any], key: str) -> list[str]:
    """`data[key]` (missing: empty), which must be a list of strings."""
    value = data.get(key, [])
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise InputError(f"not a training table: {key} must be a list of strings")
    return list(value)


def _table_row(index: int, item: Any, names: list[str]) -> TrainingRow:
    """Row `index` (1-based) of an exported table, its feature list keyed by `names`;
    every feature must be a finite number (NaN or infinity cannot be fitted)."""
    if not isinstance(item, Mapping):
        raise InputError(f"not a training table: row {index} is not an object")
    item = dict(item)
    feats = item.get("features")
    if isinstance(feats, list):
        if len(feats) != len(names):
            raise InputError(f"training table row {index} has the wrong number of features")
        item["features"] = dict(zip(names, feats, strict=True))
    elif feats is not None and not isinstance(feats, Mapping):
        raise InputError(f"training table row {index}: features must be a list of numbers")
    try:
        row = TrainingRow.from_dict(item)
    except InputError as exc:
        raise InputError(f"training table row {index}: {exc}") from None
    if not all(math.isfinite(v) for v in row.features.values()):
        raise InputError(f"training table row {index}: features must be finite numbers")
    return row


def store_rows(store: Any) -> list[TrainingRow]:
    """The training rows recorded in `store` (newest wins for a repeated key)."""
    seen: dict[str, TrainingRow] = {}
    for item in store.results(STORE_KIND):  # newest first
        try:
            row = TrainingRow.from_dict(item["data"])
        except (InputError, TypeError, KeyError):
            continue
        seen.setdefault(row.store_key, row)
    return sorted(seen.values(), key=lambda r: r.key)


def record_row(store: Any, row: TrainingRow) -> None:
    """Record one training row in `store`."""
    store.record_result(STORE_KIND, row.store_key, row.to_dict())


def read_table(path: str | Path) -> TrainingTable:
    """Read an exported table (`.json`); bad files are InputErrors."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such training table") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: cannot read training table: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: not a training table")
    try:
        return TrainingTable.from_dict(data)
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None


def table_json_text(table: TrainingTable) -> str:
    """The exported JSON of `table` (compact, keys sorted, one trailing newline)."""
    return json.dumps(table.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"


def stage_text(path: str | Path, text: str) -> Path:
    """Write `text` to a new temporary file next to `path` and return it: `os.replace`
    onto `path` then swaps it in atomically (same directory, same file system). The
    temporary file is removed again if writing fails."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace `path` with `text` atomically (its directory is created if missing): a
    reader, or a failure half-way, never sees a partly written file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(stage_text(target, text), target)


def write_table(table: TrainingTable, json_path: str | Path, csv_path: str | Path | None) -> None:
    """Write the table as JSON (full) and optionally as flat CSV (one column per feature)."""
    write_text_atomic(json_path, table_json_text(table))
    if csv_path is not None:
        write_csv(table.rows, table.feature_names, csv_path)


#: the non-feature CSV columns, in order
CSV_COLUMNS = (
    "kernel",
    "family",
    "size",
    "function",
    "candidate",
    "passes",
    "recipe",
    "status",
    "view",
    "meter",
    "measured",
    "machine_id",
    "ratio",
    "ci95_lo",
    "ci95_hi",
    "time_ratio",
    "orig_energy_j",
    "cand_energy_j",
    "samples",
    "other_cpus",
    "attempts",
)


def csv_text(rows: Iterable[TrainingRow], feature_names: Sequence[str]) -> str:
    """Flat CSV of the rows: metadata columns then one column per feature."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([*CSV_COLUMNS, *feature_names])
    for r in rows:
        lo, hi = r.ci95 if r.ci95 is not None else (None, None)
        meta = [
            r.kernel,
            r.family,
            r.size,
            r.function,
            r.candidate,
            "+".join(r.passes),
            r.recipe,
            r.status,
            r.view,
            r.meter,
            int(r.measured),
            r.machine_id,
            r.ratio,
            lo,
            hi,
            r.time_ratio,
            r.orig_energy_j,
            r.cand_energy_j,
            r.samples,
            r.other_cpus,
            r.attempts,
        ]
        writer.writerow(
            [("" if v is None else v) for v in meta]
            + [r.features.get(n, 0.0) for n in feature_names]
        )
    return buffer.getvalue()


def write_csv(rows: Iterable[TrainingRow], feature_names: Sequence[str], path: str | Path) -> None:
    """Write `csv_text` of the rows to `path` (atomically)."""
    write_text_atomic(path, csv_text(rows, feature_names))
