"""The per-file time limit works in the main thread and in worker threads, and never leaks."""

from __future__ import annotations

import threading
import time

import pytest

from greenopt.batch.time_limit import FileTimeout, time_limit


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_interrupts_a_long_block() -> None:
    with pytest.raises(FileTimeout):
        with time_limit(0.05):
            _spin(5.0)


def test_fast_block_is_untouched_and_nothing_fires_later() -> None:
    with time_limit(0.2):
        x = sum(range(100))
    _spin(0.4)
    assert x == 4950


def test_works_in_a_worker_thread() -> None:
    outcome: list[str] = []

    def work() -> None:
        try:
            with time_limit(0.05):
                _spin(5.0)
            outcome.append("finished")
        except FileTimeout:
            outcome.append("timeout")

    t = threading.Thread(target=work)
    t.start()
    t.join(10)
    assert outcome == ["timeout"]


def test_cannot_be_swallowed_by_except_exception() -> None:
    with pytest.raises(FileTimeout):
        with time_limit(0.05):
            try:
                _spin(5.0)
            except Exception:  # noqa: BLE001  (what a careless pass might do)
                pass


def test_deadline_tells_a_timeout_disguised_as_another_error() -> None:
    with pytest.raises(KeyError):
        with time_limit(0.05) as deadline:
            try:
                _spin(5.0)
            except FileTimeout:  # e.g. delivered in a GC callback, leaving a broken dict
                raise KeyError("half-updated state") from None
    assert deadline.expired


def test_deadline_of_a_fast_block_has_not_expired() -> None:
    with time_limit(1.0) as deadline:
        pass
    assert not deadline.expired


def test_analysis_failing_after_its_deadline_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import greenopt.batch.file_analysis as file_analysis

    def disguised(*args: object) -> object:
        try:
            _spin(5.0)
        except FileTimeout:
            raise KeyError("half-updated state") from None
        return None

    monkeypatch.setattr(file_analysis, "_analyze", disguised)
    options = file_analysis.AnalysisOptions(passes=(), file_timeout_s=0.05)
    result = file_analysis.analyze_source("slow.py", b"x = 1\n", options)
    assert (result.status, result.message) == ("timeout", "analysis took longer than 0.05 s")


def test_a_dropped_timeout_is_raised_again() -> None:
    """An exception lost where Python drops it (a GC callback) must not let a block run
    on: the limit fires again until the block ends."""
    caught = 0
    started = time.monotonic()
    with pytest.raises(FileTimeout):
        with time_limit(0.05):
            while time.monotonic() - started < 10:
                try:
                    while time.monotonic() - started < 10:
                        pass
                except FileTimeout:
                    caught += 1  # dropped, as a weakref callback would drop it
                    if caught == 2:
                        raise
    assert caught == 2


def test_analysis_that_swallowed_its_timeout_is_still_a_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import greenopt.batch.file_analysis as file_analysis

    def swallowing(*args: object) -> object:
        for _ in range(50):  # every raise dropped, as in GC callbacks
            try:
                _spin(0.02)
            except FileTimeout:
                pass
        return "ok", "", 1, ()

    monkeypatch.setattr(file_analysis, "_analyze", swallowing)
    options = file_analysis.AnalysisOptions(passes=(), file_timeout_s=0.05)
    result = file_analysis.analyze_source("slow.py", b"x = 1\n", options)
    assert (result.status, result.functions) == ("timeout", ())
