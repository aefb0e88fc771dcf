"""The retry policy: one tenacity configuration, built from the settings, for idempotent requests only.

Retried, with jittered exponential backoff, bounded in attempts and in total time:

- ``NetworkError`` and ``RequestTimeoutError`` (refused, reset, cut short, timed out);
- ``ExchangeUnavailableError`` from any 5xx and from -1001 (internal error) and, for reads, -1006 and -1007
  (outcome unknown; reading again is harmless);
- ``RateLimitError`` (429 / -1003) when its ``Retry-After`` fits in the time left: the limiter makes every
  caller wait it out, so the policy adds no backoff of its own.

Never retried: bans, authentication (401, -1002, -1022, -2014, -2015), the firewall (403), parameter errors
(-11xx), malformed answers, -1008 (busy: retry in minutes, not seconds), -1016 (shutting down), and
``ClockSkewError``, which the client handles itself (resynchronise, then one more try).

``RetryPolicy.instant()`` makes the same decisions without waiting, for tests (injected, never patched).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from domain.errors import (
    ExchangeUnavailableError,
    IPBannedError,
    NetworkError,
    RateLimitError,
)

__all__ = ["RetryPolicy", "is_transient"]

T = TypeVar("T")

_RETRIED_CODES = frozenset({-1001, -1006, -1007})
_NOT_RETRIED_CODES = frozenset({-1008, -1016})
_HTTP_SERVER_ERROR = 500


def is_transient(exc: BaseException, *, idempotent: bool = True) -> bool:
    """Whether sending the same request again may succeed (budget aside)."""
    if not idempotent or isinstance(exc, IPBannedError):
        return False
    if isinstance(exc, RateLimitError | NetworkError):
        return True
    if isinstance(exc, ExchangeUnavailableError):
        if exc.code in _RETRIED_CODES:
            return True
        if exc.code in _NOT_RETRIED_CODES:
            return False
        return (exc.http_status or 0) >= _HTTP_SERVER_ERROR
    return False


async def _no_sleep(_seconds: float) -> None:
    return None


@attrs.frozen
class RetryPolicy:
    """Attempts (the first included), a total time budget and the backoff between attempts."""

    max_attempts: int = 4
    max_seconds: float = 30.0
    initial_wait_s: float = 0.25
    max_wait_s: float = 5.0
    sleep: Callable[[float], Awaitable[None]] = attrs.field(default=asyncio.sleep, repr=False)

    @classmethod
    def from_settings(cls, max_retries: int, retry_max_seconds: float) -> RetryPolicy:
        return cls(max_attempts=max_retries + 1, max_seconds=retry_max_seconds)

    @classmethod
    def instant(cls, max_attempts: int = 4) -> RetryPolicy:
        """The same decisions without any backoff: for tests."""
        return cls(max_attempts=max_attempts, initial_wait_s=0.0, max_wait_s=0.0, sleep=_no_sleep)

    def should_retry(self, exc: BaseException, *, elapsed_s: float, idempotent: bool = True) -> bool:
        """The retry decision for one failed attempt, ``elapsed_s`` after the first one started."""
        if not is_transient(exc, idempotent=idempotent):
            return False
        if isinstance(exc, RateLimitError):
            return exc.retry_after is not None and elapsed_s + exc.retry_after <= self.max_seconds
        return True

    def retrying(self, *, idempotent: bool = True) -> AsyncRetrying:
        """A fresh tenacity controller for one logical call (tenacity keeps per-call state on it)."""

        def retry(state: RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None or not outcome.failed:
                return False
            exc = outcome.exception()
            return exc is not None and self.should_retry(
                exc, elapsed_s=state.seconds_since_start or 0.0, idempotent=idempotent
            )

        backoff = wait_random_exponential(multiplier=self.initial_wait_s, max=self.max_wait_s)

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            if outcome is not None and isinstance(outcome.exception(), RateLimitError):
                return 0.0  # the limiter holds every caller until Retry-After has passed
            return backoff(state) if self.max_wait_s > 0 else 0.0

        return AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.max_seconds),
            wait=wait,
            retry=retry,
            sleep=self.sleep,
            reraise=True,
        )

    async def call(
        self,
        attempt: Callable[[int], Awaitable[T]],
        *,
        on_retry: Callable[[BaseException], None] = lambda _exc: None,
        idempotent: bool = True,
        failed: Exception | None = None,
    ) -> T:
        """``attempt(retries)`` until it succeeds or the policy gives up (re-raising the last failure).

        The first attempt runs directly, so a call that succeeds at once costs nothing here; a failure is
        handed to tenacity as its first attempt, and tenacity decides, waits and runs the others. The time
        budget counts from that first failure. ``on_retry`` hears of each failure that is retried.
        ``failed``: the caller has made the first attempt itself and it raised this (a caller that runs
        the first attempt without this layer, and comes here only after a failure).
        """
        if failed is None:
            try:
                return await attempt(0)
            except Exception as exc:  # decided below; re-raised when not retried
                failed = exc
        first: Exception = failed
        if not self.should_retry(first, elapsed_s=0.0, idempotent=idempotent):
            raise first
        failure = first
        async for state in self.retrying(idempotent=idempotent):
            with state:
                retries = state.retry_state.attempt_number - 1
                if retries == 0:
                    raise first  # the attempt already made, replayed so tenacity counts it and waits
                on_retry(failure)
                try:
                    return await attempt(retries)
                except Exception as exc:
                    failure = exc
                    raise
        raise AssertionError("unreachable: the retry policy re-raises the last failure")  # pragma: no cover
