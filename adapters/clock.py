"""Clocks implementing ``ports.clock.Clock``: the system clock, and a fake one that moves only when told.

This module belongs to no technology subpackage, so every adapter and the composition root may import it.
"""

from __future__ import annotations

import time

from ports.clock import Clock

__all__ = ["FakeClock", "SystemClock"]


class SystemClock(Clock):
    """The host's wall clock (UTC epoch milliseconds) and its monotonic clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock(Clock):
    """A clock that stands still until ``advance`` moves it forward.

    ``monotonic`` starts at 0.0 and grows by exactly the time advanced, so durations measured with it are
    as deterministic as the wall-clock reading.
    """

    def __init__(self, now_ms: int) -> None:
        self._now_ms = now_ms
        self._elapsed_ms = 0

    def now_ms(self) -> int:
        return self._now_ms

    def monotonic(self) -> float:
        return self._elapsed_ms / 1000

    def advance(self, ms: int) -> None:
        """Move the clock ``ms`` milliseconds forward (never backward: a clock that goes back is a bug)."""
        if ms < 0:
            msg = f"a clock cannot go back ({ms} ms)"
            raise ValueError(msg)
        self._now_ms += ms
        self._elapsed_ms += ms

    def __repr__(self) -> str:
        return f"FakeClock(now_ms={self._now_ms})"
