"""Correctness of every candidate rewrite on the training corpus, against the original.

    .venv/bin/python benchmarks/corpus_correctness.py [--size small] [--jobs 2]
        [--kernels SUBSTR,...] [--json PATH]

For each corpus kernel, every candidate that `greenopt rewrite` would generate for
its entry function (`greenopt.optimizer.candidates.generate` over all passes) is run
on the kernel's workload at `--size` in a fresh process per kernel, and compared
with the original: the result and every array the setup made (so in-place writes
count), at the default tolerance (rtol 1e-9), or rtol 1e-3 / atol 1e-6 where
dtype-reduction is in the recipe (training's tolerance). Numba's `cache=True` is
turned off here: its cache is keyed by the source file's time stamp, so candidates
executed under one file name would share compiled code (`rewrite` and `train` give
each candidate its own directory). Prints a table by kind of candidate and every
candidate that is not equal, with the reason; nothing here is timed.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

DTYPE_TOLERANCE = (1e-3, 1e-6)
RESULT_MARKER = "CORPUS_CORRECTNESS "


def kind(candidate: dict[str, Any]) -> str:
    """`jit GO402` for one Numba variant, else the passes joined by `+`."""
    if candidate["passes"] == ["jit"]:
        codes = candidate["codes"]
        return f"jit {codes[0]}" if len(codes) == 1 else "jit, all variants"
    return " + ".join(candidate["passes"])


def audit_kernel(path: str, size: str) -> dict[str, Any]:
    """Run every candidate of the kernel at `path` and compare it with the original."""
    import numpy as np

    from greenopt.models.corpus import load_kernel
    from greenopt.optimizer.candidates import describe_recipe, generate
    from greenopt.optimizer.equivalence import Tolerance, _compare, _State
    from greenopt.optimizer.source import SourceModule
    from greenopt.passes.registry import PASSES, get_pass

    kernel = load_kernel(path)
    workload = next(w for w in kernel.workloads if w.size == size)
    module = SourceModule.parse(kernel.code, path=kernel.path)
    candidates = generate(module, kernel.kernel, {name: get_pass(name) for name in PASSES})

    def run(code: str) -> tuple[Any, dict[str, Any]]:
        namespace: dict[str, Any] = {"__name__": f"corpus_{kernel.stem}"}
        exec(compile(code.replace("cache=True", "cache=False"), kernel.path, "exec"), namespace)
        env: dict[str, Any] = {}
        exec(workload.setup, env)
        env[kernel.kernel] = namespace[kernel.kernel]
        result = eval(workload.call, env)
        return copy.deepcopy(result), {k: v for k, v in env.items() if isinstance(v, np.ndarray)}

    reference = run(kernel.code)
    rows = []
    for cand in candidates.candidates:
        row: dict[str, Any] = {
            "recipe": describe_recipe(cand.steps),
            "passes": list(cand.passes),
            "codes": list(cand.codes),
        }
        tol = Tolerance(*DTYPE_TOLERANCE) if "dtype-reduction" in cand.passes else Tolerance()
        try:
            result, arrays = run(cand.module.code)
            state = _State(tol)
            _compare(reference[0], result, "result", state)
            for name, value in reference[1].items():
                _compare(value, arrays.get(name), f"array {name}", state)
            row.update(equal=state.result.equal, reason=state.result.reason)
            row["max_rel_error"] = state.result.max_rel_error
        except Exception as exc:  # noqa: BLE001 - a candidate that fails is a finding
            first = str(exc).splitlines()[0] if str(exc) else ""
            row.update(equal=False, reason=f"raised {type(exc).__name__}: {first[:200]}")
        rows.append(row)
    return {"kernel": kernel.key, "candidates": rows, "notes": candidates.notes}


def _run_one(path: str, size: str, timeout_s: float) -> dict[str, Any]:
    """`audit_kernel` in a fresh interpreter (a crash or hang is reported, not fatal)."""
    cmd = [sys.executable, __file__, "--one", path, "--size", size]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"kernel": path, "error": f"timed out after {timeout_s:g} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER) :])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"kernel": path, "error": f"exit {proc.returncode}: {tail[:300]}"}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by kind of candidate, and every candidate that is not equal."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    unequal = []
    for r in results:
        for c in r.get("candidates", []):
            counts[kind(c)]["equal" if c["equal"] else "not equal"] += 1
            if not c["equal"]:
                unequal.append(
                    {"kernel": r["kernel"], "recipe": c["recipe"], "reason": c["reason"]}
                )
    return {
        "kernels": len(results),
        "errors": [r for r in results if "error" in r],
        "by_kind": {k: dict(v) for k, v in sorted(counts.items())},
        "not_equal": unequal,
    }


def main(argv: list[str] | None = None) -> int:
    """Audit the corpus (or, with --one, one kernel: the child's entry point)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=None, help="corpus directory (default: corpus/)")
    parser.add_argument("--size", default="small", help="workload size (default small)")
    parser.add_argument("--jobs", type=int, default=2, help="kernels audited at once")
    parser.add_argument("--kernels", default="", help="only kernels whose key has one of these")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per kernel")
    parser.add_argument("--json", dest="json_path", default=None, help="write results as JSON")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(RESULT_MARKER + json.dumps(audit_kernel(args.one, args.size)))
        return 0
    from greenopt.models.corpus import default_corpus_dir, load_corpus

    if args.jobs < 1:
        print("error: --jobs must be >= 1", file=sys.stderr)
        return 2
    kernels = load_corpus(args.corpus or default_corpus_dir())
    wanted = [w for w in args.kernels.split(",") if w]
    if wanted:
        kernels = [k for k in kernels if any(w in k.key for w in wanted)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda k: _run_one(k.path, args.size, args.timeout), kernels))
    summary = summarise(results)
    print(f"{summary['kernels']} kernels at size {args.size}")
    for name, c in summary["by_kind"].items():
        total = sum(c.values())
        print(f"  {name:<45} {c.get('equal', 0):4d} of {total:4d} equal")
    for item in summary["not_equal"]:
        print(f"  not equal: {item['kernel']} {item['recipe']}: {item['reason']}")
    for item in summary["errors"]:
        print(f"  error: {item['kernel']}: {item['error']}")
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps({"size": args.size, "summary": summary, "results": results}, indent=1)
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
