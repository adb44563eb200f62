"""Per-call overhead of the runner's timed loop: fused expressions vs one callable per call.

    .venv/bin/python benchmarks/measure_loop_overhead.py [--json PATH] [--calls N]

Everything the loop costs per call is inside the measured region, so it should be
small next to the calls. This times, in this process, `n` rounds of a trivial call
(``None``) through `greenopt.measure.rounds.make_rounds` — the fused loop used when
every call is an expression, and the general loop used for statements (``x = None``)
— and prints CPU nanoseconds per call and their ratio. Figures vary with the CPU,
the Python version and the load; the ratio is the claim.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from greenopt.measure.rounds import make_rounds
from greenopt.measure.workload import Workload, prepare


def ns_per_call(call: str, rounds: int, repeats: int = 5) -> float:
    """Best-of-`repeats` CPU ns per call of `rounds` rounds of `call`."""
    wl = Workload(calls=(call,))
    prepared = prepare(wl)
    run = make_rounds(wl.calls, prepared.calls, prepared.namespace)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        run(rounds)
        best = min(best, (time.process_time() - t0) / rounds * 1e9)
    return best


def main(argv: list[str] | None = None) -> int:
    """Time both loops and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=300_000, help="rounds per timing (default 300000)"
    )
    parser.add_argument(
        "--json", dest="json_path", default=None, help="write the figures as JSON here"
    )
    args = parser.parse_args(argv)
    fused = ns_per_call("None", args.calls)
    general = ns_per_call("x = None", args.calls)
    result = {
        "python": sys.version.split()[0],
        "fused_ns_per_call": fused,
        "general_ns_per_call": general,
        "general_over_fused": general / fused,
    }
    print(f"fused loop (expression calls): {fused:8.1f} ns/call")
    print(f"general loop (statement calls): {general:8.1f} ns/call")
    print(f"ratio general / fused:          {general / fused:8.1f}x")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
