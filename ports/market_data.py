"""The market-data port: what the application needs to know about prices, rules and candles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain import (
    BookTicker,
    ExchangeInfo,
    Interval,
    Kline,
    PriceQuote,
    ServerTime,
    Symbol,
    Ticker24h,
)

__all__ = ["MAX_KLINE_LIMIT", "MarketDataPort"]

#: The most candles one ``get_kline_data`` call returns (Binance's ``limit`` maximum).
MAX_KLINE_LIMIT = 1000


class MarketDataPort(Protocol):
    """Public market data of a spot exchange. Every method is a coroutine.

    Errors (all from ``domain.errors``), common to every method:

    - ``NetworkError`` / ``RequestTimeoutError``: no answer after the adapter's retries.
    - ``ExchangeUnavailableError``: the exchange answered 5xx or "busy" after retries.
    - ``RateLimitError``: the request weight budget is exhausted (``retry_after`` seconds).
    - ``IPBannedError``: the IP is banned until ``banned_until_ms``; nothing was sent.
    - ``MalformedResponseError``: the answer was not the promised JSON.
    - ``DataValidationError``: the answer broke a domain rule (adapters that validate).

    Methods taking symbols also raise ``InvalidSymbolError`` for a symbol the exchange does not list.
    """

    async def get_server_time(self) -> ServerTime:
        """The exchange's clock."""
        ...

    async def get_exchange_info(self, symbols: Sequence[Symbol] | None = None) -> ExchangeInfo:
        """Rate limits and trading rules, for ``symbols`` or (``None``) every listed symbol."""
        ...

    async def get_symbol_ticker(self, symbol: Symbol) -> PriceQuote:
        """The latest price of one symbol."""
        ...

    async def get_symbol_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[PriceQuote]:
        """The latest prices of many symbols in one call (``None``: every symbol), in request order."""
        ...

    async def get_ticker_24h(self, symbol: Symbol) -> Ticker24h:
        """Rolling 24-hour statistics of one symbol."""
        ...

    async def get_tickers_24h(self, symbols: Sequence[Symbol] | None = None) -> list[Ticker24h]:
        """Rolling 24-hour statistics of many symbols in as few calls as the weight rules favour."""
        ...

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        """Best bid and ask of one symbol."""
        ...

    async def get_book_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[BookTicker]:
        """Best bid and ask of many symbols in one call."""
        ...

    async def get_kline_data(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> Sequence[Kline]:
        """Candles oldest first, with Binance's semantics.

        No ``start_ms``/``end_ms``: the newest ``limit`` candles (the last one usually still open).
        ``start_ms`` only: the oldest ``limit`` candles opening at or after it. ``end_ms`` only: the newest
        ``limit`` candles opening at or before it. Both: like ``start_ms``, capped at ``end_ms``.
        ``limit`` is 1 to ``MAX_KLINE_LIMIT``; anything else raises ``InvalidInputError``, as does
        ``start_ms > end_ms``. An unknown interval raises ``InvalidIntervalError``.
        """
        ...
