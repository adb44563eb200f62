"""Exports of the analysis tables next to the SQLite file: CSV, Parquet or one JSON document.

Three tables, one row per file, per function and per opportunity (columns in
`greenopt.batch.results`), always for the files of the last run.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from greenopt.batch.results import (
    FILE_COLUMNS,
    FUNCTION_COLUMNS,
    OPPORTUNITY_COLUMNS,
    ResultStore,
    rows_as_table,
)
from greenopt.errors import InputError

FORMATS = ("sqlite", "csv", "parquet", "json")
JSON_NAME = "greenopt-analysis.json"


def _tables(store: ResultStore) -> dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]]:
    return {
        "files": (store.file_rows(), FILE_COLUMNS),
        "functions": (store.function_rows(), FUNCTION_COLUMNS),
        "opportunities": (store.opportunity_rows(), OPPORTUNITY_COLUMNS),
    }


def _replace(path: Path, write: Any) -> None:
    """Write via a temp file and rename, so a reader never sees half a table."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def export(store: ResultStore, out_dir: Path, fmt: str) -> list[Path]:
    """Write the tables in `fmt` into `out_dir`; returns the files written ([] for sqlite)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "sqlite":
        return []
    tables = _tables(store)
    written: list[Path] = []
    if fmt == "json":
        run = store.last_run()
        if run is not None:
            run = {**run, "options": json.loads(run["options"])}
        doc: dict[str, Any] = {"run": run}
        for name, (rows, _) in tables.items():
            if name == "functions":
                rows = [{**r, "features": json.loads(r["features"])} for r in rows]
            doc[name] = rows
        target = out_dir / JSON_NAME

        def write_json(tmp: Path) -> None:
            tmp.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")

        _replace(target, write_json)
        return [target]
    for name, (rows, columns) in tables.items():
        if fmt == "csv":
            target = out_dir / f"{name}.csv"

            def write_csv(
                tmp: Path, rows: list[dict[str, Any]] = rows, cols: Any = columns
            ) -> None:
                with tmp.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.DictWriter(fh, fieldnames=list(cols))
                    writer.writeheader()
                    writer.writerows(rows)

            _replace(target, write_csv)
        else:
            target = out_dir / f"{name}.parquet"
            _write_parquet(target, rows, columns)
        written.append(target)
    return written


def _write_parquet(target: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "--format parquet needs pyarrow (pip install 'greenopt[parquet]')"
        ) from None
    table = pa.table(rows_as_table(rows, columns))
    _replace(target, lambda tmp: pq.write_table(table, tmp))
