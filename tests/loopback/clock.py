"""The loopback exchange's clock: a time source (real or manual) plus a skew that tests may change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TimeSource = Callable[[], float]
"""Returns the current time in epoch milliseconds (a float is fine; it is floored)."""


def real_time_ms() -> float:
    return time.time_ns() / 1_000_000


class ManualTime:
    """A time source that moves only when told to: weight windows and bans pass without sleeping."""

    def __init__(self, start_ms: int) -> None:
        self._now_ms = start_ms
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now_ms

    def advance(self, ms: int) -> int:
        with self._lock:
            self._now_ms += ms
            return self._now_ms

    def set(self, now_ms: int) -> None:
        with self._lock:
            self._now_ms = now_ms


class ServerClock:
    """Server time = time source + skew. The skew models an exchange whose clock differs from the client's."""

    def __init__(self, source: TimeSource | None = None, skew_ms: int = 0) -> None:
        self._source: TimeSource = source if source is not None else real_time_ms
        self.skew_ms = skew_ms

    def now_ms(self) -> int:
        return int(self._source()) + self.skew_ms
