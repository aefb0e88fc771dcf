"""Staying inside the exchange's connection limits: reconnect backoff and the connection-attempt budget.

Binance allows 300 connection attempts per 5 minutes per IP and 5 inbound messages a second per
connection. ``Backoff`` spreads reconnects ("full jitter": a random wait up to an exponentially growing cap),
so many connections dropped at once do not come back at once; ``AttemptBudget`` refuses to start an attempt
that would exceed the window's limit and says how long to wait instead.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

__all__ = ["AttemptBudget", "Backoff"]


class Backoff:
    """Waits before reconnect attempt ``n`` (1, 2, ...): uniform in ``[0, min(cap, base * 2**(n-1))]``.

    ``random`` is injectable so tests get a fixed sequence; ``base`` 0 makes every wait zero.
    """

    def __init__(self, base_s: float, cap_s: float, *, rng: Callable[[], float] = random.random) -> None:
        if base_s < 0 or cap_s < base_s:
            msg = f"backoff needs 0 <= base <= cap, not base={base_s} cap={cap_s}"
            raise ValueError(msg)
        self._base = base_s
        self._cap = cap_s
        self._rng = rng

    def delay(self, attempt: int) -> float:
        """The wait before attempt ``attempt`` (the first reconnect is attempt 1)."""
        ceiling = min(self._cap, self._base * 2.0 ** min(max(0, attempt - 1), 30))
        return ceiling * self._rng()


class AttemptBudget:
    """At most ``limit`` connection attempts in any ``window_s`` seconds (a sliding window)."""

    def __init__(self, limit: int, window_s: float, *, monotonic: Callable[[], float]) -> None:
        if limit < 1 or window_s <= 0:
            msg = f"the attempt budget needs limit >= 1 and a positive window, not {limit}/{window_s}"
            raise ValueError(msg)
        self._limit = limit
        self._window = window_s
        self._monotonic = monotonic
        self._attempts: deque[float] = deque()

    def wait_s(self) -> float:
        """How long until one more attempt fits in the window (0: now)."""
        now = self._monotonic()
        attempts = self._attempts
        while attempts and attempts[0] <= now - self._window:
            attempts.popleft()
        if len(attempts) < self._limit:
            return 0.0
        return attempts[0] + self._window - now

    def record(self) -> None:
        """Count an attempt made now."""
        self._attempts.append(self._monotonic())

    @property
    def used(self) -> int:
        """Attempts counted in the current window."""
        self.wait_s()
        return len(self._attempts)
