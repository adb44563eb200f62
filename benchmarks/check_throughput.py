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
import shutil
import statistics
import subprocess
import sys
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


def timed(cmd: list[str], cwd: Path | None = None, timeout: float = 3600) -> tuple[float, int, str]:
    """Wall seconds, exit code and stderr tail of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return time.perf_counter() - start, proc.returncode, proc.stderr[-400:]


def tool(name: str) -> str | None:
    """Path of a console script next to this interpreter, else on PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


def rate(files: int, lines: int, seconds: float) -> dict[str, float]:
    return {
        "seconds": round(seconds, 3),
        "files": files,
        "lines": lines,
        "files_per_s": round(files / seconds, 1) if seconds > 0 else float("inf"),
        "lines_per_s": round(lines / seconds, 1) if seconds > 0 else float("inf"),
    }


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

    targets = [str(tree)] if args.max_files is None else [str(f) for f in files]
    secs, rc, err = timed([greenopt, "check", "--format", "json", "-o", os.devnull, *targets])
    results["greenopt"] = {**rate(len(files), lines, secs), "exit_code": rc}
    print(f"greenopt check (all passes): {secs:8.2f} s  {len(files) / secs:8.1f} files/s")
    secs, rc, err = timed(
        [greenopt, "check", "--select", "vectorize", "--format", "json", "-o", os.devnull, *targets]
    )
    results["greenopt_vectorize"] = {**rate(len(files), lines, secs), "exit_code": rc}
    print(f"greenopt check --select vectorize: {secs:8.2f} s  {len(files) / secs:8.1f} files/s")

    ruff = tool("ruff")
    if ruff:
        secs, rc, _ = timed(
            [ruff, "check", "--select", "PERF", "--no-cache", "--exit-zero", "--quiet", *targets]
        )
        results["ruff_perf"] = {**rate(len(files), lines, secs), "exit_code": rc}
        print(f"ruff --select PERF: {secs:8.2f} s  {len(files) / secs:8.1f} files/s")

    capped = files[: args.fixit_max_files]
    capped_lines = count_lines(capped)
    secs, rc, _ = timed(
        [greenopt, "check", "--format", "json", "-o", os.devnull, *map(str, capped)]
    )
    results["greenopt_capped"] = {**rate(len(capped), capped_lines, secs), "exit_code": rc}
    fixit = tool("fixit")
    if fixit and not args.skip_fixit:
        secs_f, rc, err = timed([fixit, "lint", *map(str, capped)])
        results["fixit"] = {**rate(len(capped), capped_lines, secs_f), "exit_code": rc}
        print(
            f"on {len(capped)} files: greenopt {secs:.2f} s, fixit lint {secs_f:.2f} s "
            f"(fixit/greenopt time ratio {secs_f / secs:.1f}x)"
        )

    # the pre-commit case: cold start + one file of about 1,000 lines
    sized = sorted(files, key=lambda f: abs(f.read_bytes().count(b"\n") - 1000))
    one = sized[0]
    times = [timed([greenopt, "check", "-o", os.devnull, str(one)])[0] for _ in range(args.repeats)]
    results["single_file"] = {
        "path": str(one),
        "lines": one.read_bytes().count(b"\n"),
        "median_s": round(statistics.median(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "target_s": 1.0,
    }
    print(
        f"cold start + {one.name} ({results['single_file']['lines']} lines): median {statistics.median(times):.2f} s"
    )

    g = results["greenopt"]
    results["ratio_vectorize_only_over_all_passes_files_per_s"] = round(
        results["greenopt_vectorize"]["files_per_s"] / g["files_per_s"],
        2,  # type: ignore[index]
    )
    if "ruff_perf" in results:
        r = results["ruff_perf"]
        results["ratio_ruff_over_greenopt_files_per_s"] = round(
            r["files_per_s"] / g["files_per_s"],
            2,  # type: ignore[index]
        )
        print(f"ruff is {results['ratio_ruff_over_greenopt_files_per_s']}x greenopt's files/s")
    if "fixit" in results:
        f = results["fixit"]
        gc = results["greenopt_capped"]
        results["ratio_greenopt_over_fixit_files_per_s"] = round(
            gc["files_per_s"] / f["files_per_s"],
            2,  # type: ignore[index]
        )
        print(f"greenopt is {results['ratio_greenopt_over_fixit_files_per_s']}x fixit's files/s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
