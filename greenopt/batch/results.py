"""The analysis results file (`DIR/greenopt-analysis.sqlite`): cache, resume point and tables.

Analyses are keyed by the file's sha256 plus a fingerprint of the analysis
(greenopt code, passes, options), so a re-run reuses every unchanged file and an
interrupted run keeps everything already committed (one transaction per file,
WAL journal). The `files` table maps each path of the corpus to its analysis and
remembers which run last saw it; exports and the report read the last run's files.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from greenopt.batch.records import FileResult, FunctionRecord, OpportunityRecord
from greenopt.errors import InputError

DB_NAME = "greenopt-analysis.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    key TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    size INTEGER NOT NULL,
    n_lines INTEGER NOT NULL,
    elapsed_s REAL NOT NULL,
    analyzed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS functions (
    analysis_key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    qualname TEXT NOT NULL,
    line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    n_lines INTEGER NOT NULL,
    n_statements INTEGER NOT NULL,
    n_loops INTEGER NOT NULL,
    max_loop_depth INTEGER NOT NULL,
    n_comprehensions INTEGER NOT NULL,
    n_calls INTEGER NOT NULL,
    n_numpy_calls INTEGER NOT NULL,
    is_method INTEGER NOT NULL,
    is_async INTEGER NOT NULL,
    candidate INTEGER NOT NULL,
    features TEXT NOT NULL,
    features_source TEXT NOT NULL,
    n_opportunities INTEGER NOT NULL,
    predicted_saving REAL,
    prediction_source TEXT NOT NULL,
    PRIMARY KEY (analysis_key, idx)
);
CREATE TABLE IF NOT EXISTS opportunities (
    analysis_key TEXT NOT NULL,
    function_idx INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    pass_name TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    site_function TEXT,
    fixable INTEGER NOT NULL,
    static_safe INTEGER NOT NULL,
    predicted_ratio REAL,
    predicted_lo REAL,
    predicted_hi REAL,
    prediction_source TEXT NOT NULL,
    PRIMARY KEY (analysis_key, function_idx, idx)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    fingerprint TEXT NOT NULL,
    options TEXT NOT NULL,
    n_files INTEGER NOT NULL DEFAULT 0,
    n_analyzed INTEGER NOT NULL DEFAULT 0,
    n_reused INTEGER NOT NULL DEFAULT 0,
    elapsed_s REAL,
    interrupted INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    directory TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    sha256 TEXT,
    analysis_key TEXT,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    size INTEGER,
    reused INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_run ON files (run_id);
"""

#: columns of the three exported tables (one row per file / function / opportunity)
FILE_COLUMNS = (
    "path",
    "directory",
    "status",
    "message",
    "sha256",
    "size",
    "n_lines",
    "n_functions",
    "n_opportunities",
    "reused",
)
FUNCTION_COLUMNS = (
    "path",
    "directory",
    "qualname",
    "line",
    "end_line",
    "col",
    "n_lines",
    "n_statements",
    "n_loops",
    "max_loop_depth",
    "n_comprehensions",
    "n_calls",
    "n_numpy_calls",
    "is_method",
    "is_async",
    "candidate",
    "n_opportunities",
    "codes",
    "predicted_saving",
    "prediction_source",
    "features_source",
    "features",
)
OPPORTUNITY_COLUMNS = (
    "path",
    "qualname",
    "pass_name",
    "code",
    "line",
    "col",
    "end_line",
    "end_col",
    "message",
    "fixable",
    "static_safe",
    "predicted_ratio",
    "predicted_lo",
    "predicted_hi",
    "prediction_source",
)


def analysis_key(sha256: str, fingerprint: str) -> str:
    """Cache key of one file's analysis."""
    return f"{sha256}:{fingerprint}"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ResultStore:
    """The SQLite results of `greenopt analyze` in one output directory (single writer)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise InputError(
                    f"{self.path}: results file of another greenopt version "
                    f"(schema {version}); use another --out directory"
                )
            self.conn.executescript(_SCHEMA)
            self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a greenopt results file ({exc})") from None

    def close(self) -> None:
        """Close the connection (results are already committed)."""
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # runs -----------------------------------------------------------------
    def start_run(self, fingerprint: str, options: dict[str, Any], n_files: int) -> int:
        """Record the start of a run; returns its id."""
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (started_at, fingerprint, options, n_files) VALUES (?, ?, ?, ?)",
                (_now(), fingerprint, json.dumps(options, sort_keys=True), n_files),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, n_analyzed: int, n_reused: int, elapsed_s: float) -> None:
        """Mark a run as complete with its counts."""
        with self._transaction() as c:
            c.execute(
                "UPDATE runs SET finished_at=?, n_analyzed=?, n_reused=?, elapsed_s=?, "
                "interrupted=0 WHERE run_id=?",
                (_now(), n_analyzed, n_reused, elapsed_s, run_id),
            )

    def last_run(self) -> dict[str, Any] | None:
        """The most recent run (complete or interrupted), as a dict."""
        row = self.conn.execute("SELECT * FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
        return dict(row) if row else None

    # cache ----------------------------------------------------------------
    def has_analysis(self, sha256: str, fingerprint: str) -> bool:
        """True when this content was analysed with this fingerprint before."""
        row = self.conn.execute(
            "SELECT 1 FROM analyses WHERE key=?", (analysis_key(sha256, fingerprint),)
        ).fetchone()
        return row is not None

    def record(self, result: FileResult, directory: str, fingerprint: str, run_id: int) -> None:
        """Commit one freshly analysed file (and its analysis, when cacheable)."""
        key = (
            analysis_key(result.sha256, fingerprint)
            if result.cacheable and result.sha256 is not None
            else None
        )
        with self._transaction() as c:
            if key is not None:
                self._insert_analysis(c, key, fingerprint, result)
            c.execute(
                "INSERT OR REPLACE INTO files (path, directory, run_id, sha256, analysis_key, "
                "status, message, size, reused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    result.path,
                    directory,
                    run_id,
                    result.sha256,
                    key,
                    result.status,
                    result.message,
                    result.size,
                ),
            )

    def reuse(
        self, path: str, directory: str, sha256: str, fingerprint: str, run_id: int
    ) -> tuple[str, str]:
        """Point `path` at the cached analysis of its content; returns its (status, message)."""
        key = analysis_key(sha256, fingerprint)
        with self._transaction() as c:
            row = c.execute("SELECT status, message, size FROM analyses WHERE key=?", (key,))
            status, message, size = row.fetchone()
            c.execute(
                "INSERT OR REPLACE INTO files (path, directory, run_id, sha256, analysis_key, "
                "status, message, size, reused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (path, directory, run_id, sha256, key, status, message, size),
            )
        return status, message

    def _insert_analysis(
        self, c: sqlite3.Connection, key: str, fingerprint: str, r: FileResult
    ) -> None:
        assert r.sha256 is not None
        c.execute("DELETE FROM functions WHERE analysis_key=?", (key,))
        c.execute("DELETE FROM opportunities WHERE analysis_key=?", (key,))
        c.execute(
            "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                r.sha256,
                fingerprint,
                r.status,
                r.message,
                r.size,
                r.n_lines,
                r.elapsed_s,
                _now(),
            ),
        )
        for i, f in enumerate(r.functions):
            c.execute(
                "INSERT INTO functions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?)",
                (
                    key,
                    i,
                    f.qualname,
                    f.line,
                    f.end_line,
                    f.col,
                    f.n_lines,
                    f.n_statements,
                    f.n_loops,
                    f.max_loop_depth,
                    f.n_comprehensions,
                    f.n_calls,
                    f.n_numpy_calls,
                    int(f.is_method),
                    int(f.is_async),
                    int(f.candidate),
                    json.dumps(f.features, sort_keys=True),
                    f.features_source,
                    len(f.opportunities),
                    f.predicted_saving,
                    f.prediction_source,
                ),
            )
            c.executemany(
                "INSERT INTO opportunities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        i,
                        j,
                        o.pass_name,
                        o.code,
                        o.message,
                        o.line,
                        o.col,
                        o.end_line,
                        o.end_col,
                        o.site_function,
                        int(o.fixable),
                        int(o.static_safe),
                        o.predicted_ratio,
                        o.predicted_lo,
                        o.predicted_hi,
                        o.prediction_source,
                    )
                    for j, o in enumerate(f.opportunities)
                ],
            )

    # reading ----------------------------------------------------------------
    def _run_id(self, run_id: int | None) -> int:
        if run_id is not None:
            return run_id
        last = self.last_run()
        return int(last["run_id"]) if last else -1

    def file_rows(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """One row per file of the run (FILE_COLUMNS), sorted by path."""
        rows = self.conn.execute(
            """
            SELECT f.path, f.directory, f.status, f.message, f.sha256, f.size,
                   COALESCE(a.n_lines, 0) AS n_lines,
                   (SELECT COUNT(*) FROM functions fn WHERE fn.analysis_key = f.analysis_key
                        AND fn.qualname != '<module>') AS n_functions,
                   (SELECT COUNT(*) FROM opportunities o WHERE o.analysis_key = f.analysis_key)
                        AS n_opportunities,
                   f.reused
            FROM files f LEFT JOIN analyses a ON a.key = f.analysis_key
            WHERE f.run_id = ? ORDER BY f.path
            """,
            (self._run_id(run_id),),
        )
        return [dict(r) for r in rows]

    def function_rows(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """One row per function of the run's files (FUNCTION_COLUMNS)."""
        rows = self.conn.execute(
            """
            SELECT f.path, f.directory, fn.qualname, fn.line, fn.end_line, fn.col, fn.n_lines,
                   fn.n_statements, fn.n_loops, fn.max_loop_depth, fn.n_comprehensions,
                   fn.n_calls, fn.n_numpy_calls, fn.is_method, fn.is_async, fn.candidate,
                   fn.n_opportunities,
                   (SELECT GROUP_CONCAT(code, ',') FROM (SELECT DISTINCT o.code FROM opportunities o
                        WHERE o.analysis_key = fn.analysis_key AND o.function_idx = fn.idx
                        ORDER BY o.code)) AS codes,
                   fn.predicted_saving, fn.prediction_source, fn.features_source, fn.features
            FROM files f JOIN functions fn ON fn.analysis_key = f.analysis_key
            WHERE f.run_id = ? ORDER BY f.path, fn.idx
            """,
            (self._run_id(run_id),),
        )
        return [dict(r) for r in rows]

    def opportunity_rows(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """One row per opportunity of the run's files (OPPORTUNITY_COLUMNS)."""
        rows = self.conn.execute(
            """
            SELECT f.path, fn.qualname, o.pass_name, o.code, o.line, o.col, o.end_line,
                   o.end_col, o.message, o.fixable, o.static_safe, o.predicted_ratio,
                   o.predicted_lo, o.predicted_hi, o.prediction_source
            FROM files f
            JOIN opportunities o ON o.analysis_key = f.analysis_key
            JOIN functions fn ON fn.analysis_key = o.analysis_key AND fn.idx = o.function_idx
            WHERE f.run_id = ? ORDER BY f.path, o.function_idx, o.idx
            """,
            (self._run_id(run_id),),
        )
        return [dict(r) for r in rows]

    def file_results(self, run_id: int | None = None) -> list[FileResult]:
        """The run's per-file results rebuilt as records (for comparisons and re-export)."""
        rid = self._run_id(run_id)
        out: list[FileResult] = []
        for f in self.conn.execute(
            "SELECT f.*, COALESCE(a.n_lines, 0) AS n_lines FROM files f "
            "LEFT JOIN analyses a ON a.key = f.analysis_key WHERE f.run_id=? ORDER BY f.path",
            (rid,),
        ).fetchall():
            functions = self._functions(f["analysis_key"]) if f["analysis_key"] else ()
            out.append(
                FileResult(
                    path=f["path"],
                    sha256=f["sha256"],
                    size=f["size"] or 0,
                    status=f["status"],
                    message=f["message"],
                    n_lines=f["n_lines"],
                    functions=functions,
                )
            )
        return out

    def _functions(self, key: str) -> tuple[FunctionRecord, ...]:
        opps: dict[int, list[OpportunityRecord]] = {}
        for o in self.conn.execute(
            "SELECT * FROM opportunities WHERE analysis_key=? ORDER BY function_idx, idx", (key,)
        ):
            opps.setdefault(o["function_idx"], []).append(
                OpportunityRecord(
                    pass_name=o["pass_name"],
                    code=o["code"],
                    message=o["message"],
                    line=o["line"],
                    col=o["col"],
                    end_line=o["end_line"],
                    end_col=o["end_col"],
                    site_function=o["site_function"],
                    fixable=bool(o["fixable"]),
                    static_safe=bool(o["static_safe"]),
                    predicted_ratio=o["predicted_ratio"],
                    predicted_lo=o["predicted_lo"],
                    predicted_hi=o["predicted_hi"],
                    prediction_source=o["prediction_source"],
                )
            )
        return tuple(
            FunctionRecord(
                qualname=r["qualname"],
                line=r["line"],
                end_line=r["end_line"],
                col=r["col"],
                n_lines=r["n_lines"],
                n_statements=r["n_statements"],
                n_loops=r["n_loops"],
                max_loop_depth=r["max_loop_depth"],
                n_comprehensions=r["n_comprehensions"],
                n_calls=r["n_calls"],
                n_numpy_calls=r["n_numpy_calls"],
                is_method=bool(r["is_method"]),
                is_async=bool(r["is_async"]),
                candidate=bool(r["candidate"]),
                features=json.loads(r["features"]),
                features_source=r["features_source"],
                opportunities=tuple(opps.get(r["idx"], ())),
                predicted_saving=r["predicted_saving"],
                prediction_source=r["prediction_source"],
            )
            for r in self.conn.execute(
                "SELECT * FROM functions WHERE analysis_key=? ORDER BY idx", (key,)
            )
        )


def rows_as_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """Column-oriented form of rows (for parquet), keeping column order when there are no rows."""
    return {c: [r.get(c) for r in rows] for c in columns}
