"""The market-stream port: real-time events for many symbols over long-lived connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Protocol

from domain import StreamConnection, StreamEvent, StreamStats, StreamTopic
from ports.health import StreamStatusSource

__all__ = ["MarketStreamPort"]


class MarketStreamPort(StreamStatusSource, Protocol):
    """Trades, klines, tickers and book tickers as typed events, with the connection's own news in line.

    Contract:

    - ``subscribe`` adds topics (a topic already subscribed is ignored); it returns at once and the
      connections open in the background. Subscribe before or while iterating ``events``.
    - ``events`` is the one iterator of every event, for one consumer, in the order each stream produced
      them. Connection events (``StreamConnected``, ``StreamDisconnected``, ``StreamReconnecting``) say when
      events may have been missed. An event is never delivered twice, even when two connections overlap.
    - The adapter keeps the connections up by itself: it answers pings, reconnects after a loss or a silent
      stream (with jittered backoff inside the exchange's connection-attempt limit), and replaces each
      connection before the exchange's lifetime limit without a gap.
    - A consumer slower than the stream never makes memory grow without bound: intermediate ticker, book
      ticker and open-candle updates are then replaced by the newest one of the same stream (counted in
      ``stats().shed``); trades and closed candles are never dropped by the adapter.
    - After ``close`` the iterator yields what was already received, then ends.

    Errors: ``events`` raises ``ConfigurationError`` for an unusable stream URL, ``InvalidRequestError``
    when the exchange refuses the subscription (an unknown stream), ``AccessDeniedError`` for a 403, and
    ``IPBannedError`` when the exchange bans this IP. Network failures are never raised: they show as
    connection events while the adapter reconnects.
    """

    async def subscribe(self, topics: Iterable[StreamTopic]) -> None:
        """Start receiving ``topics`` (for many symbols at once; see ``StreamTopic``'s constructors)."""
        ...

    def events(self) -> AsyncIterator[StreamEvent]:
        """Every event of every subscribed topic, and the connection events, as they arrive."""
        ...

    def stream_connections(self) -> Sequence[StreamConnection]:
        """The state of each connection (one per group of up to 1024 streams); cheap and never raising."""
        ...

    def stats(self) -> StreamStats:
        """Counts since the adapter was built (see ``StreamStats``)."""
        ...

    async def close(self) -> None:
        """Close every connection; calling it twice is harmless."""
        ...
