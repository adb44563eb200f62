"""Running `greenopt` as a user does, for the command-line contract tests.

`run` starts ``sys.executable -m greenopt.cli`` in a directory of the test's own (a
private TMPDIR too) and kills the whole process group on a timeout, measurement
children included; `assert_input_error` checks the bad-input contract: exit 2, a
`greenopt: error:` line, no traceback and no internal error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def run(
    args: list[str], cwd: Path, prefix: list[str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `greenopt ARGS` in `cwd` (private TMPDIR), killing its process group on timeout."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(cwd))
    env.pop("GREENOPT_DEBUG", None)
    cmd = [*(prefix or []), sys.executable, "-m", "greenopt.cli", *args]
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its measurement children
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def assert_input_error(proc: subprocess.CompletedProcess[str]) -> None:
    """Exit 2 with a clear error line and no traceback / internal error."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    assert "greenopt: error:" in proc.stderr
