#!/usr/bin/env bash
# Check greenopt's meters on a machine with real energy counters (RAPL, perf, NVML).
#
#   bash benchmarks/hardware_check.sh OUTDIR
#
# Writes to OUTDIR: machine.txt (CPU, powercap tree, perf, nvidia-smi, library
# versions), meters.txt (what each --meter name gives here, or why not),
# nvml_validation.{txt,json} (the NVML counter against the driver's power readings),
# meter_overhead.{txt,json} (read overhead and A/A noise with the best CPU meter;
# meter_overhead_nvml.* the same A/A with --meter nvml where a GPU is readable) and
# measure.json (one `greenopt measure` with --meter auto). Each step runs even when
# an earlier one failed; nothing here asserts a speed. PYTHON picks the interpreter.
set -u
out=${1:?usage: bash benchmarks/hardware_check.sh OUTDIR}
py=${PYTHON:-python3}
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 2
cd "$(dirname "$0")/.." || exit 2

{
  echo "## uname / cpus"; uname -a; nproc
  echo "## python and libraries"
  "$py" -c 'import sys, numpy, numba, llvmlite, libcst, sklearn, scipy
print(sys.version.split()[0], "numpy", numpy.__version__, "numba", numba.__version__,
      "llvmlite", llvmlite.__version__, "scikit-learn", sklearn.__version__, "scipy", scipy.__version__)'
  echo "## /sys/class/powercap"
  ls /sys/class/powercap 2>&1
  for z in /sys/class/powercap/*/; do
    [ -e "$z/energy_uj" ] && echo "$z $(cat "$z/name" 2>&1) energy_uj=$(cat "$z/energy_uj" 2>&1)"
  done
  echo "## perf"; command -v perf || echo "perf: not installed"
  ls /sys/bus/event_source/devices/power/events 2>&1 | head
  echo "## nvidia-smi"
  nvidia-smi --query-gpu=name,driver_version,power.draw,power.limit --format=csv 2>&1
} >"$out/machine.txt" 2>&1

"$py" - >"$out/meters.txt" 2>&1 <<'EOF'
from greenopt.errors import GreenoptError
from greenopt.measure.meter import get_meter

for name in ("auto", "rapl", "pyrapl", "perf", "nvml", "estimate"):
    notes = []
    try:
        meter = get_meter(name, announce=notes.append)
    except GreenoptError as exc:
        print(f"{name:<9} unavailable: {exc}")
        continue
    print(f"{name:<9} -> {meter.info.label()} domains={list(meter.info.domains)}")
    for note in notes:
        print(f"{'':<12}{note}")
    meter.close()
EOF

"$py" benchmarks/nvml_validation.py --json "$out/nvml_validation.json" >"$out/nvml_validation.txt" 2>&1
"$py" benchmarks/meter_overhead.py --json "$out/meter_overhead.json" >"$out/meter_overhead.txt" 2>&1
if grep -q '^nvml .*->' "$out/meters.txt"; then
  "$py" benchmarks/meter_overhead.py --meter nvml --json "$out/meter_overhead_nvml.json" \
    >"$out/meter_overhead_nvml.txt" 2>&1
fi
"$py" -m greenopt measure --setup "xs = list(range(200_000))" --call "sum(x * x for x in xs)" \
  --samples 5 --no-store --json "$out/measure.json" >"$out/measure.txt" 2>&1
echo "hardware check written to $out"
