"""A per-file time limit that works in any thread (process-pool workers and Dask threads).

Dask runs tasks in worker threads, where `signal.alarm` cannot be used, so the
limit is enforced by a watchdog timer that raises `FileTimeout` asynchronously
in the analysing thread (`PyThreadState_SetAsyncExc`). The exception is
delivered between Python bytecodes: native code (the libcst parser) finishes its
current call first, which the per-file size limit keeps short. `FileTimeout`
derives from BaseException so that `except Exception` inside a pass cannot
swallow it.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: seconds between further raises once the limit has fired (see `time_limit`)
_REFIRE_S = 0.2


class FileTimeout(BaseException):
    """Raised in the analysing thread when a file exceeds its time limit."""


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> int:
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


@dataclass
class Deadline:
    """What `time_limit` yields: `expired` turns True once the limit has fired."""

    expired: bool = False


@contextmanager
def time_limit(seconds: float | None) -> Iterator[Deadline]:
    """Raise `FileTimeout` inside the block if it runs longer than `seconds` (None: no limit).

    The asynchronous exception can land where Python does not propagate it (a weakref
    or `__del__` callback run by the garbage collector prints and drops it) and leave
    a half-updated object that fails later with another exception: callers should
    treat a block whose `Deadline.expired` as timed out, whatever it returned or raised. Once
    fired, the exception is raised again every 0.2 s until the block ends, so a dropped
    one cannot let the block run on.
    """
    deadline = Deadline()
    if seconds is None or seconds <= 0:
        yield deadline
        return
    thread_id = threading.get_ident()
    lock = threading.Lock()
    done = threading.Event()
    timers: list[threading.Timer] = []

    def arm(delay: float) -> None:
        timer = threading.Timer(delay, fire)
        timer.daemon = True
        timers.append(timer)
        timer.start()

    def fire() -> None:
        with lock:
            if done.is_set():
                return
            deadline.expired = True
            _set_async_exc(thread_id, FileTimeout)
            # a dropped exception (raised inside a GC callback) must not let the block
            # run on unbounded: raise it again until the block ends
            arm(_REFIRE_S)

    arm(seconds)
    try:
        yield deadline
    finally:
        with lock:
            done.set()
            for timer in timers:
                timer.cancel()
            if deadline.expired:
                # the exception may still be pending: never let it escape into unrelated code
                _set_async_exc(thread_id, None)
