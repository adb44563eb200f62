"""What machine a measurement was taken on: CPU model, cores, sockets, governor.

Read from `/proc/cpuinfo` and `/sys/devices/system/cpu` on Linux (the file paths
are parameters so that tests can use fake ones); elsewhere from `platform` and
`os.cpu_count()`. The fingerprint is stored with every measurement so that the
cost model never mixes numbers from different machines, and `machine_id` is a
short hash of the fields that matter for energy (no host name is stored).
"""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuInfo:
    """CPU topology as far as the OS tells it."""

    model: str
    logical_cpus: int
    sockets: int
    cores_per_socket: int

    @property
    def physical_cores(self) -> int:
        """Physical cores over all sockets."""
        return self.sockets * self.cores_per_socket


def read_cpuinfo(path: str | Path = "/proc/cpuinfo") -> CpuInfo:
    """Parse `/proc/cpuinfo` (model name, physical ids, cpu cores); fall back to `platform`."""
    logical = os.cpu_count() or 1
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    model = ""
    physical_ids: set[str] = set()
    cores_per_socket = 0
    processors = 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            processors += 1
        elif key in ("model name", "Model Name", "cpu model") and not model:
            model = value
        elif key == "physical id":
            physical_ids.add(value)
        elif key == "cpu cores" and value.isdigit():
            cores_per_socket = max(cores_per_socket, int(value))
    if not model:
        model = platform.processor() or platform.machine() or "unknown"
    if processors:
        logical = processors
    sockets = max(1, len(physical_ids))
    if cores_per_socket <= 0:
        cores_per_socket = max(1, logical // sockets)
    return CpuInfo(
        model=" ".join(model.split()),
        logical_cpus=logical,
        sockets=sockets,
        cores_per_socket=cores_per_socket,
    )


def read_governor(root: str | Path = "/sys/devices/system/cpu") -> str | None:
    """The cpufreq scaling governor of cpu0, or None when not readable."""
    try:
        return (Path(root) / "cpu0" / "cpufreq" / "scaling_governor").read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class MachineFingerprint:
    """The machine facts stored with every measurement."""

    cpu_model: str
    logical_cpus: int
    physical_cores: int
    sockets: int
    governor: str | None
    system: str
    arch: str
    python: str

    @property
    def machine_id(self) -> str:
        """Short stable hash of the energy-relevant fields (not the Python version)."""
        h = hashlib.sha256()
        for part in (
            self.cpu_model,
            self.logical_cpus,
            self.physical_cores,
            self.sockets,
            self.system,
            self.arch,
        ):
            h.update(str(part).encode())
            h.update(b"\0")
        return h.hexdigest()[:16]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form including `machine_id`."""
        d: dict[str, object] = asdict(self)
        d["machine_id"] = self.machine_id
        return d


def machine_fingerprint(cpuinfo_path: str | Path = "/proc/cpuinfo") -> MachineFingerprint:
    """Fingerprint of this machine."""
    cpu = read_cpuinfo(cpuinfo_path)
    return MachineFingerprint(
        cpu_model=cpu.model,
        logical_cpus=cpu.logical_cpus,
        physical_cores=cpu.physical_cores,
        sockets=cpu.sockets,
        governor=read_governor(),
        system=platform.system(),
        arch=platform.machine(),
        python=platform.python_version(),
    )
