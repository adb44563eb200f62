"""Cold start of `greenopt check` on one file of about 1,000 lines, per pass selection.

The pre-commit case (issue 3: target under 1 s): every run is a fresh process, as in a
hook, so the figures include interpreter start-up, imports and parsing. By default the
file is made from the bundled corpus (`corpus/*/*.py`, sorted, concatenated until it
exceeds `--lines` lines: numeric kernels with loops, the worst case for the passes).
The children may cache bytecode in a temporary directory (an installed greenopt has
its `.pyc` files), warmed by one untimed run; `--no-bytecode-cache` recompiles
greenopt's modules on every start instead.

For each selection (`all` passes, then each pass alone) the script runs `greenopt check
--select ... -o /dev/null FILE` `--runs` times and reports the median wall seconds and
the median CPU seconds (user + system of the child), plus the exit code. Figures are
printed and written as JSON; nothing is asserted (timings are noisy on a loaded machine,
compare CPU seconds rather than wall seconds). Usage:

    .venv/bin/python benchmarks/check_cold_start.py [--runs 5] [--file PATH] [--lines 1000]
        [--select all,loop-fusion,jit] [--json benchmarks/results/check_cold_start.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: every pass selection timed by default; `all` runs `check` without `--select`
DEFAULT_SELECTIONS = ("all", "vectorize", "loop-fusion", "dtype-reduction", "jit")


@dataclass(frozen=True)
class Timing:
    """Median figures of the fresh `greenopt check` processes of one pass selection."""

    selection: str
    runs: int
    median_wall_s: float
    median_cpu_s: float
    wall_s: list[float]
    cpu_s: list[float]
    exit_codes: list[int]


def bundled_file(directory: Path, min_lines: int) -> Path:
    """Concatenate `corpus/*/*.py` (sorted) until the text exceeds `min_lines` lines."""
    parts: list[str] = []
    lines = 0
    for source in sorted(ROOT.glob("corpus/*/*.py")):
        text = source.read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text += "\n"
        parts.append(text)
        lines += text.count("\n")
        if lines > min_lines:
            break
    if lines <= min_lines:
        raise SystemExit(f"the corpus holds only {lines} lines; pass --file")
    target = directory / "cold_start_kernels.py"
    target.write_text("".join(parts), encoding="utf-8")
    return target


def child_env(bytecode_dir: Path | None) -> dict[str, str]:
    """The children's environment: with `bytecode_dir`, Python may cache compiled modules
    there (as an installed package has its `.pyc` files), even where the calling
    environment sets PYTHONDONTWRITEBYTECODE; without it, every start recompiles."""
    env = dict(os.environ)
    if bytecode_dir is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_dir)
    return env


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit code of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):  # 0: nothing found, 1: findings; else an error
        sys.stderr.write(f"warning: {' '.join(command)} exited {proc.returncode}: "
                         f"{proc.stderr.strip()[-300:]}\n")  # fmt: skip
    return wall, cpu, proc.returncode


def time_selection(selection: str, path: Path, runs: int, env: dict[str, str]) -> Timing:
    """Run `greenopt check` on `path` `runs` times with `selection` and take medians."""
    command = [sys.executable, "-m", "greenopt.cli", "check", "-o", os.devnull, str(path)]
    if selection != "all":
        command[4:4] = ["--select", selection]
    walls: list[float] = []
    cpus: list[float] = []
    codes: list[int] = []
    for _ in range(runs):
        wall, cpu, code = run_once(command, env)
        walls.append(round(wall, 3))
        cpus.append(round(cpu, 3))
        codes.append(code)
    return Timing(
        selection,
        runs,
        round(statistics.median(walls), 3),
        round(statistics.median(cpus), 3),
        walls,
        cpus,
        codes,
    )


def main(argv: list[str] | None = None) -> int:
    """Time every selection, print a table and write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per selection")
    parser.add_argument("--file", type=Path, help="file to check (default: built from corpus/)")
    parser.add_argument("--lines", type=int, default=1000, help="size of the built file")
    parser.add_argument(
        "--select",
        default=",".join(DEFAULT_SELECTIONS),
        help="comma-separated selections to time (`all` = every pass)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=HERE / "results" / "check_cold_start.json",
        help="where to write the JSON report",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="recompile greenopt's modules on every start (as with PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    selections = [s.strip() for s in args.select.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="greenopt-cold-start-") as tmp:
        path = args.file if args.file is not None else bundled_file(Path(tmp), args.lines)
        if not path.is_file():
            parser.error(f"{path}: no such file")
        lines = path.read_bytes().count(b"\n")
        env = child_env(None if args.no_bytecode_cache else Path(tmp) / "pycache")
        # warm the OS file cache and, unless disabled, the bytecode cache
        run_once([sys.executable, "-m", "greenopt.cli", "check", "-o", os.devnull, str(path)], env)
        timings = [time_selection(s, path, args.runs, env) for s in selections]
    bytecode = "recompiled every start" if args.no_bytecode_cache else "cached, as installed"
    print(f"greenopt check, cold start + {path.name} ({lines} lines), {args.runs} runs each, "
          f"bytecode {bytecode}")  # fmt: skip
    print(f"{'selection':18s} {'median wall':>12s} {'median CPU':>12s}  exit")
    for t in timings:
        codes = ",".join(sorted({str(c) for c in t.exit_codes}))
        print(f"{t.selection:18s} {t.median_wall_s:10.2f} s {t.median_cpu_s:10.2f} s  {codes}")
    report = {
        "benchmark": "check_cold_start",
        "file": str(path) if args.file is not None else "corpus/*/*.py concatenated",
        "lines": lines,
        "target_s": 1.0,
        "bytecode": bytecode,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": list(os.getloadavg()),
        },
        "timings": [asdict(t) for t in timings],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
