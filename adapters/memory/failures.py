"""Scripted failures of the fake exchange: what its next calls do instead of answering.

Before answering, every call of the fake goes through ``FailureScript.before_call``, which in this order:
raises ``IPBannedError`` while a ban lasts (nothing "is sent", so no latency), waits the configured latency,
raises the next queued error that matches the method, and raises ``ExchangeUnavailableError`` for the
scripted fraction of calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from fractions import Fraction

import attrs

from domain import ExchangeUnavailableError, GatewayError, IPBannedError
from ports.clock import Clock

__all__ = ["FailureScript", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]
_MAX_DENOMINATOR = 1_000_000


@attrs.define
class _Queued:
    error: GatewayError
    remaining: int
    method: str | None


class FailureScript:
    """Failures and delays a test scripts for the fake exchange (``fake.script``)."""

    def __init__(
        self, clock: Clock, sleep: Sleep, methods: Iterable[str], base_latency_s: float = 0.0
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._methods = frozenset(methods)
        self._base_latency_s = _non_negative(base_latency_s, "latency")
        self._latency_s = 0.0
        self._queue: list[_Queued] = []
        self._banned_until_ms: int | None = None
        self._ratio = Fraction(0)
        self._ratio_calls = 0

    def fail_next(self, error: GatewayError, times: int = 1, method: str | None = None) -> None:
        """The next ``times`` calls (of ``method`` only, when given) raise ``error`` (the same instance).

        Queued failures are used in the order they were scripted; a call takes the first that matches it.
        """
        if method is not None and method not in self._methods:
            msg = f"the fake exchange has no method {method!r}; use one of {', '.join(sorted(self._methods))}"
            raise ValueError(msg)
        if times < 1:
            msg = f"times must be at least 1, not {times}"
            raise ValueError(msg)
        self._queue.append(_Queued(error, times, method))

    def latency(self, seconds: float) -> None:
        """Every call waits ``seconds`` (the fake's sleep, ``asyncio.sleep`` by default) before answering.

        It adds to the latency given to the fake's constructor; ``latency(0)`` removes it.
        """
        self._latency_s = _non_negative(seconds, "latency")

    def ban(self, until_ms: int) -> None:
        """Every call raises ``IPBannedError`` until the fake's clock reaches ``until_ms``."""
        self._banned_until_ms = until_ms

    def fail_ratio(self, ratio: float) -> None:
        """That fraction of calls raises ``ExchangeUnavailableError``, spread evenly and deterministically.

        After ``n`` calls exactly ``floor(n * ratio)`` have failed (counting from this ``fail_ratio``).
        """
        if not 0 <= ratio <= 1:
            msg = f"ratio must be between 0 and 1, not {ratio}"
            raise ValueError(msg)
        self._ratio = Fraction(ratio).limit_denominator(_MAX_DENOMINATOR)
        self._ratio_calls = 0

    def clear(self) -> None:
        """Forget every scripted failure, the ban, the ratio and the scripted latency."""
        self._queue.clear()
        self._banned_until_ms = None
        self._latency_s = 0.0
        self._ratio = Fraction(0)
        self._ratio_calls = 0

    @property
    def pending(self) -> int:
        """How many scripted ``fail_next`` failures are still to come."""
        return sum(entry.remaining for entry in self._queue)

    async def before_call(self, method: str, endpoint: str) -> None:
        """Apply the script to one call of ``method`` (``endpoint`` names it in the errors raised)."""
        self._raise_if_banned(endpoint)
        delay = self._base_latency_s + self._latency_s
        if delay:
            await self._sleep(delay)
        for entry in self._queue:
            if entry.method in {None, method}:
                entry.remaining -= 1
                if not entry.remaining:
                    self._queue.remove(entry)
                raise entry.error
        if self._ratio:
            self._ratio_calls += 1
            calls = self._ratio_calls
            if int(calls * self._ratio) > int((calls - 1) * self._ratio):
                msg = "Service unavailable: the fake exchange is scripted to fail this call"
                raise ExchangeUnavailableError(msg, http_status=503, endpoint=endpoint)

    def _raise_if_banned(self, endpoint: str) -> None:
        until = self._banned_until_ms
        if until is None:
            return
        now = self._clock.now_ms()
        if now >= until:
            self._banned_until_ms = None
            return
        when = datetime.fromtimestamp(until / 1000, tz=UTC).isoformat(timespec="seconds")
        msg = f"Way too much request weight used; IP banned until {until} ({when})"
        raise IPBannedError(msg, banned_until_ms=until, retry_after=(until - now) / 1000, endpoint=endpoint)


def _non_negative(seconds: float, what: str) -> float:
    if seconds < 0:
        msg = f"{what} cannot be negative ({seconds} s)"
        raise ValueError(msg)
    return seconds
