"""Energy measurement: meters, the child-process runner, statistics and carbon.

* `meter`: the `Meter` interface, `MeterInfo`, `get_meter(name)` (rapl, pyrapl, perf,
  nvml, estimate, auto).
* `runner`: `measure`, `compare`, `aa_noise`, `RunOptions` (child processes, warm-up,
  calibration, interleaved samples, idle baseline, limits).
* `results`: `Measurement` and `Comparison`; `statistics`: medians and BCa CIs.
* `carbon`: grid intensity table and gCO2e; `machine`: the machine fingerprint.
* `workload`: the `Workload` a run executes (child side: `prepare`).

Nothing is imported here so that `import greenopt.measure.workload` stays light.
"""
