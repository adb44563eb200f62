"""Script mode: measure ``python script.py args...`` as a workload.

The script becomes a workload whose setup defines one function that runs the file
with `runpy.run_path(..., run_name="__main__")`, `sys.argv` set to the script and its
arguments and the script's directory first on `sys.path` (as ``python script.py``
does). One "call" is one complete run of the script, repeated inside a sample like
any call; `sys.exit(0)` counts as success, any other exit status as a failure of
the workload (reported by the child as "script exited with status N").
"""

from __future__ import annotations

from pathlib import Path

from greenopt.errors import InputError
from greenopt.measure.workload import Workload

#: The call expression of a script workload (the child names failures "script ..." for it).
SCRIPT_CALL = "__greenopt_run_script__()"


def script_workload(path: str, args: tuple[str, ...] | list[str] = (), seed: int = 0) -> Workload:
    """A workload running the Python file at `path` with command-line `args`."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory, not a script")
    if not p.is_file():
        raise InputError(f"script not found: {path}")
    if not p.read_bytes().strip():
        raise InputError(f"{path}: empty script, nothing to measure")
    resolved = str(p.resolve())
    argv = [str(path), *[str(a) for a in args]]
    setup = (
        "import runpy as _greenopt_runpy, sys as _greenopt_sys\n"
        f"_greenopt_script_path = {resolved!r}\n"
        f"_greenopt_script_dir = {str(p.resolve().parent)!r}\n"
        f"_greenopt_script_argv = {argv!r}\n"
        "if _greenopt_script_dir not in _greenopt_sys.path:\n"
        "    _greenopt_sys.path.insert(0, _greenopt_script_dir)\n"
        "def __greenopt_run_script__():\n"
        "    _greenopt_sys.argv = list(_greenopt_script_argv)\n"
        "    _greenopt_runpy.run_path(_greenopt_script_path, run_name='__main__')\n"
    )
    return Workload(setup=setup, calls=(SCRIPT_CALL,), seed=seed, label=p.name)
