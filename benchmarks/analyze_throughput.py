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
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
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
    paths: list[Path], jobs: int, screening: bool, label: str, n: int, passes: str | None = None
) -> Timing:
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
        return _timed(label, cmd, n)


def breakdown(files: list[Path], passes: list[str]) -> dict[str, float]:
    """In-process seconds per phase (read+ast+screen, libcst parse, each pass) over `files`."""
    import ast

    from greenopt.batch.pruning import prune_to_candidates
    from greenopt.batch.screening import screen
    from greenopt.optimizer.findings import find_opportunities
    from greenopt.optimizer.source import SourceModule

    phases: dict[str, float] = {"screening": 0.0, "libcst parse": 0.0}
    for path in files:
        t0 = time.perf_counter()
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        sketch = screen(tree)
        phases["screening"] += time.perf_counter() - t0
        for name in passes:
            pruned = prune_to_candidates(text, tree, sketch.candidates_for(name))
            if pruned is None:
                continue
            t1 = time.perf_counter()
            module = SourceModule.parse(pruned, str(path))
            t2 = time.perf_counter()
            find_opportunities(module, [name])
            phases["libcst parse"] += t2 - t1
            phases[f"pass {name}"] = phases.get(f"pass {name}", 0.0) + time.perf_counter() - t2
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
    args = ap.parse_args()

    tree = args.tree or default_tree()
    files = python_files(tree)
    if args.max_files:
        files = files[: args.max_files]
    whole_tree = not args.max_files
    targets = [tree] if whole_tree else files
    timings: list[Timing] = [
        run_greenopt(targets, args.jobs, True, f"greenopt analyze --jobs {args.jobs}", len(files))
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
        subset = files[: args.fixit_files]
        timings.append(
            _timed(
                "fixit lint",
                [fixit, "lint", *map(str, subset)],
                len(subset),
                note=f"first {len(subset)} files",
            )
        )

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
    if args.json:
        record = {
            "breakdown_s": phases,
            "tree": str(tree),
            "files": len(files),
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "python": platform.python_version(),
            "timings": [{**asdict(t), "files_per_s": t.files_per_s} for t in timings],
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
