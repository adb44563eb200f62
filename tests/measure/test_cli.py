"""`greenopt measure` end to end: labels, JSON, exit codes, script mode, a fake RAPL at known power."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenopt.cli import main
from greenopt.store import Store

from .powercap_fake import FakePowercap, PowerWriter

QUICK = ["--samples", "3", "--min-sample-s", "0.03"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `greenopt measure ARGS` in-process; return (exit code, stdout, stderr)."""
    rc = main(["measure", *args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(autouse=True)
def _no_hardware(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `auto` deterministic: no RAPL, no perf (this machine has neither anyway)."""
    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(tmp_path / "no-powercap"))
    monkeypatch.setenv("GREENOPT_PERF", str(tmp_path / "no-perf"))
    monkeypatch.chdir(tmp_path)


def test_estimate_is_labelled_and_json_has_the_contract_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json = tmp_path / "m.json"
    store = tmp_path / "s.sqlite"
    rc, out, err = run(
        [
            *QUICK,
            "--store",
            str(store),
            "--json",
            str(out_json),
            "--region",
            "FRA",
            "--setup",
            "import numpy as np; a = np.random.rand(1000)",
            "--call",
            "a.sum()",
        ],
        capsys,
    )
    assert rc == 0, err
    assert "estimated" in out and "estimate" in out
    assert "using meter estimate" in err
    data = json.loads(out_json.read_text())
    assert data["meter"] == {"name": "estimate", "measured": False, "domains": ["cpu"]}
    for key in ("energy_j", "energy_net_j", "time_s", "co2e_g", "carbon_intensity_g_per_kwh"):
        assert isinstance(data[key], float) and data[key] >= 0, key
    assert data["samples"] == 3 and data["region"] == "FRA"
    assert "W" in data["power_model"]  # the estimate's constants are stated
    lo, hi = data["ci95"]
    assert lo <= data["energy_j"] <= hi
    assert data["co2e_g"] == pytest.approx(
        data["energy_j"] / 3.6e6 * data["carbon_intensity_g_per_kwh"]
    )
    with Store(store) as s:
        rows = s.measurements()
    assert len(rows) == 1 and rows[0]["id"] == data["store_id"] and rows[0]["meter"] == "estimate"


def test_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(
        [*QUICK, "--no-store", "-q", "--json", "-", "--carbon-intensity", "100", "--call", "1+1"],
        capsys,
    )
    assert rc == 0
    data = json.loads(out)
    assert data["carbon_intensity_g_per_kwh"] == 100.0 and data["region"] == "custom"
    if Path("/proc/stat").exists():  # other processes' load while measuring
        assert isinstance(data["other_cpus"], float) and data["other_cpus"] >= 0


def test_busy_machine_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from greenopt.measure.contention import Contention, ContentionProbe

    monkeypatch.setattr(
        ContentionProbe,
        "stop",
        lambda self: Contention(wall_s=1.0, foreign_cpus=1.3, steal_cpus=0.1),
    )
    rc, out, err = run([*QUICK, "--no-store", "-q", "--json", "-", "--call", "1+1"], capsys)
    assert rc == 0
    assert json.loads(out)["other_cpus"] == pytest.approx(1.4)
    assert "other processes kept 1.40 CPUs busy" in err


def test_module_option_imports_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = tmp_path / "kern.py"
    mod.write_text("def twice(x):\n    return 2 * x\n")
    rc, _, err = run(
        [
            *QUICK,
            "--no-store",
            "--module",
            str(mod),
            "--call",
            "twice(21)",
            "--call",
            "kern.twice(1)",
        ],
        capsys,
    )
    assert rc == 0, err


def test_script_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "job.py"
    script.write_text("import sys\nassert sys.argv[1:] == ['a', '--flag'], sys.argv\n")
    rc, out, err = run([*QUICK, "--no-store", str(script), "a", "--flag"], capsys)
    assert rc == 0, err
    assert "job.py" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--meter", "joulemeter", "--call", "1"], "unknown meter"),
        (
            ["--setup", "raise ValueError('bad setup')", "--call", "1"],
            "setup raised ValueError: bad setup",
        ),
        (["--call", "undefined_name"], "NameError"),
        ([], "nothing to measure"),
        (["--region", "XYZ", "--call", "1"], "unknown carbon region"),
        (["--module", "missing.py", "--call", "1"], "module file not found"),
        (["--samples", "0", "--call", "1"], "samples"),
        (["--json", "/nonexistent-dir/x.json", "--call", "1"], "directory does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run([*QUICK, "--no-store", "-q", *args], capsys)
    assert rc == 2
    assert needle in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("greenopt: error:")
    assert "Traceback" not in err and out == ""


def test_script_exit_status_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "bad.py"
    script.write_text("raise SystemExit(4)\n")
    rc, _, err = run([*QUICK, "--no-store", "-q", str(script)], capsys)
    assert rc == 2 and "bad.py: script exited with status 4" in err


def test_explicit_rapl_without_counters_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run([*QUICK, "--no-store", "--meter", "rapl", "--call", "1"], capsys)
    assert rc == 3 and "rapl" in err and "Traceback" not in err
    assert "estimate" not in err  # never a silent (or any) fallback


def test_unreadable_store_path_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, _, err = run([*QUICK, "--store", str(blocker / "s.sqlite"), "--call", "1"], capsys)
    assert rc == 2 and "measurement store" in err


def test_fake_rapl_tree_at_known_power_is_reported_within_ten_percent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePowercap(tmp_path / "powercap")
    fake.zone("intel-rapl:0", "package-0")
    fake.zone("intel-rapl:0:0", "core")
    fake.zone("intel-rapl:0:2", "dram")
    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(fake.root))  # inherited by the child
    out_json = tmp_path / "rapl.json"
    with PowerWriter(fake, {"intel-rapl:0": 12.0, "intel-rapl:0:0": 9.0, "intel-rapl:0:2": 3.0}):
        rc, out, err = run(
            [
                "--samples",
                "5",
                "--min-sample-s",
                "0.25",
                "--no-store",
                "--meter",
                "rapl",
                "--json",
                str(out_json),
                "--call",
                "sum(range(1000))",
            ],
            capsys,
        )
    assert rc == 0, err
    data = json.loads(out_json.read_text())
    assert data["meter"] == {"name": "rapl", "measured": True, "domains": ["package-0", "dram-0"]}
    assert data["power_w"] == pytest.approx(
        15.0, rel=0.1
    )  # package 12 W + dram 3 W, core not added
    assert data["energy_j"] / data["time_s"] == pytest.approx(15.0, rel=0.1)
    assert data["idle_power_w"] == pytest.approx(15.0, rel=0.1)
    assert "measured" in out


def test_failed_run_creates_no_store_and_no_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.sqlite"  # a new file (its directory must exist: --store checks)
    out_json = tmp_path / "r.json"
    rc, _, err = run(
        [*QUICK, "-q", "--store", str(store), "--json", str(out_json), "--call", "1/0"], capsys
    )
    assert rc == 2 and "ZeroDivisionError" in err
    assert not store.exists() and not out_json.exists()


def test_timeout_is_exit_2_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(
        [
            *QUICK,
            "-q",
            "--no-store",
            "--timeout",
            "1",
            "--setup",
            "import time",
            "--call",
            "time.sleep(20)",
        ],
        capsys,
    )
    assert rc == 2 and "timed out after 1 s" in err


def test_config_supplies_meter_region_and_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.greenopt]\nmeter = "estimate"\nregion = "SWE"\nsamples = 2\n'
    )
    rc, out, err = run(
        ["--min-sample-s", "0.02", "--no-store", "--json", "-", "--call", "1+1"], capsys
    )
    assert rc == 0, err
    data = json.loads(out)
    assert data["region"] == "SWE" and data["samples"] == 2 and data["meter"]["name"] == "estimate"
    assert "using meter" not in err  # estimate was asked for: nothing to announce


def test_rapl_counters_that_never_move_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePowercap(tmp_path / "frozen")
    fake.zone("intel-rapl:0", "package-0", energy_uj=123)
    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(fake.root))
    rc, _, err = run([*QUICK, "-q", "--no-store", "--meter", "rapl", "--call", "1+1"], capsys)
    assert rc == 3 and "did not advance" in err


def test_auto_with_unreadable_rapl_announces_the_fix_even_when_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePowercap(tmp_path / "locked")
    fake.zone("intel-rapl:0", "package-0")
    real_read_text = Path.read_text

    def deny(self: Path, *args: object, **kwargs: object) -> str:
        """Path.read_text that refuses energy_uj files like a non-root user."""
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setenv("GREENOPT_POWERCAP_ROOT", str(fake.root))
    monkeypatch.setattr(
        Path, "read_text", deny
    )  # the parent resolves the meter; the child gets "estimate"
    rc, out, err = run([*QUICK, "-q", "--no-store", "--json", "-", "--call", "1+1"], capsys)
    assert rc == 0
    assert "permission denied" in err and "chmod a+r" in err
    assert json.loads(out)["meter"]["name"] == "estimate"
    rc, _, err = run([*QUICK, "-q", "--no-store", "--meter", "rapl", "--call", "1+1"], capsys)
    assert rc == 3 and "permission denied" in err and "udev" in err


def test_module_without_call_uses_the_configured_workloads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kern.py").write_text("def twice(x):\n    return 2 * x\n")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.greenopt.workloads]\n"
        '"kern.py" = [{setup = "v = 3", call = "twice(v)"}, {call = ["twice(1)", "twice(2)"]}]\n'
    )
    rc, out, err = run(
        [*QUICK, "--no-store", "--json", "-", "--module", "kern.py", "--config-workload", "2"],
        capsys,
    )
    assert rc == 0, err
    assert json.loads(out)["workload"]["calls"] == ["twice(1)", "twice(2)"]
    assert "workload 2 of 2" in err
    rc, _, err = run(
        [*QUICK, "-q", "--no-store", "--module", "kern.py", "--config-workload", "3"], capsys
    )
    assert rc == 2 and "has 2 configured workload(s)" in err
    (tmp_path / "other.py").write_text("x = 1\n")
    rc, _, err = run([*QUICK, "-q", "--no-store", "--module", "other.py"], capsys)
    assert rc == 2 and "[tool.greenopt.workloads]" in err


def test_json_is_strict_without_nan() -> None:
    from greenopt.commands.measure import json_safe

    assert json_safe({"a": float("nan"), "b": [1.0, float("inf")], "c": "x"}) == {
        "a": None,
        "b": [1.0, None],
        "c": "x",
    }
