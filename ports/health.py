"""The health ports: what the health monitor reads besides the market-data port.

Design: the monitor measures reachability, latency and clock offset itself, with timed
``get_server_time`` probes through ``MarketDataPort``. Everything else is read, never requested: the
exchange adapter's own figures (``ExchangeStatusPort``), the age of the newest stored or seen data
(``FreshnessSource``) and the stream connections (``StreamStatusSource``). All three are optional; a signal
whose source is missing is left out of the report, or (error rate) falls back to the probes' own results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain import DataFreshness, ExchangeStatus, StreamConnection, Symbol

__all__ = ["ExchangeStatusPort", "FreshnessSource", "StreamStatusSource"]


class ExchangeStatusPort(Protocol):
    """An exchange adapter's view of its own link: attempts and errors over a recent window, request
    weight used against the limit, a ban and its end, and the clock offset.

    ``exchange_status`` is cheap and synchronous: it sends nothing, waits for nothing and never raises.
    """

    def exchange_status(self) -> ExchangeStatus:
        """The figures as they stand now."""
        ...


class FreshnessSource(Protocol):
    """When the newest price and candle of each symbol were current (from storage or recent data)."""

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        """Freshness of ``symbols`` (``None``: every symbol the source knows). Symbols the source has no
        data for are left out. May raise the storage errors of the underlying store."""
        ...


class StreamStatusSource(Protocol):
    """The state of every stream connection; cheap, synchronous and never raising."""

    def stream_connections(self) -> Sequence[StreamConnection]:
        """One entry per connection; empty when no stream is open."""
        ...
