"""Real-time market events from the exchange's streams, the topics that produce them, and connection states.

Market events carry what the exchange pushed; connection events say what happened to the link that carries
them. Every stream subscription is a ``StreamTopic`` (what, for which symbol, at which interval for klines).
Event times (``event_time_ms``) are the exchange's clock; ``received_ms`` is the local clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from domain.health import ConnectionState
from domain.intervals import Interval
from domain.market import BookTicker, Kline, PriceQuote, Ticker24h
from domain.symbols import Symbol

__all__ = [
    "AggTradeEvent",
    "BookTickerEvent",
    "ConnectionEvent",
    "DisconnectReason",
    "KlineEvent",
    "MarketEvent",
    "MiniTickerEvent",
    "StreamConnected",
    "StreamDisconnected",
    "StreamEvent",
    "StreamKind",
    "StreamReconnecting",
    "StreamStats",
    "StreamTopic",
    "TickerEvent",
    "TradeEvent",
]


class StreamKind(enum.Enum):
    """What a stream carries; the value is the stream-name suffix Binance uses."""

    TRADE = "trade"
    AGG_TRADE = "aggTrade"
    KLINE = "kline"
    MINI_TICKER = "miniTicker"
    TICKER = "ticker"
    BOOK_TICKER = "bookTicker"


def _interval_matches_kind(instance: StreamTopic, _attribute: object, value: Interval | None) -> None:
    if (instance.kind is StreamKind.KLINE) != (value is not None):
        msg = "a kline topic needs an interval and no other topic takes one"
        raise ValueError(msg)


@attrs.frozen(order=False)
class StreamTopic:
    """One subscription: ``kind`` of events for ``symbol`` (klines also at ``interval``)."""

    kind: StreamKind
    symbol: Symbol
    interval: Interval | None = attrs.field(default=None, validator=_interval_matches_kind)

    @classmethod
    def trades(cls, symbols: Iterable[Symbol]) -> tuple[StreamTopic, ...]:
        """Every trade of each symbol."""
        return tuple(cls(StreamKind.TRADE, symbol) for symbol in symbols)

    @classmethod
    def agg_trades(cls, symbols: Iterable[Symbol]) -> tuple[StreamTopic, ...]:
        """Trades aggregated by taker order and price."""
        return tuple(cls(StreamKind.AGG_TRADE, symbol) for symbol in symbols)

    @classmethod
    def klines(cls, symbols: Iterable[Symbol], interval: Interval) -> tuple[StreamTopic, ...]:
        """Candle updates (every one or two seconds) and the final update of each closed candle."""
        return tuple(cls(StreamKind.KLINE, symbol, interval) for symbol in symbols)

    @classmethod
    def mini_tickers(cls, symbols: Iterable[Symbol]) -> tuple[StreamTopic, ...]:
        """Last price and rolling 24-hour open, high, low and volume, once a second."""
        return tuple(cls(StreamKind.MINI_TICKER, symbol) for symbol in symbols)

    @classmethod
    def tickers(cls, symbols: Iterable[Symbol]) -> tuple[StreamTopic, ...]:
        """Full rolling 24-hour statistics, once a second."""
        return tuple(cls(StreamKind.TICKER, symbol) for symbol in symbols)

    @classmethod
    def book_tickers(cls, symbols: Iterable[Symbol]) -> tuple[StreamTopic, ...]:
        """Every change of the best bid or ask."""
        return tuple(cls(StreamKind.BOOK_TICKER, symbol) for symbol in symbols)


# ---------------------------------------------------------------------------------------------- market events


@attrs.frozen
class TradeEvent:
    """One trade (``<symbol>@trade``). ``trade_id`` grows by one per trade of the symbol."""

    symbol: Symbol
    trade_id: int
    price: Decimal
    quantity: Decimal
    trade_time_ms: int
    event_time_ms: int
    buyer_is_maker: bool

    def as_quote(self) -> PriceQuote:
        return PriceQuote(self.symbol, self.price, self.trade_time_ms)


@attrs.frozen
class AggTradeEvent:
    """Trades of one taker order at one price (``<symbol>@aggTrade``): trade ids ``first..last``."""

    symbol: Symbol
    agg_trade_id: int
    price: Decimal
    quantity: Decimal
    first_trade_id: int
    last_trade_id: int
    trade_time_ms: int
    event_time_ms: int
    buyer_is_maker: bool


@attrs.frozen
class KlineEvent:
    """A candle as it stands at ``event_time_ms`` (``<symbol>@kline_<interval>``).

    ``is_closed`` marks the candle's final update; a closed candle never changes again. ``repaired`` marks a
    closed candle the stream missed (while disconnected) and that was fetched over REST instead.
    """

    kline: Kline
    is_closed: bool
    event_time_ms: int
    first_trade_id: int = -1
    last_trade_id: int = -1
    repaired: bool = False

    @property
    def symbol(self) -> Symbol:
        return self.kline.symbol

    @property
    def interval(self) -> Interval:
        return self.kline.interval

    @property
    def open_time_ms(self) -> int:
        return self.kline.open_time_ms


@attrs.frozen
class MiniTickerEvent:
    """Last price and rolling 24-hour figures (``<symbol>@miniTicker``)."""

    symbol: Symbol
    close: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal
    event_time_ms: int

    @property
    def price_change(self) -> Decimal:
        return self.close - self.open

    @property
    def price_change_percent(self) -> Decimal | None:
        """Change over 24 hours in percent; ``None`` when the window opened at zero."""
        return None if not self.open else (self.close - self.open) * 100 / self.open

    def as_quote(self) -> PriceQuote:
        return PriceQuote(self.symbol, self.close, self.event_time_ms)


@attrs.frozen
class TickerEvent:
    """Full rolling 24-hour statistics (``<symbol>@ticker``)."""

    ticker: Ticker24h
    event_time_ms: int

    @property
    def symbol(self) -> Symbol:
        return self.ticker.symbol


@attrs.frozen
class BookTickerEvent:
    """Best bid and ask after a change (``<symbol>@bookTicker``).

    The exchange sends no event time for it: ``received_ms`` is when this process read it. ``update_id``
    grows with every change of the symbol's book.
    """

    symbol: Symbol
    update_id: int
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    received_ms: int

    def as_book_ticker(self) -> BookTicker:
        return BookTicker(
            self.symbol,
            self.bid_price,
            self.bid_qty,
            self.ask_price,
            self.ask_qty,
            self.received_ms,
            self.update_id,
        )


# ---------------------------------------------------------------------------------------------- connections


class DisconnectReason(enum.Enum):
    """Why a stream connection ended or is being replaced."""

    CLOSED_BY_SERVER = "closed_by_server"
    NETWORK_ERROR = "network_error"
    SILENCE = "silence"
    SERVER_SHUTDOWN = "server_shutdown"
    LIFETIME = "lifetime"
    CONNECT_FAILED = "connect_failed"
    CLOSED = "closed"


@attrs.frozen
class StreamConnected:
    """Connection ``connection`` carries its ``streams`` streams. ``handover``: it replaced a live connection
    without a gap (before the 24-hour limit, or on a shutdown notice)."""

    connection: str
    at_ms: int
    streams: int
    handover: bool = False

    @property
    def state(self) -> ConnectionState:
        return ConnectionState.CONNECTED


@attrs.frozen
class StreamDisconnected:
    """Connection ``connection`` was lost; events are missed until it is back (candles are repaired)."""

    connection: str
    at_ms: int
    reason: DisconnectReason
    detail: str = ""

    @property
    def state(self) -> ConnectionState:
        return ConnectionState.DISCONNECTED


@attrs.frozen
class StreamReconnecting:
    """A new connection for ``connection`` is being opened, attempt ``attempt``, after waiting ``delay_s``.

    With ``reason`` ``lifetime`` or ``server_shutdown`` the old connection still runs until the new one has
    taken over.
    """

    connection: str
    at_ms: int
    attempt: int
    delay_s: float
    reason: DisconnectReason

    @property
    def state(self) -> ConnectionState:
        return ConnectionState.RECONNECTING


MarketEvent = TradeEvent | AggTradeEvent | KlineEvent | MiniTickerEvent | TickerEvent | BookTickerEvent
ConnectionEvent = StreamConnected | StreamDisconnected | StreamReconnecting
StreamEvent = MarketEvent | ConnectionEvent


@attrs.frozen
class StreamStats:
    """Counts since the stream adapter started.

    ``received``: messages read. ``delivered``: events handed to the consumer. ``duplicates``: events dropped
    because they were already delivered (overlapping connections). ``shed``: intermediate updates replaced by
    a newer one of the same stream while the consumer was behind, by kind. ``malformed``: messages that could
    not be decoded. ``unsupported``: well-formed messages of a kind not modelled (depth, for one).
    ``reconnects``: connections replaced, by reason.
    """

    received: int = 0
    delivered: int = 0
    duplicates: int = 0
    shed: dict[str, int] = attrs.field(factory=dict, hash=False)
    malformed: int = 0
    unsupported: int = 0
    reconnects: dict[str, int] = attrs.field(factory=dict, hash=False)
    buffered: int = 0
