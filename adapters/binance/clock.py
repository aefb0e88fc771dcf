"""The exchange's clock as seen from here: an RTT-compensated offset from ``GET /api/v3/time``.

One sample brackets the server's reading between the moment the request left and the moment the answer came
back; the server read its clock somewhere in between, so its best estimate is the midpoint and its error is at
most half the round trip. The sample is anchored on the monotonic clock, so a jump of the local wall clock
does not move the estimate of server time; ``clock_offset_ms`` (server minus local wall clock) does show it.

Signed requests carry ``timestamp = estimated server time - RTT/2``: the earliest the server time can be, so
the timestamp is never ahead of the server (Binance rejects one that is 1000 ms or more ahead) and is at most
one round trip behind, well inside ``recvWindow``. The offset is refreshed when it is older than the refresh
interval, and at once after a ``-1021``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

import attrs

__all__ = ["ClockSample", "ClockSync"]

_log = logging.getLogger(__name__)


def _wall_ms() -> float:
    return time.time_ns() / 1_000_000


@attrs.frozen
class ClockSample:
    """One reading: server time at the monotonic midpoint of the round trip, and the round trip."""

    server_time_ms: int
    mid_monotonic_s: float
    rtt_ms: float
    offset_ms: float


class ClockSync:
    """Server-time estimate for timestamps and for aligning the limiter's windows."""

    def __init__(
        self,
        *,
        refresh_interval_s: float = 300.0,
        wall_ms: Callable[[], float] = _wall_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresh_interval_s = refresh_interval_s
        self._wall_ms = wall_ms
        self._monotonic = monotonic
        self._sample: ClockSample | None = None
        self._lock = asyncio.Lock()
        self.syncs = 0

    def monotonic(self) -> float:
        """The monotonic clock samples are taken on (seconds)."""
        return self._monotonic()

    @property
    def sample(self) -> ClockSample | None:
        return self._sample

    @property
    def clock_offset_ms(self) -> float | None:
        """Server clock minus local wall clock now, in ms; ``None`` before the first sample."""
        if self._sample is None:
            return None
        return self.server_now_ms() - self._wall_ms()

    @property
    def uncertainty_ms(self) -> float | None:
        """Half the round trip of the sample: how far the server-time estimate can be off."""
        return None if self._sample is None else self._sample.rtt_ms / 2

    def server_now_ms(self) -> float:
        """Best estimate of the server's clock now (the local wall clock before any sample)."""
        sample = self._sample
        if sample is None:
            return self._wall_ms()
        return sample.server_time_ms + (self._monotonic() - sample.mid_monotonic_s) * 1000

    def timestamp_ms(self) -> int:
        """The ``timestamp`` parameter for a signed request: never ahead of the server's clock."""
        sample = self._sample
        if sample is None:
            return math.floor(self._wall_ms())
        return math.floor(self.server_now_ms() - sample.rtt_ms / 2)

    def needs_sync(self) -> bool:
        sample = self._sample
        return sample is None or self._monotonic() - sample.mid_monotonic_s >= self._refresh_interval_s

    def record(
        self, *, sent_monotonic_s: float, received_monotonic_s: float, server_time_ms: int
    ) -> ClockSample:
        """Adopt a reading of the server clock taken between the two monotonic instants."""
        rtt_ms = max(0.0, (received_monotonic_s - sent_monotonic_s) * 1000)
        mid = (sent_monotonic_s + received_monotonic_s) / 2
        wall_mid = self._wall_ms() - (self._monotonic() - mid) * 1000
        sample = ClockSample(server_time_ms, mid, rtt_ms, server_time_ms - wall_mid)
        self._sample = sample
        self.syncs += 1
        _log.debug("clock offset %.1f ms (round trip %.1f ms)", sample.offset_ms, rtt_ms)
        return sample

    def offer(self, *, sent_monotonic_s: float, received_monotonic_s: float, server_time_ms: int) -> bool:
        """Adopt a reading taken by someone else (a ``time`` call) unless it is much less precise than the
        current, fresh sample; returns whether it was adopted."""
        current = self._sample
        rtt_ms = (received_monotonic_s - sent_monotonic_s) * 1000
        if current is not None and not self.needs_sync() and rtt_ms > 2 * current.rtt_ms + 5:
            return False
        self.record(
            sent_monotonic_s=sent_monotonic_s,
            received_monotonic_s=received_monotonic_s,
            server_time_ms=server_time_ms,
        )
        return True

    async def sync(self, fetch_server_time: Callable[[], Awaitable[int]], *, force: bool = False) -> None:
        """Take a new sample when the current one is stale (or ``force``); concurrent callers share one."""
        before = self._sample
        async with self._lock:
            if self._sample is not before and self._sample is not None:
                return  # another caller synced while this one waited
            if not force and not self.needs_sync():
                return
            sent = self._monotonic()
            server_time_ms = await fetch_server_time()
            self.record(
                sent_monotonic_s=sent, received_monotonic_s=self._monotonic(), server_time_ms=server_time_ms
            )
