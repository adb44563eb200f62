"""Throughput of `greenopt analyze` on a large real tree, side by side with ruff and fixit.

Default tree: the installed numpy sources (~490 files). Runs, each in a fresh
output directory and timed by wall clock:

- `greenopt analyze TREE --no-gitignore --no-resume --jobs N` (screened, the default);
- optionally the same with `--no-screening` on the first `--screening-files` files,
  to show what screening buys;
- `ruff check --no-cache --exit-zero TREE` (all files);
- `fixit lint` on the first `--fixit-files` files (fixit manages ~1 file/s).

Prints files/s and ratios to greenopt's rate, and writes a JSON record with
`--json PATH`. Speeds depend on the machine and its load: compare ratios from one
run, never absolute numbers across machines.

    python benchmarks/analyze_throughput.py [--tree DIR] [--jobs N] [--fixit-files 50]

`--compare-db BASELINE.sqlite` checks that speed changed nothing else: the run's
per-file statuses, per-function rows and per-opportunity rows must equal the
baseline's (timings excluded; `--ignore-model-columns` also leaves out features and
predictions, which follow the cost model). It exits 1 and lists the files that differ.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Timing:
    """One tool's run over some files of the tree."""

    tool: str
    files: int
    seconds: float
    returncode: int
    note: str = ""

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else float("nan")


def default_tree() -> Path:
    spec = importlib.util.find_spec("numpy")
    if spec is None or spec.origin is None:
        sys.exit("numpy is not installed; pass --tree")
    return Path(spec.origin).parent


def python_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*.py") if p.is_file())


def _timed(tool: str, cmd: list[str], files: int, note: str = "") -> Timing:
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        note = (note + " " + proc.stderr.strip().splitlines()[-1] if proc.stderr else note).strip()
    return Timing(tool, files, elapsed, proc.returncode, note)


def _bin(name: str) -> str | None:
    here = Path(sys.executable).with_name(name)
    return str(here) if here.exists() else shutil.which(name)


def run_greenopt(
    paths: list[Path],
    jobs: int,
    screening: bool,
    label: str,
    n: int,
    passes: str | None = None,
    keep_db: Path | None = None,
) -> Timing:
    """Time one `greenopt analyze` run in a fresh output directory (its SQLite results are
    copied to `keep_db` when given)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "greenopt",
            "analyze",
            *map(str, paths),
            "--out",
            out,
            "--no-gitignore",
            "--no-resume",
            "--no-progress",
            "--jobs",
            str(jobs),
        ]
        if not screening:
            cmd.append("--no-screening")
        if passes:
            cmd += ["--passes", passes]
        timing = _timed(label, cmd, n)
        if keep_db is not None:
            shutil.copyfile(Path(out) / "greenopt-analysis.sqlite", keep_db)
        return timing


def run_fixit(fixit: str, tree: Path, subset: list[Path]) -> Timing:
    """Time `fixit lint` on copies of `subset` in a scratch directory.

    fixit skips files under an installed package tree (it reports "0 files clean" for
    site-packages paths), so linting the tree in place would time nothing.
    """
    with tempfile.TemporaryDirectory() as scratch:
        copies: list[Path] = []
        for path in subset:
            copy = Path(scratch) / path.relative_to(tree)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
            copies.append(copy)
        return _timed(
            "fixit lint",
            [fixit, "lint", *map(str, copies)],
            len(subset),
            note=f"first {len(subset)} files (copies)",
        )


#: columns that come from the cost model (they change when the model does, not the analysis)
MODEL_COLUMNS = frozenset(
    {"features", "predicted_ratio", "predicted_lo", "predicted_hi", "prediction_source",
     "predicted_saving"}
)  # fmt: skip


def _rows(db: Path, table: str, ignore: frozenset[str]) -> dict[str, set[tuple[object, ...]]]:
    """path -> the rows of `table` (functions or opportunities) of that file's analysis."""
    con = sqlite3.connect(db)
    try:
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in columns if c not in ignore and c != "analysis_key"]
        out: dict[str, set[tuple[object, ...]]] = {}
        query = (
            f"SELECT f.path, {', '.join('t.' + c for c in keep)} FROM {table} t "
            "JOIN files f ON f.analysis_key = t.analysis_key"
        )
        for path, *values in con.execute(query):
            out.setdefault(path, set()).add(tuple(values))
        return out
    finally:
        con.close()


def _statuses(db: Path) -> dict[str, tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return {p: (s, m) for p, s, m in con.execute("SELECT path, status, message FROM files")}
    finally:
        con.close()


def compare_databases(baseline: Path, current: Path, ignore_model: bool) -> dict[str, list[str]]:
    """Paths whose file status, function rows or opportunity rows differ between two
    analysis databases (timings are not compared; cost-model columns only without
    `ignore_model`)."""
    ignore = MODEL_COLUMNS if ignore_model else frozenset()
    differ: dict[str, list[str]] = {}
    a, b = _statuses(baseline), _statuses(current)
    differ["files"] = sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))
    for table in ("functions", "opportunities"):
        x, y = _rows(baseline, table, ignore), _rows(current, table, ignore)
        differ[table] = sorted(p for p in x.keys() | y.keys() if x.get(p) != y.get(p))
    return differ


def breakdown(files: list[Path], passes: list[str]) -> dict[str, float]:
    """In-process seconds per phase (read+ast+screen, prune, libcst parse, each pass) over
    `files`, the way `analyze_source` runs them (one parse of the passes' shared text)."""
    import ast

    from greenopt.batch.file_analysis import screened_text
    from greenopt.batch.screening import screen
    from greenopt.optimizer.findings import find_opportunities
    from greenopt.optimizer.source import SourceModule

    phases: dict[str, float] = {"screening": 0.0, "pruning": 0.0, "libcst parse": 0.0}
    for path in files:
        t0 = time.perf_counter()
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        sketch = screen(tree)
        t1 = time.perf_counter()
        names, pruned = screened_text(text, tree, sketch, passes)
        t2 = time.perf_counter()
        phases["screening"] += t1 - t0
        phases["pruning"] += t2 - t1
        if pruned is None:
            continue
        module = SourceModule.parse(pruned, str(path))
        phases["libcst parse"] += time.perf_counter() - t2
        for name in names:
            t3 = time.perf_counter()
            find_opportunities(module, [name])
            phases[f"pass {name}"] = phases.get(f"pass {name}", 0.0) + time.perf_counter() - t3
    return phases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=None, help="tree to analyse [numpy sources]")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--fixit-files", type=int, default=50, help="cap for fixit (0: skip)")
    ap.add_argument(
        "--screening-files",
        type=int,
        default=0,
        help="also time --no-screening on this many files (0: skip)",
    )
    ap.add_argument(
        "--also-passes",
        default=None,
        help="also time greenopt with only these passes (e.g. vectorize,loop-fusion,jit)",
    )
    ap.add_argument("--max-files", type=int, default=0, help="analyse only the first N files")
    ap.add_argument(
        "--breakdown",
        type=int,
        default=0,
        help="also time each phase in-process on this many files (0: skip)",
    )
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument(
        "--keep-db", type=Path, default=None, help="copy the first run's SQLite results here"
    )
    ap.add_argument(
        "--compare-db",
        type=Path,
        default=None,
        help="compare the first run's results with this baseline database (exit 1 if they differ)",
    )
    ap.add_argument(
        "--ignore-model-columns",
        action="store_true",
        help="with --compare-db: ignore features and predictions (they follow the cost model)",
    )
    args = ap.parse_args()

    tree = args.tree or default_tree()
    files = python_files(tree)
    if args.max_files:
        files = files[: args.max_files]
    whole_tree = not args.max_files
    targets = [tree] if whole_tree else files
    keep_db = args.keep_db
    scratch = None
    if args.compare_db is not None and keep_db is None:
        scratch = tempfile.TemporaryDirectory()
        keep_db = Path(scratch.name) / "current.sqlite"
    timings: list[Timing] = [
        run_greenopt(
            targets,
            args.jobs,
            True,
            f"greenopt analyze --jobs {args.jobs}",
            len(files),
            keep_db=keep_db,
        )
    ]
    if args.also_passes:
        timings.append(
            run_greenopt(
                targets,
                args.jobs,
                True,
                f"greenopt --passes {args.also_passes}",
                len(files),
                args.also_passes,
            )
        )
    if args.screening_files:
        subset = files[: args.screening_files]
        timings.append(
            run_greenopt(subset, args.jobs, True, "greenopt (screened, subset)", len(subset))
        )
        timings.append(
            run_greenopt(subset, args.jobs, False, "greenopt --no-screening (subset)", len(subset))
        )
    ruff = _bin("ruff")
    if ruff:
        timings.append(
            _timed(
                "ruff check",
                [ruff, "check", "--no-cache", "--exit-zero", "--quiet", *map(str, targets)],
                len(files),
            )
        )
    fixit = _bin("fixit")
    if fixit and args.fixit_files:
        timings.append(run_fixit(fixit, tree, files[: args.fixit_files]))

    base = timings[0].files_per_s
    print(
        f"tree: {tree} ({len(files)} files), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'tool':40s} {'files':>6s} {'seconds':>9s} {'files/s':>9s} {'vs greenopt':>12s}")
    for t in timings:
        print(
            f"{t.tool:40s} {t.files:6d} {t.seconds:9.2f} {t.files_per_s:9.1f} "
            f"{t.files_per_s / base:11.2f}x  {t.note}"
        )
    phases: dict[str, float] = {}
    if args.breakdown:
        from greenopt.optimizer.findings import available_passes

        sample = files[: args.breakdown]
        phases = breakdown(sample, available_passes())
        total = sum(phases.values()) or 1.0
        print(f"in-process breakdown on {len(sample)} files (one process):")
        for name, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
            print(f"  {name:28s} {seconds:8.2f} s  {100 * seconds / total:5.1f}%")
    differ: dict[str, list[str]] = {}
    if args.compare_db is not None and keep_db is not None:
        differ = compare_databases(args.compare_db, keep_db, args.ignore_model_columns)
        what = "rows without cost-model columns" if args.ignore_model_columns else "all rows"
        print(f"comparison with {args.compare_db} ({what}, timings excluded):")
        for table, paths in differ.items():
            print(f"  {table:14s} {len(paths):4d} file(s) differ")
            for path in paths[:20]:
                print(f"    {path}")
    if scratch is not None:
        scratch.cleanup()
    if args.json:
        record = {
            "breakdown_s": phases,
            "compared_with": str(args.compare_db) if args.compare_db else None,
            "differing_files": differ,
            "tree": str(tree),
            "files": len(files),
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "python": platform.python_version(),
            "timings": [{**asdict(t), "files_per_s": t.files_per_s} for t in timings],
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any(differ.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
