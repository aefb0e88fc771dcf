"""Every real Binance stream message in the capture set decodes, with the outcome stated here.

The captures live beside the repository, in ``../shared/binance-captures/ws`` (never copied in). Trades,
aggregate trades, klines, mini tickers, tickers and book tickers become typed events with every digit of every
decimal kept; a message recorded on a combined stream also goes through the route the adapter uses for that
stream name, and both ways agree. Depth messages (diff depth and partial book) are well-formed but not
modelled: they decode as unsupported, naming what they are, and the adapter counts them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.streams import SymbolCache, decode
from adapters.streams.parsing import route_for
from domain import (
    AggTradeEvent,
    BookTickerEvent,
    Interval,
    KlineEvent,
    MiniTickerEvent,
    StreamKind,
    StreamTopic,
    Symbol,
    TickerEvent,
    TradeEvent,
)

CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "binance-captures"
WS = CAPTURES / "ws"
MISSING = (
    "../shared/binance-captures not found: "
    "conformance tests need the Binance capture set beside the repository"
)
pytestmark = pytest.mark.skipif(not WS.is_dir(), reason=MISSING)

RECEIVED_MS = 1_767_225_600_123
_FILES = sorted(WS.glob("*/*.json")) if WS.is_dir() else []

#: What each folder decodes to: the event type, or the unsupported kind's name.
EXPECTED: dict[str, type | str] = {
    "trade": TradeEvent,
    "aggTrade": AggTradeEvent,
    "kline": KlineEvent,
    "miniTicker": MiniTickerEvent,
    "ticker": TickerEvent,
    "bookTicker": BookTickerEvent,
}
UNSUPPORTED = {
    "depth/cryptofeed-1.json": "depthUpdate",
    "depth/cryptofeed-2.json": "depthUpdate",
    "depth/cryptofeed-3.json": "depthUpdate",
    "depth/gobinance-1.json": "depthUpdate",
    "depth/gobinance-2.json": "depth",
}
#: How many events a file holds (the array messages hold several).
COUNTS = {"miniTicker/gobinance-3.json": 2, "miniTicker/marketviewer-1.json": 2}
_STREAM_KINDS = {
    "trade": StreamKind.TRADE,
    "aggTrade": StreamKind.AGG_TRADE,
    "miniTicker": StreamKind.MINI_TICKER,
    "ticker": StreamKind.TICKER,
    "bookTicker": StreamKind.BOOK_TICKER,
}


def _exact(value: Decimal) -> tuple[Any, ...]:
    return tuple(value.as_tuple())


def _same(decimal: Decimal, text: str) -> bool:
    return _exact(decimal) == _exact(Decimal(text))


def _payloads(raw: Any) -> list[dict[str, Any]]:
    data = raw["data"] if isinstance(raw, dict) and "data" in raw else raw
    return data if isinstance(data, list) else [data]


def _check(event: object, data: dict[str, Any]) -> None:
    if isinstance(event, TradeEvent):
        assert (event.trade_id, event.trade_time_ms, event.event_time_ms) == (data["t"], data["T"], data["E"])
        assert _same(event.price, data["p"])
        assert _same(event.quantity, data["q"])
        assert event.buyer_is_maker is data["m"]
        return
    if isinstance(event, AggTradeEvent):
        assert (event.agg_trade_id, event.first_trade_id, event.last_trade_id) == (
            data["a"],
            data["f"],
            data["l"],
        )
        assert _same(event.price, data["p"])
        assert _same(event.quantity, data["q"])
        return
    if isinstance(event, KlineEvent):
        k = data["k"]
        kline = event.kline
        assert (kline.open_time_ms, kline.close_time_ms, kline.trade_count) == (k["t"], k["T"], k["n"])
        assert kline.interval is Interval(k["i"])
        assert event.is_closed is k["x"]
        assert (event.first_trade_id, event.last_trade_id, event.event_time_ms) == (k["f"], k["L"], data["E"])
        pairs = [
            (kline.open, "o"),
            (kline.high, "h"),
            (kline.low, "l"),
            (kline.close, "c"),
            (kline.volume, "v"),
            (kline.quote_volume, "q"),
            (kline.taker_buy_base_volume, "V"),
            (kline.taker_buy_quote_volume, "Q"),
        ]
        assert all(_same(value, k[key]) for value, key in pairs)
        return
    if isinstance(event, MiniTickerEvent):
        pairs = [
            (event.close, "c"),
            (event.open, "o"),
            (event.high, "h"),
            (event.low, "l"),
            (event.volume, "v"),
            (event.quote_volume, "q"),
        ]
        assert all(_same(value, data[key]) for value, key in pairs)
        assert event.event_time_ms == data["E"]
        return
    if isinstance(event, TickerEvent):
        t = event.ticker
        pairs = [
            (t.price_change, "p"),
            (t.price_change_percent, "P"),
            (t.weighted_avg_price, "w"),
            (t.prev_close_price, "x"),
            (t.last_price, "c"),
            (t.last_qty, "Q"),
            (t.bid_price, "b"),
            (t.bid_qty, "B"),
            (t.ask_price, "a"),
            (t.ask_qty, "A"),
            (t.open_price, "o"),
            (t.high_price, "h"),
            (t.low_price, "l"),
            (t.volume, "v"),
            (t.quote_volume, "q"),
        ]
        assert all(_same(value, data[key]) for value, key in pairs)
        ids = (t.open_time_ms, t.close_time_ms, t.first_trade_id, t.last_trade_id, t.trade_count)
        assert ids == (data["O"], data["C"], data["F"], data["L"], data["n"])
        return
    assert isinstance(event, BookTickerEvent)
    assert (event.update_id, event.received_ms) == (data["u"], RECEIVED_MS)
    pairs = [(event.bid_price, "b"), (event.bid_qty, "B"), (event.ask_price, "a"), (event.ask_qty, "A")]
    assert all(_same(value, data[key]) for value, key in pairs)


def test_the_capture_set_is_complete() -> None:
    assert len(_FILES) == 27
    assert {path.parent.name for path in _FILES} == {*EXPECTED, "depth"}


@pytest.mark.parametrize("path", _FILES, ids=[f"{p.parent.name}/{p.name}" for p in _FILES])
def test_every_captured_message_decodes_as_stated(path: Path) -> None:
    name = f"{path.parent.name}/{path.name}"
    raw = json.loads(path.read_bytes())

    decoded = decode(path.read_bytes(), SymbolCache(), RECEIVED_MS)

    if name in UNSUPPORTED:
        assert decoded.events == ()
        assert decoded.unsupported == UNSUPPORTED[name]
        return
    assert decoded.unsupported is None
    expected_type = EXPECTED[path.parent.name]
    assert [type(event) for event in decoded.events] == [expected_type] * COUNTS.get(name, 1)
    payloads = _payloads(raw)
    for event, data in zip(decoded.events, payloads, strict=True):
        assert str(getattr(event, "symbol", None)) == data["s"]
        _check(event, data)
    if isinstance(raw, dict) and "stream" in raw:
        assert decoded.stream == raw["stream"]


@pytest.mark.parametrize(
    "path",
    [p for p in _FILES if p.parent.name != "depth" and b'"stream"' in p.read_bytes()],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_a_combined_stream_message_parses_the_same_through_its_route(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    symbol_text, _, suffix = raw["stream"].partition("@")
    symbol = Symbol(symbol_text)
    if suffix.startswith("kline_"):
        topic = StreamTopic.klines([symbol], Interval(suffix.removeprefix("kline_")))[0]
    else:
        topic = StreamTopic(_STREAM_KINDS[suffix], symbol)
    route = route_for(topic)

    event = route.parse(raw["data"], RECEIVED_MS)

    assert route.name == raw["stream"]
    assert (event,) == decode(path.read_bytes(), SymbolCache(), RECEIVED_MS).events
