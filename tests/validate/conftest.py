"""Shared settings of the validated-rewrite tests: fast, estimate meter, few samples."""

from __future__ import annotations

from typing import Any

import pytest

#: keyword arguments that make `optimize` quick on a 2-core machine (ratios, not timings)
FAST: dict[str, Any] = {
    "meter": "estimate",
    "samples": 4,
    "min_sample_s": 0.02,
    "timeout_s": 60.0,
    "memory_mb": 2048,
}

#: the same as command-line flags
FAST_FLAGS = [
    "--meter",
    "estimate",
    "--samples",
    "4",
    "--min-sample-s",
    "0.02",
    "--timeout",
    "60",
    "--no-store",
]


@pytest.fixture
def fast() -> dict[str, Any]:
    """A fresh copy of FAST for a test to extend."""
    return dict(FAST)
