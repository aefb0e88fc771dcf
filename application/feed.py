"""Where continuous collection gets its data: a ``MarketFeed`` delivers to a ``FeedSink``.

The ``Collector`` is the sink: it stores what arrives, keeps the data-quality figures and repairs gaps. The
feed only fetches or listens. ``RestPoller`` (``application.rest_poller``) is the REST feed; a WebSocket
feed delivers the same calls (live candles with ``since_ms=None``), with REST polling as its fallback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from domain import GatewayError, Interval, Kline, PriceQuote, Symbol

__all__ = ["FeedSink", "MarketFeed"]


class FeedSink(Protocol):
    """What a feed hands its data and its failures to. Every call may be awaited for the time a store
    write takes; data passed in is stored even when the feed's task is cancelled meanwhile."""

    def resume_from(self, symbol: Symbol, interval: Interval) -> int:
        """The open time of the first candle of the series not stored yet: where a poll should start."""
        ...

    async def on_prices(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> None:
        """Prices that arrived at ``now_ms`` (exchange time)."""
        ...

    async def on_klines(
        self,
        symbol: Symbol,
        interval: Interval,
        klines: Sequence[Kline],
        *,
        now_ms: int,
        since_ms: int | None,
    ) -> None:
        """Candles of one series, oldest first. ``since_ms``: the open time they were asked from, so that
        the exchange has nothing between it and the first candle; ``None`` for live candles (a stream),
        where a jump past ``resume_from`` is a gap the sink repairs."""
        ...

    def on_failure(
        self, error: GatewayError, symbol: Symbol | None = None, interval: Interval | None = None
    ) -> None:
        """A request failed after the adapter's retries; without a symbol it concerns every series."""
        ...


class MarketFeed(Protocol):
    """A source of prices and candles for a fixed set of symbols and intervals."""

    async def run(self, sink: FeedSink, stop: asyncio.Event) -> None:
        """Deliver to ``sink`` until ``stop`` is set, then finish the deliveries under way and return."""
        ...
