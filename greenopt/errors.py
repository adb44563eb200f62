"""Error types that the CLI turns into one clear line on stderr and an exit code.

Exit codes (documented in the README): 0 success / nothing found, 1 findings
(check) or changes refused (rewrite), 2 usage, input or workload error, 3 meter
unavailable or unreadable (e.g. RAPL permission denied).
"""

from __future__ import annotations


class GreenoptError(Exception):
    """Base class: an expected failure with a user-facing one-line message."""

    exit_code: int = 2


class InputError(GreenoptError):
    """Bad input: missing file, syntax error, non-UTF-8, bad flag or config value."""

    exit_code = 2


class WorkloadError(GreenoptError):
    """The user's workload failed: setup or call raised, script exited non-zero, timeout."""

    exit_code = 2


class MeterError(GreenoptError):
    """An energy meter is unavailable or unreadable (permission, missing counters)."""

    exit_code = 3
