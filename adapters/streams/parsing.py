"""Binance market-stream payloads to domain events: all wire knowledge of the stream adapter in one place.

Two ways in:

- ``Route``: one per subscribed stream (``btcusdt@bookTicker``). The adapter looks the route up by the
  combined-stream name and calls ``parse(data, received_ms)``; the symbol is bound in advance, so the hot
  path does one dict lookup, the field reads and the ``Decimal`` conversions, nothing else.
- ``decode``: any message, by its content (a combined wrapper, a bare event, a ``!miniTicker@arr`` array, a
  control reply), for messages no route expects and for checking recorded payloads.

Decimals must arrive as JSON strings (Binance never sends them as numbers; a float would lose digits).
Unknown fields are ignored. A message that breaks the shape raises ``MalformedMessageError``; a well-formed
message of a kind not modelled here (depth, average price, rolling-window tickers) decodes as unsupported.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import attrs
import orjson

from domain import (
    AggTradeEvent,
    BookTickerEvent,
    Interval,
    InvalidInputError,
    Kline,
    KlineEvent,
    MarketEvent,
    MiniTickerEvent,
    StreamKind,
    StreamTopic,
    Symbol,
    Ticker24h,
    TickerEvent,
    TradeEvent,
)

__all__ = [
    "SHUTDOWN_STREAM",
    "Decoded",
    "MalformedMessageError",
    "Route",
    "SymbolCache",
    "decode",
    "route_for",
    "stream_name",
]

#: The combined-stream name of the exchange's "reconnect now" notice.
SHUTDOWN_STREAM = "!serverShutdown"
_SHUTDOWN_EVENT = "serverShutdown"

#: Errors that mean "this message does not have the promised shape".
DECODE_ERRORS = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, IndexError)


class MalformedMessageError(ValueError):
    """A stream message that is not JSON or not the shape its stream promises."""


def _dec(value: object) -> Decimal:
    if value.__class__ is str:
        return Decimal(value)
    msg = f"expected a decimal string, got {type(value).__name__}"
    raise MalformedMessageError(msg)


def _int(value: object) -> int:
    if value.__class__ is int:
        return value
    msg = f"expected an integer, got {type(value).__name__}"
    raise MalformedMessageError(msg)


def _bool(value: object) -> bool:
    if value.__class__ is bool:
        return value
    msg = f"expected true or false, got {type(value).__name__}"
    raise MalformedMessageError(msg)


def stream_name(topic: StreamTopic) -> str:
    """The stream's name on the wire, e.g. ``btcusdt@kline_1m`` (symbols lower-case, ASCII letters only)."""
    base = topic.symbol.stream_name
    if topic.interval is not None:
        return f"{base}@kline_{topic.interval.value}"
    return f"{base}@{topic.kind.value}"


# ---------------------------------------------------------------------------------------------- field maps


def trade_event(data: Any, symbol: Symbol) -> TradeEvent:
    return TradeEvent(
        symbol,
        _int(data["t"]),
        _dec(data["p"]),
        _dec(data["q"]),
        _int(data["T"]),
        _int(data["E"]),
        _bool(data["m"]),
    )


def agg_trade_event(data: Any, symbol: Symbol) -> AggTradeEvent:
    return AggTradeEvent(
        symbol,
        _int(data["a"]),
        _dec(data["p"]),
        _dec(data["q"]),
        _int(data["f"]),
        _int(data["l"]),
        _int(data["T"]),
        _int(data["E"]),
        _bool(data["m"]),
    )


def kline_event(data: Any, symbol: Symbol, interval: Interval | None) -> KlineEvent:
    """A kline payload; ``interval`` is the stream's (``None``: read it from the payload)."""
    k = data["k"]
    if interval is None:
        interval = Interval.parse(k["i"])
    elif k["i"] != interval.value:
        msg = f"a {k['i']!r} candle on a {interval.value} stream"
        raise MalformedMessageError(msg)
    kline = Kline(
        symbol,
        interval,
        _int(k["t"]),
        _dec(k["o"]),
        _dec(k["h"]),
        _dec(k["l"]),
        _dec(k["c"]),
        _dec(k["v"]),
        _int(k["T"]),
        _dec(k["q"]),
        _int(k["n"]),
        _dec(k["V"]),
        _dec(k["Q"]),
        str(k.get("B", "0")),
    )
    return KlineEvent(kline, _bool(k["x"]), _int(data["E"]), _int(k["f"]), _int(k["L"]))


def mini_ticker_event(data: Any, symbol: Symbol) -> MiniTickerEvent:
    return MiniTickerEvent(
        symbol,
        _dec(data["c"]),
        _dec(data["o"]),
        _dec(data["h"]),
        _dec(data["l"]),
        _dec(data["v"]),
        _dec(data["q"]),
        _int(data["E"]),
    )


def ticker_event(data: Any, symbol: Symbol) -> TickerEvent:
    ticker = Ticker24h(
        symbol=symbol,
        price_change=_dec(data["p"]),
        price_change_percent=_dec(data["P"]),
        weighted_avg_price=_dec(data["w"]),
        prev_close_price=_dec(data["x"]),
        last_price=_dec(data["c"]),
        last_qty=_dec(data["Q"]),
        bid_price=_dec(data["b"]),
        bid_qty=_dec(data["B"]),
        ask_price=_dec(data["a"]),
        ask_qty=_dec(data["A"]),
        open_price=_dec(data["o"]),
        high_price=_dec(data["h"]),
        low_price=_dec(data["l"]),
        volume=_dec(data["v"]),
        quote_volume=_dec(data["q"]),
        open_time_ms=_int(data["O"]),
        close_time_ms=_int(data["C"]),
        first_trade_id=_int(data["F"]),
        last_trade_id=_int(data["L"]),
        trade_count=_int(data["n"]),
    )
    return TickerEvent(ticker, _int(data["E"]))


def book_ticker_event(data: Any, symbol: Symbol, received_ms: int) -> BookTickerEvent:
    return BookTickerEvent(
        symbol,
        _int(data["u"]),
        _dec(data["b"]),
        _dec(data["B"]),
        _dec(data["a"]),
        _dec(data["A"]),
        received_ms,
    )


# ---------------------------------------------------------------------------------------------- routes


class Route:
    """One subscribed stream: parses its payloads and remembers the newest event delivered.

    ``last`` holds the identity of that event (trade id, book update id, event time, or for klines
    ``(open time, closed, event time)``); an event whose identity is not greater was delivered already.
    ``lossless`` events are never replaced by newer ones under pressure (trades, closed candles).
    """

    __slots__ = ("delivered", "interval", "last", "name", "symbol", "wire_symbol")

    kind: ClassVar[StreamKind]

    def __init__(self, name: str, symbol: Symbol, interval: Interval | None = None) -> None:
        self.name = name
        self.symbol = symbol
        self.wire_symbol = symbol.value
        self.interval = interval
        self.last: Any = None
        self.delivered = 0

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        raise NotImplementedError

    def ident(self, event: Any) -> Any:
        raise NotImplementedError

    def lossless(self, event: Any) -> bool:
        return False

    def _check_symbol(self, data: Any) -> None:
        if data["s"] != self.wire_symbol:
            msg = f"a {data['s']!r} event on the {self.name} stream"
            raise MalformedMessageError(msg)


class _TradeRoute(Route):
    __slots__ = ()
    kind = StreamKind.TRADE

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        self._check_symbol(data)
        return trade_event(data, self.symbol)

    def ident(self, event: Any) -> Any:
        return event.trade_id

    def lossless(self, event: Any) -> bool:
        return True


class _AggTradeRoute(Route):
    __slots__ = ()
    kind = StreamKind.AGG_TRADE

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        self._check_symbol(data)
        return agg_trade_event(data, self.symbol)

    def ident(self, event: Any) -> Any:
        return event.agg_trade_id

    def lossless(self, event: Any) -> bool:
        return True


class _KlineRoute(Route):
    __slots__ = ()
    kind = StreamKind.KLINE

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        self._check_symbol(data)
        return kline_event(data, self.symbol, self.interval)

    def ident(self, event: Any) -> Any:
        return (event.kline.open_time_ms, event.is_closed, event.event_time_ms)

    def lossless(self, event: Any) -> bool:
        return bool(event.is_closed)


class _MiniTickerRoute(Route):
    __slots__ = ()
    kind = StreamKind.MINI_TICKER

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        self._check_symbol(data)
        return mini_ticker_event(data, self.symbol)

    def ident(self, event: Any) -> Any:
        return event.event_time_ms


class _TickerRoute(Route):
    __slots__ = ()
    kind = StreamKind.TICKER

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        self._check_symbol(data)
        return ticker_event(data, self.symbol)

    def ident(self, event: Any) -> Any:
        return event.event_time_ms


class _BookTickerRoute(Route):
    __slots__ = ()
    kind = StreamKind.BOOK_TICKER

    def parse(self, data: Any, received_ms: int) -> MarketEvent:
        if data["s"] != self.wire_symbol:
            self._check_symbol(data)
        return BookTickerEvent(
            self.symbol,
            _int(data["u"]),
            _dec(data["b"]),
            _dec(data["B"]),
            _dec(data["a"]),
            _dec(data["A"]),
            received_ms,
        )

    def ident(self, event: Any) -> Any:
        return event.update_id


_ROUTES: dict[StreamKind, type[Route]] = {
    route.kind: route
    for route in (_TradeRoute, _AggTradeRoute, _KlineRoute, _MiniTickerRoute, _TickerRoute, _BookTickerRoute)
}


def route_for(topic: StreamTopic) -> Route:
    """The route that parses ``topic``'s stream."""
    return _ROUTES[topic.kind](stream_name(topic), topic.symbol, topic.interval)


# ---------------------------------------------------------------------------------------------- by content


class SymbolCache:
    """``Symbol`` objects by their wire text: validating a symbol costs more than parsing a whole event."""

    def __init__(self, limit: int = 10_000) -> None:
        self._symbols: dict[str, Symbol] = {}
        self._limit = limit

    def __call__(self, text: object) -> Symbol:
        symbol = self._symbols.get(text) if isinstance(text, str) else None
        if symbol is None:
            if not isinstance(text, str):
                msg = f"expected a symbol, got {type(text).__name__}"
                raise MalformedMessageError(msg)
            symbol = Symbol(text)
            if len(self._symbols) < self._limit:
                self._symbols[text] = symbol
        return symbol


@attrs.frozen
class Decoded:
    """What one message held: market events, an unsupported kind, the shutdown notice, or a control reply.

    ``reply_id`` is set for the answer to a control message (``{"result": ..., "id": ...}``), and
    ``error`` when that answer is an error (``{"error": {"code", "msg"}, "id": ...}``).
    """

    events: tuple[MarketEvent, ...] = ()
    stream: str | None = None
    unsupported: str | None = None
    shutdown: bool = False
    reply_id: object = None
    error: str | None = None


_Parser = Callable[[Any, Symbol], MarketEvent]
_BY_EVENT_TYPE: dict[str, _Parser] = {
    "trade": trade_event,
    "aggTrade": agg_trade_event,
    "24hrMiniTicker": mini_ticker_event,
    "24hrTicker": ticker_event,
}


def _decode_object(data: Any, symbols: SymbolCache, received_ms: int) -> Decoded:
    if not isinstance(data, dict):
        msg = f"expected a JSON object, got {type(data).__name__}"
        raise MalformedMessageError(msg)
    event_type = data.get("e")
    if event_type is None:
        if {"u", "s", "b", "B", "a", "A"} <= data.keys():
            return Decoded((book_ticker_event(data, symbols(data["s"]), received_ms),))
        if {"lastUpdateId", "bids", "asks"} <= data.keys():
            return Decoded(unsupported="depth")
        msg = "an object with neither an event type nor a known shape"
        raise MalformedMessageError(msg)
    if event_type == _SHUTDOWN_EVENT:
        return Decoded(shutdown=True)
    if event_type == "kline":
        return Decoded((kline_event(data, symbols(data["s"]), None),))
    parser = _BY_EVENT_TYPE.get(event_type)
    if parser is None:
        if not isinstance(event_type, str):
            msg = "the event type is not text"
            raise MalformedMessageError(msg)
        return Decoded(unsupported=event_type)
    return Decoded((parser(data, symbols(data["s"])),))


def _decode_value(data: Any, symbols: SymbolCache, received_ms: int) -> Decoded:
    if isinstance(data, list):
        events: list[MarketEvent] = []
        unsupported = None
        for item in data:
            part = _decode_object(item, symbols, received_ms)
            events.extend(part.events)
            unsupported = unsupported or part.unsupported
        return Decoded(tuple(events), unsupported=None if events else unsupported)
    return _decode_object(data, symbols, received_ms)


def decode(payload: bytes | str, symbols: SymbolCache, received_ms: int) -> Decoded:
    """Decode any market-stream message by its content; raises ``MalformedMessageError``."""
    try:
        message = orjson.loads(payload)
        if isinstance(message, dict) and "stream" in message and "data" in message:
            stream = message["stream"]
            if not isinstance(stream, str):
                msg = "the stream name is not text"
                raise MalformedMessageError(msg)
            inner = _decode_value(message["data"], symbols, received_ms)
            return attrs.evolve(inner, stream=stream, shutdown=inner.shutdown or stream == SHUTDOWN_STREAM)
        if isinstance(message, dict) and "id" in message and ("result" in message or "error" in message):
            error = message.get("error")
            text = None if error is None else f"code {error.get('code')}: {error.get('msg')}"
            return Decoded(reply_id=message["id"], error=text)
        return _decode_value(message, symbols, received_ms)
    except MalformedMessageError:
        raise
    except (InvalidInputError, InvalidOperation, *DECODE_ERRORS) as exc:
        msg = f"{type(exc).__name__}: {exc}"
        raise MalformedMessageError(msg) from exc
