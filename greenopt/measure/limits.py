"""Limits on a measurement child's settings, shared by the runner and the command line.

Kept apart from `runner` (which imports the meters and statistics) so that the option
checks of `check` and `rewrite` can use them without slowing the start-up.
"""

from __future__ import annotations

#: Longest timeout (and sample length) accepted: a week; `inf` overflows the timers.
MAX_TIMEOUT_S = 7 * 24 * 3600.0

#: Smallest child memory limit (RLIMIT_AS) in MB: Python with numpy and its BLAS thread
#: buffers needs about 200 MB of address space just to start, so a lower limit only
#: makes every child fail before it runs anything.
MIN_MEMORY_MB = 256
