"""Fixtures for the fake exchange's own tests: a fake clock at a fixed instant and a fake exchange on it."""

from __future__ import annotations

import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange

NOW_MS = 1_768_480_496_789  # 2026-01-15 12:34:56.789 UTC


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW_MS)


@pytest.fixture
def fake(clock: FakeClock) -> FakeExchange:
    return FakeExchange(clock=clock, seed=7)
