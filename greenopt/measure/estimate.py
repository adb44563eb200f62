"""The ``estimate`` meter: joules from CPU time and wall time with a documented power model.

Used where no hardware counter is readable (VMs, CI, macOS). Its figures are always
labelled ``measured: false``. The model is deliberately simple and stated in full::

    E = P_active_per_cpu_s * cpu_s  +  P_static * wall_s

* ``cpu_s``: user + system CPU time of the measuring process (all its threads, plus
  children it has waited for) over exactly the timed region, from the OS
  (`time.process_time`, i.e. CLOCK_PROCESS_CPUTIME_ID, and
  `resource.getrusage(RUSAGE_CHILDREN)`).
* CPU found in the shipped TDP table (`data/cpu_tdp.csv`, Intel ARK / AMD
  specifications), matched as whole words against `/proc/cpuinfo`'s model name:
  the package draws its TDP at full load and `IDLE_FRACTION` of it at idle, so
  ``P_static = IDLE_FRACTION * TDP * sockets * share`` and each busy core adds
  ``P_active = (1 - IDLE_FRACTION) * TDP / cores_per_package``, where ``share`` =
  min(1, cores per socket the OS shows / the model's cores): a VM given 2 vCPUs of a
  40-core package is charged 2/40 of the package's idle power, bare metal all of it. A CPU-second is
  charged one core's active power (one busy thread per core, the case of
  single-threaded Python; SMT siblings sharing a core are over-counted).
* CPU not in the table: the per-thread coefficients of the Cloud Carbon Footprint
  methodology (https://www.cloudcarbonfootprint.org/docs/methodology/, average
  of AWS instances from SPECpower_ssj2008 results): `DEFAULT_MIN_W_PER_THREAD`
  = 0.74 W idle and `DEFAULT_MAX_W_PER_THREAD` = 3.5 W fully busy per logical CPU,
  so ``P_static = 0.74 W * logical_cpus`` and ``P_active = 3.5 - 0.74 = 2.76 W``.
* `IDLE_FRACTION` = 0.74 / 3.5 ≈ 0.21: the same CCF min/max ratio, applied to TDP.

Net energy (gross minus an idle baseline of the same duration) therefore removes
exactly the static term and leaves the CPU-time term.
"""

from __future__ import annotations

import csv
import re
import resource
import time
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path

from greenopt.measure.machine import CpuInfo, read_cpuinfo
from greenopt.measure.meter import Meter, MeterInfo, Reading

#: Cloud Carbon Footprint: average minimum watts per vCPU (AWS, SPECpower-derived).
DEFAULT_MIN_W_PER_THREAD = 0.74
#: Cloud Carbon Footprint: average maximum watts per vCPU (AWS, SPECpower-derived).
DEFAULT_MAX_W_PER_THREAD = 3.5
#: Share of TDP drawn at idle, from the same CCF min/max ratio (0.74 / 3.5).
IDLE_FRACTION = DEFAULT_MIN_W_PER_THREAD / DEFAULT_MAX_W_PER_THREAD

_NOISE_WORDS = {"cpu", "processor", "(r)", "(tm)", "with", "radeon", "graphics"}


@dataclass(frozen=True)
class CpuSpec:
    """One row of the TDP table."""

    model: str
    tdp_w: float
    cores: int


@dataclass(frozen=True)
class PowerModel:
    """``E = active_w_per_cpu_s * cpu_s + static_w * wall_s`` and where its constants came from."""

    active_w_per_cpu_s: float
    static_w: float
    source: str

    def energy_j(self, cpu_s: float, wall_s: float) -> float:
        """Estimated joules for `cpu_s` CPU-seconds over `wall_s` seconds of wall time."""
        return self.active_w_per_cpu_s * max(cpu_s, 0.0) + self.static_w * max(wall_s, 0.0)


def _tokens(name: str) -> list[str]:
    """Lower-case words of a CPU name without vendor marks, clock speed or core-count words."""
    name = name.lower().replace("(r)", " ").replace("(tm)", " ")
    name = re.sub(r"@\s*[\d.]+\s*[gm]hz", " ", name)
    words = [w for w in re.split(r"[\s,]+", name) if w]
    return [w for w in words if w not in _NOISE_WORDS and not re.fullmatch(r"\d+-core", w)]


def load_tdp_table(path: str | Path | None = None) -> list[CpuSpec]:
    """Read the shipped TDP table (or the CSV at `path`); comment lines start with '#'."""
    if path is None:
        text = (
            importlib_resources.files("greenopt.measure")
            .joinpath("data/cpu_tdp.csv")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(path).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [
        CpuSpec(model=r["model"], tdp_w=float(r["tdp_w"]), cores=int(r["cores"]))
        for r in csv.DictReader(rows)
    ]


def match_cpu(model_name: str, table: list[CpuSpec]) -> CpuSpec | None:
    """The table row whose words appear consecutively in `model_name` (longest match wins)."""
    words = _tokens(model_name)
    best: CpuSpec | None = None
    best_len = 0
    for spec in table:
        t = _tokens(spec.model)
        n = len(t)
        if n == 0 or n <= best_len:
            continue
        if any(words[i : i + n] == t for i in range(len(words) - n + 1)):
            best, best_len = spec, n
    return best


def power_model_for(cpu: CpuInfo, table: list[CpuSpec] | None = None) -> PowerModel:
    """The power model for this CPU: from its TDP if it is in the table, else the per-thread default."""
    spec = match_cpu(cpu.model, load_tdp_table() if table is None else table)
    if spec is not None:
        cores = max(1, spec.cores)
        sockets = max(1, cpu.sockets)
        share = min(1.0, cpu.cores_per_socket / cores)  # a VM sees part of the package
        return PowerModel(
            active_w_per_cpu_s=(1.0 - IDLE_FRACTION) * spec.tdp_w / cores,
            static_w=IDLE_FRACTION * spec.tdp_w * sockets * share,
            source=(
                f"TDP table: {spec.model}, {spec.tdp_w:g} W / {cores} cores x {sockets} socket(s)"
                + (f", {cpu.cores_per_socket}/{cores} cores visible" if share < 1 else "")
            ),
        )
    return PowerModel(
        active_w_per_cpu_s=DEFAULT_MAX_W_PER_THREAD - DEFAULT_MIN_W_PER_THREAD,
        static_w=DEFAULT_MIN_W_PER_THREAD * max(1, cpu.logical_cpus),
        source=(
            f"default per-thread model (CPU {cpu.model!r} not in TDP table): "
            f"{DEFAULT_MIN_W_PER_THREAD} W idle, {DEFAULT_MAX_W_PER_THREAD} W busy per logical CPU "
            f"x {cpu.logical_cpus}"
        ),
    )


def process_cpu_seconds() -> float:
    """User + system CPU time of this process (all threads) and of its waited-for children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass
class EstimateMeter(Meter):
    """Estimated joules of the current process between `start()` and `stop()`.

    Must run inside the process whose work is measured (the runner's child), since
    it reads that process's own CPU time.
    """

    model: PowerModel | None = None
    info: MeterInfo = field(init=False)
    _t0: float = field(default=0.0, init=False, repr=False)
    _cpu0: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        """Use this machine's power model unless one was given."""
        if self.model is None:
            self.model = power_model_for(read_cpuinfo())
        self.info = MeterInfo(name="estimate", measured=False, domains=("cpu",))

    def start(self) -> None:
        """Record CPU time and wall time."""
        self._cpu0 = process_cpu_seconds()
        self._t0 = time.perf_counter()

    def stop(self) -> Reading:
        """Apply the power model to the CPU and wall time spent since `start()`."""
        wall = time.perf_counter() - self._t0
        cpu = process_cpu_seconds() - self._cpu0
        assert self.model is not None
        return Reading(joules={"cpu": self.model.energy_j(cpu, wall)}, wall_s=wall, cpu_s=cpu)
