"""SQLite store of measurements (and other analysis results): the cost model's training data.

One file, by default ``<platformdirs user data dir>/greenopt/greenopt.sqlite``
(``--store PATH`` or ``Store(path)`` to choose). Every measurement is stored with:

* the machine fingerprint (CPU model, logical CPUs, physical cores, sockets,
  governor if readable; `machine_id` is a hash of those),
* the meter (name, measured or estimated, domains),
* `code_hash` (of the module or script measured) and `workload_hash`
  (`Workload.digest()`: setup, calls, seed),
* all samples (`Measurement.to_dict()`, so it can be rebuilt exactly), plus summary
  columns for quick queries, and free-form `extra` metadata from the caller.

Schema versioned in table ``meta`` (key ``schema_version``); a file written by a
newer greenopt is refused rather than misread. Writers from several processes are
fine (WAL journal, 30 s busy timeout).

Public API::

    store = Store(path=None)
    row_id = store.record_measurement(m, code_hash=..., workload_hash=..., workload=..., label=..., kind=..., extra=...)
    id_a, id_b = store.record_comparison(c, workload_a=..., workload_b=..., kind="compare", extra=...)
    rows = store.measurements(code_hash=..., workload_hash=..., meter=..., machine_id=..., kind=..., label=...,
                              measured=..., limit=...)          # newest first, list of dicts
    row = store.get_cached(code_hash, workload_hash, meter=None, machine_id=None, max_age_s=None, min_samples=1)
    m = Store.to_measurement(row)                                # back to a Measurement
    store.record_result(kind, key, data); store.results(kind, key=None)
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from greenopt.errors import InputError
from greenopt.measure.machine import MachineFingerprint, machine_fingerprint
from greenopt.measure.results import Comparison, Measurement
from greenopt.measure.workload import Workload

SCHEMA_VERSION = 1
STORE_FILENAME = "greenopt.sqlite"

_SCHEMA_V1 = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS measurements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        created_unix REAL NOT NULL,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        machine_id TEXT NOT NULL,
        cpu_model TEXT NOT NULL,
        logical_cpus INTEGER NOT NULL,
        physical_cores INTEGER NOT NULL,
        governor TEXT,
        machine_json TEXT NOT NULL,
        meter TEXT NOT NULL,
        measured INTEGER NOT NULL,
        domains TEXT NOT NULL,
        code_hash TEXT,
        workload_hash TEXT,
        workload_json TEXT,
        samples INTEGER NOT NULL,
        calls_per_sample INTEGER NOT NULL,
        energy_j REAL,
        energy_net_j REAL,
        time_s REAL,
        ci_lo REAL,
        ci_hi REAL,
        idle_power_w REAL,
        cold_energy_j REAL,
        cold_time_s REAL,
        data_json TEXT NOT NULL,
        extra_json TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS measurements_lookup ON measurements "
    "(code_hash, workload_hash, meter, machine_id)",
    """CREATE TABLE IF NOT EXISTS results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        data_json TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS results_lookup ON results (kind, key)",
]


def default_store_path() -> Path:
    """``<user data dir>/greenopt/greenopt.sqlite`` (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("greenopt", appauthor=False)) / STORE_FILENAME


def hash_code(text: str | bytes) -> str:
    """Short sha256 of source code (16 hex digits), as stored in `code_hash`."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


def hash_file(path: str | os.PathLike[str]) -> str:
    """`hash_code` of a file's bytes."""
    return hash_code(Path(path).read_bytes())


def check_store_path(path: str | os.PathLike[str]) -> None:
    """Raise InputError if a store could not be created or opened at `path`; creates nothing."""
    p = Path(path)
    if p.exists():
        if not p.is_file():
            raise InputError(f"cannot open measurement store {p}: not a file")
        if not os.access(p, os.R_OK | os.W_OK):
            raise InputError(f"cannot open measurement store {p}: not readable and writable")
        return
    ancestor = p.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot open measurement store {p}: {ancestor} is not a writable directory"
        )


def check_store_option(path: str | os.PathLike[str], flag: str = "--store") -> None:
    """`check_store_path` for a store named on the command line: its directory must exist.

    A missing directory is more likely a typo than a wish to create it, so it is an
    InputError rather than created silently; the store file itself may be new. The default
    store path (used without `--store`) still gets its directories created by `Store`.
    Creates nothing.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists() and p.absolute() != default_store_path().absolute():
        raise InputError(f"{flag} {path}: directory does not exist: {parent}")
    check_store_path(p)


def _nan_to_none(value: float | None) -> float | None:
    """None for None or NaN (stored as SQL NULL), else the float."""
    if value is None or value != value:  # NaN
        return None
    return float(value)


class Store:
    """A measurement store in one SQLite file; see the module docstring for the API."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        """Open (creating if needed) the store at `path` and bring its schema up to date."""
        self.path = Path(path) if path is not None else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=30.0)
            self._conn.row_factory = sqlite3.Row
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open measurement store {self.path}: {exc}") from None

    # -- lifecycle ---------------------------------------------------------------
    def _migrate(self) -> None:
        """Create or upgrade the schema; refuse a file from a newer greenopt."""
        with self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(row["value"]) if row else 0
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"measurement store {self.path} has schema version {version}, newer than this "
                    f"greenopt understands ({SCHEMA_VERSION}); upgrade greenopt or use --store"
                )
            if version < 1:
                for stmt in _SCHEMA_V1:
                    self._conn.execute(stmt)
            self._conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row["value"])

    # -- measurements --------------------------------------------------------------
    def record_measurement(
        self,
        measurement: Measurement,
        *,
        code_hash: str | None = None,
        workload_hash: str | None = None,
        workload: Workload | None = None,
        label: str | None = None,
        kind: str = "measure",
        extra: Mapping[str, Any] | None = None,
        machine: MachineFingerprint | None = None,
    ) -> int:
        """Store one measurement and return its row id.

        `workload_hash` defaults to `workload.digest()`; `code_hash` to the hash of
        `workload.module_path`'s file when given and readable. `kind` tags the producer
        (``measure``, ``validate``, ``train`` ...); `extra` is any JSON-serialisable mapping.
        """
        machine = machine or machine_fingerprint()
        if workload is not None:
            workload_hash = workload_hash or workload.digest()
            if code_hash is None and workload.module_path:
                try:
                    code_hash = hash_file(workload.module_path)
                except OSError:
                    code_hash = None
        m = measurement
        ci = m.ci95 if m.samples else (None, None)
        now = time.time()
        row = {
            "created_at": datetime.fromtimestamp(now, tz=timezone.utc).isoformat(
                timespec="seconds"
            ),
            "created_unix": now,
            "kind": kind,
            "label": label if label is not None else m.label,
            "machine_id": machine.machine_id,
            "cpu_model": machine.cpu_model,
            "logical_cpus": machine.logical_cpus,
            "physical_cores": machine.physical_cores,
            "governor": machine.governor,
            "machine_json": json.dumps(machine.to_dict()),
            "meter": m.meter.name,
            "measured": int(m.meter.measured),
            "domains": json.dumps(list(m.meter.domains)),
            "code_hash": code_hash,
            "workload_hash": workload_hash,
            "workload_json": json.dumps(_workload_dict(workload)) if workload is not None else None,
            "samples": m.samples,
            "calls_per_sample": m.calls_per_sample,
            "energy_j": _nan_to_none(m.energy_median_j),
            "energy_net_j": _nan_to_none(m.energy_net_median_j),
            "time_s": _nan_to_none(m.time_median_s),
            "ci_lo": _nan_to_none(ci[0]),
            "ci_hi": _nan_to_none(ci[1]),
            "idle_power_w": _nan_to_none(m.idle_power_w),
            "cold_energy_j": _nan_to_none(m.cold_energy_j),
            "cold_time_s": _nan_to_none(m.cold_time_s),
            "data_json": json.dumps(m.to_dict()),
            "extra_json": json.dumps(dict(extra or {}), default=str),
        }
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        try:
            with self._conn:
                cur = self._conn.execute(
                    f"INSERT INTO measurements ({cols}) VALUES ({marks})", tuple(row.values())
                )
        except sqlite3.Error as exc:
            raise InputError(f"cannot write to measurement store {self.path}: {exc}") from None
        return int(cur.lastrowid or 0)

    def record_comparison(
        self,
        comparison: Comparison,
        *,
        workload_a: Workload | None = None,
        workload_b: Workload | None = None,
        code_hash_a: str | None = None,
        code_hash_b: str | None = None,
        kind: str = "compare",
        extra: Mapping[str, Any] | None = None,
        machine: MachineFingerprint | None = None,
    ) -> tuple[int, int]:
        """Store both sides of an interleaved comparison; returns their row ids.

        Each row's `extra` gets ``role`` (``a``/``b``), ``pair`` (the other row's id, on
        the second row), and the comparison's ``ratio`` and ``ci95``.
        """
        machine = machine or machine_fingerprint()
        shared = {**dict(extra or {}), "ratio": comparison.ratio, "ci95": list(comparison.ci95)}
        id_a = self.record_measurement(
            comparison.a,
            workload=workload_a,
            code_hash=code_hash_a,
            kind=kind,
            extra={**shared, "role": "a"},
            machine=machine,
        )
        id_b = self.record_measurement(
            comparison.b,
            workload=workload_b,
            code_hash=code_hash_b,
            kind=kind,
            extra={**shared, "role": "b", "pair": id_a},
            machine=machine,
        )
        return id_a, id_b

    def measurements(
        self,
        *,
        code_hash: str | None = None,
        workload_hash: str | None = None,
        meter: str | None = None,
        machine_id: str | None = None,
        kind: str | None = None,
        label: str | None = None,
        measured: bool | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Stored measurements matching every given filter, newest first.

        Each dict has the summary columns (``id, created_at, kind, label, machine_id,
        cpu_model, logical_cpus, physical_cores, governor, meter, measured, domains,
        code_hash, workload_hash, samples, calls_per_sample, energy_j, energy_net_j,
        time_s, ci_lo, ci_hi, idle_power_w, cold_energy_j, cold_time_s``) and the
        decoded ``machine``, ``workload``, ``data`` (`Measurement.to_dict()`) and ``extra``.
        """
        where: list[str] = []
        args: list[Any] = []
        for col, value in (
            ("code_hash", code_hash),
            ("workload_hash", workload_hash),
            ("meter", meter),
            ("machine_id", machine_id),
            ("kind", kind),
            ("label", label),
        ):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        if measured is not None:
            where.append("measured = ?")
            args.append(int(measured))
        sql = "SELECT * FROM measurements"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [_decode(r) for r in self._conn.execute(sql, args).fetchall()]

    def get_cached(
        self,
        code_hash: str,
        workload_hash: str,
        meter: str | None = None,
        *,
        machine_id: str | None = None,
        max_age_s: float | None = None,
        min_samples: int = 1,
    ) -> dict[str, Any] | None:
        """The newest stored measurement of this code and workload on this machine, or None.

        `machine_id` defaults to this machine's; `meter` None accepts any meter;
        `max_age_s` ignores older rows; `min_samples` ignores rows with fewer samples.
        """
        machine_id = machine_id or machine_fingerprint().machine_id
        for row in self.measurements(
            code_hash=code_hash, workload_hash=workload_hash, meter=meter, machine_id=machine_id
        ):
            if row["samples"] < min_samples:
                continue
            if max_age_s is not None and time.time() - row["created_unix"] > max_age_s:
                continue
            return row
        return None

    @staticmethod
    def to_measurement(row: Mapping[str, Any]) -> Measurement:
        """Rebuild the `Measurement` of a row from `measurements()` / `get_cached()`."""
        return Measurement.from_dict(row["data"])

    # -- other results -------------------------------------------------------------
    def record_result(self, kind: str, key: str, data: Mapping[str, Any]) -> int:
        """Store any JSON-serialisable analysis result under (`kind`, `key`)."""
        now = datetime.now(tz=timezone.utc).isoformat(timespec="seconds")
        try:
            with self._conn:
                cur = self._conn.execute(
                    "INSERT INTO results (created_at, kind, key, data_json) VALUES (?, ?, ?, ?)",
                    (now, kind, key, json.dumps(dict(data), default=str)),
                )
        except sqlite3.Error as exc:
            raise InputError(f"cannot write to measurement store {self.path}: {exc}") from None
        return int(cur.lastrowid or 0)

    def results(self, kind: str, key: str | None = None) -> list[dict[str, Any]]:
        """Stored results of `kind` (and `key`), newest first: ``{id, created_at, kind, key, data}``."""
        sql = "SELECT * FROM results WHERE kind = ?"
        args: list[Any] = [kind]
        if key is not None:
            sql += " AND key = ?"
            args.append(key)
        sql += " ORDER BY id DESC"
        return [
            {
                "id": r["id"],
                "created_at": r["created_at"],
                "kind": r["kind"],
                "key": r["key"],
                "data": json.loads(r["data_json"]),
            }
            for r in self._conn.execute(sql, args).fetchall()
        ]


def _workload_dict(workload: Workload) -> dict[str, Any]:
    """The JSON-ready fields of a workload stored with a measurement."""
    return {
        "setup": workload.setup,
        "calls": list(workload.calls),
        "module_path": workload.module_path,
        "module_name": workload.module_name,
        "seed": workload.seed,
        "label": workload.label,
    }


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    """A measurements row as a dict with its JSON columns decoded."""
    d = dict(row)
    d["measured"] = bool(d["measured"])
    d["domains"] = json.loads(d["domains"])
    d["machine"] = json.loads(d.pop("machine_json"))
    wl = d.pop("workload_json")
    d["workload"] = json.loads(wl) if wl else None
    d["data"] = json.loads(d.pop("data_json"))
    d["extra"] = json.loads(d.pop("extra_json"))
    return d
