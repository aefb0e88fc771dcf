"""Market-data value objects: server time, prices, 24h statistics, book tickers and klines.

Models hold what the exchange said; they do not refuse odd values on construction, so that the
validators in ``domain.validators`` can report every violation at once instead of the first one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs

from domain.intervals import Interval
from domain.symbols import Symbol

__all__ = ["BookTicker", "Kline", "PriceQuote", "ServerTime", "Ticker24h", "ms_to_datetime"]


def ms_to_datetime(timestamp_ms: int) -> datetime:
    """An aware UTC datetime for epoch milliseconds."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


@attrs.frozen
class ServerTime:
    """The exchange's clock, as returned by ``GET /api/v3/time``."""

    server_time_ms: int

    @property
    def as_datetime(self) -> datetime:
        return ms_to_datetime(self.server_time_ms)


@attrs.frozen
class PriceQuote:
    """The latest price of a symbol, and when it was known to be current (``as_of_ms``)."""

    symbol: Symbol
    price: Decimal
    as_of_ms: int


@attrs.frozen
class BookTicker:
    """Best bid and ask. ``update_id`` is set when the source provides one (streams do)."""

    symbol: Symbol
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    as_of_ms: int
    update_id: int | None = None

    @property
    def spread(self) -> Decimal:
        return self.ask_price - self.bid_price


@attrs.frozen
class Ticker24h:
    """Rolling 24-hour statistics of a symbol (``GET /api/v3/ticker/24hr``, type FULL)."""

    symbol: Symbol
    price_change: Decimal
    price_change_percent: Decimal
    weighted_avg_price: Decimal
    prev_close_price: Decimal
    last_price: Decimal
    last_qty: Decimal
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time_ms: int
    close_time_ms: int
    first_trade_id: int
    last_trade_id: int
    trade_count: int


@attrs.frozen
class Kline:
    """One candle: the twelve fields of Binance's kline array, plus the symbol and interval it belongs to.

    Array index -> field: 0 open_time_ms, 1 open, 2 high, 3 low, 4 close, 5 volume (base asset),
    6 close_time_ms, 7 quote_volume, 8 trade_count, 9 taker_buy_base_volume, 10 taker_buy_quote_volume,
    11 ignore (unused by Binance, kept verbatim).
    """

    symbol: Symbol
    interval: Interval
    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time_ms: int
    quote_volume: Decimal
    trade_count: int
    taker_buy_base_volume: Decimal
    taker_buy_quote_volume: Decimal
    ignore: str = "0"

    def is_closed(self, now_ms: int) -> bool:
        """Whether the candle is final at ``now_ms`` (server time): its close time has passed."""
        return self.close_time_ms < now_ms

    @property
    def open_time(self) -> datetime:
        return ms_to_datetime(self.open_time_ms)

    @property
    def close_time(self) -> datetime:
        return ms_to_datetime(self.close_time_ms)
