"""How `greenopt check` scales with the size of one file: time per phase and peak memory.

Generates large single files (many small loop functions; corpus kernels concatenated
with renamed functions; one huge function), then for each size runs `greenopt check`
in a subprocess (wall time, peak RSS) and, with `--phases`, times the phases of one
file in-process: libcst parse, each pass's `find`, the predictions, and the fixes that
`--format json` shows (one `apply` and diff per fixable finding).

    python benchmarks/check_scaling.py                       # loops, 3k/12k/48k lines
    python benchmarks/check_scaling.py --kind mixed --kind huge --sizes 3000,12000
    python benchmarks/check_scaling.py --phases --sizes 12000 --format json

The scaling exponent is the slope of log(time) against log(lines) between sizes.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(kind: str, lines: int) -> str:
    """About `lines` lines of Python of the given kind."""
    out: list[str] = []
    if kind == "loops":
        for i in range(max(1, lines // 6)):
            out.append(
                f"def f{i}(x):\n    s = 0.0\n    for i in range(len(x)):\n"
                "        s += x[i]\n    return s\n\n"
            )
    elif kind == "mixed":
        bodies = []
        for path in sorted((ROOT / "corpus").glob("*/*.py")):
            text = path.read_text()
            bodies.append(
                "\n".join(
                    line for line in text.splitlines() if not line.startswith(("import ", "from "))
                )
            )
        out.append("import math\n\nimport numpy as np\n\n")
        count, k = 0, 0
        while count < lines:
            body = re.sub(
                r"\bdef (\w+)", lambda m, k=k: f"def {m.group(1)}_{k}", bodies[k % len(bodies)]
            )
            out.append(body + "\n\n")
            count += body.count("\n") + 2
            k += 1
    elif kind == "huge":
        out.append("def big(x, y):\n    s = 0.0\n")
        for i in range(max(1, lines // 3)):
            out.append(
                f"    for i in range(len(x)):\n        y[i] = x[i] * {i}.0 + s\n    s += y[0]\n"
            )
        out.append("    return s\n")
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    return "".join(out)


def run_cli(path: Path, fmt: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `greenopt check --format fmt path`."""
    code = (
        "import resource, sys, time\n"
        "from greenopt.cli import main\n"
        "t = time.perf_counter()\n"
        "try:\n"
        f"    main(['check', '--format', {fmt!r}, {str(path)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(f'{wall} {rss}', file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    wall, rss = done.stderr.strip().splitlines()[-1].split()
    return float(wall), float(rss)


def phases(path: Path, fmt: str) -> dict[str, float]:
    """Seconds per phase of checking `path` (in this process)."""
    from greenopt.config import Config
    from greenopt.optimizer.findings import find_opportunities, passes_for
    from greenopt.optimizer.predictions import load_chosen_model, predict_many
    from greenopt.optimizer.source import SourceModule, read_source, unified_diff
    from greenopt.passes.registry import get_pass

    times: dict[str, float] = {}
    code = read_source(path)
    t = time.perf_counter()
    module = SourceModule.parse(code, str(path))
    times["parse (libcst)"] = time.perf_counter() - t
    t = time.perf_counter()
    module.statement_positions()
    times["ast + positions"] = time.perf_counter() - t
    instances = {}
    found = []
    for name in passes_for(()):
        instances[name] = get_pass(name)
        t = time.perf_counter()
        found += find_opportunities(module, [name], Config(), instances=instances)
        times[f"find {name}"] = time.perf_counter() - t
    t = time.perf_counter()
    model = load_chosen_model(None)
    if model is not None:
        predict_many(model, code, found, module.ast_module())
    times["predict"] = time.perf_counter() - t
    if fmt != "text":
        apply_s = diff_s = 0.0
        for opp in found:
            instance = instances[opp.pass_name]
            if not opp.fixable or opp.data.get("note") or instance.needs_workload:
                continue
            t = time.perf_counter()
            new = instance.apply(module, [opp]).code
            apply_s += time.perf_counter() - t
            t = time.perf_counter()
            unified_diff(code, new, str(path))
            diff_s += time.perf_counter() - t
        times["fixes: apply"] = apply_s
        times["fixes: diff"] = diff_s
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", action="append", choices=["loops", "mixed", "huge"])
    parser.add_argument("--sizes", default="3000,12000,48000", help="line counts, comma-separated")
    parser.add_argument("--format", default="text", choices=["text", "json"])
    parser.add_argument("--phases", action="store_true", help="also time each phase in-process")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kind or ["loops"]:
            previous: tuple[int, float] | None = None
            for size in sizes:
                path = Path(tmp) / f"{kind}_{size}.py"
                path.write_text(generate(kind, size))
                lines = path.read_text().count("\n")
                wall, rss = run_cli(path, args.format)
                slope = ""
                if previous is not None:
                    slope = f"  exponent {math.log(wall / previous[1]) / math.log(lines / previous[0]):.2f}"
                print(
                    f"{kind:6} {lines:7d} lines  {wall:7.2f} s  {rss:7.0f} MB  "
                    f"{1e6 * wall / lines:6.0f} us/line{slope}",
                    flush=True,
                )
                previous = (lines, wall)
                if args.phases:
                    for phase, seconds in phases(path, args.format).items():
                        print(f"    {phase:24} {seconds:7.2f} s", flush=True)


if __name__ == "__main__":
    main()
