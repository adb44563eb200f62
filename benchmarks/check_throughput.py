"""Throughput of `greenopt check` on a large real tree, beside `ruff check --select PERF`
and `fixit lint` on the same files.

Default tree: the installed numpy sources. Reports files/s and lines/s for each
tool, the ratios, and the cold-start time of `greenopt check` on one file of about
1,000 lines (the pre-commit case, target < 1 s). Every tool runs as a fresh
process, as it would in a hook. Usage:

    .venv/bin/python benchmarks/check_throughput.py [--tree DIR] [--fixit-max-files 60]
        [--json benchmarks/results/check_throughput.json] [--skip-fixit]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


def default_tree() -> Path:
    """The installed numpy package directory (found without importing numpy)."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("numpy is not installed; pass --tree DIR")
    return Path(next(iter(spec.submodule_search_locations)))


def python_files(tree: Path) -> list[Path]:
    """The files `greenopt check` would visit (same skip rules)."""
    sys.path.insert(0, str(ROOT))
    from greenopt.optimizer.walk import FoundFile, discover

    return [Path(f.path) for f in discover([str(tree)]) if isinstance(f, FoundFile)]


def count_lines(files: list[Path]) -> int:
    total = 0
    for f in files:
        try:
            total += f.read_bytes().count(b"\n")
        except OSError:
            pass
    return total


#: CPU seconds (user + system) of the last `timed` process
LAST_CPU = [0.0]


def timed(cmd: list[str], cwd: Path | None = None, timeout: float = 3600) -> tuple[float, int, str]:
    """Wall seconds, exit code and stderr tail of one fresh process (its CPU seconds are
    left in `LAST_CPU[0]`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.returncode, proc.stderr[-400:]


def copy_tree(files: list[Path], root: Path, dest: Path) -> Path:
    """Copy `files` (under `root`) to `dest` keeping relative paths: a neutral place that
    no tool skips (fixit, for one, lints nothing under site-packages)."""
    for f in files:
        target = dest / f.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    return dest


def tool(name: str) -> str | None:
    """Path of a console script next to this interpreter, else on PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


def rate(files: int, lines: int, seconds: float) -> dict[str, float]:
    """Throughput figures of one timed run (wall and CPU seconds)."""
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(LAST_CPU[0], 3),
        "files": files,
        "lines": lines,
        "files_per_s": round(files / seconds, 1) if seconds > 0 else float("inf"),
        "lines_per_s": round(lines / seconds, 1) if seconds > 0 else float("inf"),
    }


def _report(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label:36s} {figures['seconds']:8.2f} s wall {figures['cpu_seconds']:8.2f} s CPU "
        f"{figures['files_per_s']:8.1f} files/s {figures['lines_per_s']:10.0f} lines/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=None, help="tree to check (default numpy)")
    parser.add_argument(
        "--fixit-max-files", type=int, default=60, help="files given to fixit (it is slow)"
    )
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument(
        "--max-files", type=int, default=None, help="check only the first N files (default all)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of the single-file test")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "check_throughput.json")
    args = parser.parse_args(argv)

    tree = (args.tree or default_tree()).resolve()
    files = python_files(tree)
    if args.max_files is not None:
        files = files[: args.max_files]
    lines = count_lines(files)
    greenopt = tool("greenopt")
    if greenopt is None:
        raise SystemExit("greenopt is not installed in this environment")
    results: dict[str, object] = {
        "tree": str(tree),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "note": "wall-clock of fresh processes; other load on the machine adds noise",
    }
    print(f"tree: {tree} ({len(files)} files, {lines} lines)")

    workdir = Path(tempfile.mkdtemp(prefix="greenopt-bench-"))
    copied = str(copy_tree(files, tree, workdir / "tree"))
    quiet_json = ["--format", "json", "-o", os.devnull]

    secs, rc, _ = timed([greenopt, "check", *quiet_json, copied])
    results["greenopt"] = {**rate(len(files), lines, secs), "exit_code": rc}
    _report("greenopt check (all passes)", results["greenopt"])  # type: ignore[arg-type]
    secs, rc, _ = timed([greenopt, "check", "--select", "vectorize", *quiet_json, copied])
    results["greenopt_vectorize"] = {**rate(len(files), lines, secs), "exit_code": rc}
    _report("greenopt check --select vectorize", results["greenopt_vectorize"])  # type: ignore[arg-type]

    ruff = tool("ruff")
    if ruff:
        secs, rc, _ = timed(
            [ruff, "check", "--select", "PERF", "--no-cache", "--exit-zero", "--quiet", copied]
        )
        results["ruff_perf"] = {**rate(len(files), lines, secs), "exit_code": rc}
        _report("ruff check --select PERF", results["ruff_perf"])  # type: ignore[arg-type]

    capped = files[: args.fixit_max_files]
    capped_lines = count_lines(capped)
    capped_dir = str(copy_tree(capped, tree, workdir / "capped"))
    fixit = tool("fixit")
    if fixit and not args.skip_fixit:
        secs, rc, _ = timed([greenopt, "check", *quiet_json, capped_dir])
        results["greenopt_capped"] = {**rate(len(capped), capped_lines, secs), "exit_code": rc}
        _report(f"greenopt check, {len(capped)} files", results["greenopt_capped"])  # type: ignore[arg-type]
        secs, rc, _ = timed([fixit, "lint", capped_dir])
        results["fixit"] = {**rate(len(capped), capped_lines, secs), "exit_code": rc}
        _report(f"fixit lint, {len(capped)} files", results["fixit"])  # type: ignore[arg-type]

    # the pre-commit case: cold start + one file of about 1,000 lines
    one = min(files, key=lambda f: abs(f.read_bytes().count(b"\n") - 1000))
    times, cpus = [], []
    for _ in range(args.repeats):
        times.append(timed([greenopt, "check", "-o", os.devnull, str(one)])[0])
        cpus.append(LAST_CPU[0])
    results["single_file"] = {
        "path": str(one),
        "lines": one.read_bytes().count(b"\n"),
        "median_s": round(statistics.median(times), 3),
        "median_cpu_s": round(statistics.median(cpus), 3),
        "runs_s": [round(t, 3) for t in times],
        "target_s": 1.0,
    }
    print(
        f"cold start + {one.name} ({results['single_file']['lines']} lines): median "  # type: ignore[index]
        f"{statistics.median(times):.2f} s wall, {statistics.median(cpus):.2f} s CPU (target 1 s)"
    )

    def ratio(a: str, b: str) -> float:
        return round(results[a]["files_per_s"] / results[b]["files_per_s"], 2)  # type: ignore[index]

    results["ratio_vectorize_only_over_all_passes"] = ratio("greenopt_vectorize", "greenopt")
    if "ruff_perf" in results:
        results["ratio_ruff_over_greenopt"] = ratio("ruff_perf", "greenopt")
        print(f"ruff is {results['ratio_ruff_over_greenopt']}x greenopt's files/s (all passes)")
    if "fixit" in results:
        results["ratio_greenopt_over_fixit"] = ratio("greenopt_capped", "fixit")
        print(f"greenopt is {results['ratio_greenopt_over_fixit']}x fixit's files/s")
    shutil.rmtree(workdir, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
