"""The clock port: the application never reads the system clock itself, so tests can control time."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    """Wall-clock time in epoch milliseconds, and a monotonic reading for durations."""

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        ...
