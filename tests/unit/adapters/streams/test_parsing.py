"""Stream payloads: routes parse their stream's events; anything of the wrong shape is refused precisely."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from adapters.streams import MalformedMessageError, SymbolCache, decode, stream_name
from adapters.streams.parsing import route_for
from domain import BookTickerEvent, Interval, KlineEvent, StreamTopic, Symbol, TradeEvent

BTC = Symbol("BTCUSDT")
UNICODE = Symbol("这是测试币456")


def _trade(**changes: Any) -> dict[str, Any]:
    data = {
        "e": "trade",
        "E": 2,
        "s": "BTCUSDT",
        "t": 7,
        "p": "1.10",
        "q": "2",
        "T": 1,
        "m": False,
        "M": True,
    }
    data.update(changes)
    return data


def _book(**changes: Any) -> dict[str, Any]:
    data = {"u": 9, "s": "BTCUSDT", "b": "1.0", "B": "2", "a": "1.1", "A": "3"}
    data.update(changes)
    return data


def test_stream_names_are_lower_case_for_ascii_only() -> None:
    assert stream_name(StreamTopic.klines([BTC], Interval.MONTH_1)[0]) == "btcusdt@kline_1M"
    assert stream_name(StreamTopic.book_tickers([BTC])[0]) == "btcusdt@bookTicker"
    assert stream_name(StreamTopic.agg_trades([UNICODE])[0]) == "这是测试币456@aggTrade"


def test_a_route_parses_its_stream_and_names_the_identity_it_deduplicates_by() -> None:
    route = route_for(StreamTopic.trades([BTC])[0])

    event = route.parse(_trade(unknown_field="ignored"), 5)

    assert event == TradeEvent(BTC, 7, Decimal("1.10"), Decimal(2), 1, 2, buyer_is_maker=False)
    assert route.ident(event) == 7
    assert route.lossless(event)


def test_a_book_ticker_takes_the_receive_time_and_may_be_coalesced() -> None:
    route = route_for(StreamTopic.book_tickers([BTC])[0])

    event = route.parse(_book(), 123)

    assert isinstance(event, BookTickerEvent)
    assert (event.update_id, event.received_ms) == (9, 123)
    assert not route.lossless(event)


def test_only_a_closed_kline_is_lossless() -> None:
    route = route_for(StreamTopic.klines([BTC], Interval.MINUTE_1)[0])
    k = {
        "t": 0,
        "T": 59_999,
        "s": "BTCUSDT",
        "i": "1m",
        "f": 1,
        "L": 2,
        "o": "1",
        "c": "1",
        "h": "1",
        "l": "1",
        "v": "1",
        "n": 2,
        "x": False,
        "q": "1",
        "V": "1",
        "Q": "1",
        "B": "0",
    }
    open_event = route.parse({"e": "kline", "E": 5, "s": "BTCUSDT", "k": k}, 0)
    closed_event = route.parse({"e": "kline", "E": 60_000, "s": "BTCUSDT", "k": {**k, "x": True}}, 0)

    assert isinstance(open_event, KlineEvent)
    assert (route.lossless(open_event), route.lossless(closed_event)) == (False, True)
    assert route.ident(open_event) < route.ident(closed_event)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (_trade(p=1.1), "decimal string"),
        (_trade(t="7"), "integer"),
        (_trade(m="false"), "true or false"),
        (_trade(s="ETHUSDT"), "'ETHUSDT' event on the btcusdt@trade stream"),
    ],
)
def test_a_route_refuses_a_payload_of_the_wrong_shape(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedMessageError, match=problem):
        route_for(StreamTopic.trades([BTC])[0]).parse(data, 0)


def test_a_kline_of_another_interval_is_refused() -> None:
    route = route_for(StreamTopic.klines([BTC], Interval.MINUTE_5)[0])
    data = {"E": 1, "s": "BTCUSDT", "k": {"i": "1m"}}

    with pytest.raises(MalformedMessageError, match="'1m' candle on a 5m stream"):
        route.parse(data, 0)


def test_decode_reads_a_bare_event_by_its_type() -> None:
    decoded = decode(orjson.dumps(_trade()), SymbolCache(), 0)

    assert decoded.stream is None
    assert [type(e) for e in decoded.events] == [TradeEvent]


def test_decode_knows_the_shutdown_notice_and_control_replies() -> None:
    cache = SymbolCache()
    shutdown = decode(b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}', cache, 0)
    ok = decode(b'{"result":null,"id":7}', cache, 0)
    refused = decode(b'{"error":{"code":2,"msg":"Invalid request"},"id":"abc"}', cache, 0)

    assert (shutdown.shutdown, shutdown.events) == (True, ())
    assert (ok.reply_id, ok.error) == (7, None)
    assert (refused.reply_id, refused.error) == ("abc", "code 2: Invalid request")


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"not json", "JSONDecodeError"),
        (b"[1, 2]", "JSON object"),
        (b'{"a": 1}', "neither an event type nor a known shape"),
        (b'{"stream": 5, "data": {}}', "stream name is not text"),
        (b'{"e": 5}', "event type is not text"),
        (b'{"e": "trade", "s": "BTC-USDT"}', "InvalidInputError"),
        (b'{"e": "trade", "s": 5}', "expected a symbol"),
        (b'{"e": "kline", "s": "BTCUSDT", "k": {"i": "7m"}}', "unknown interval"),
    ],
)
def test_decode_refuses_what_is_not_a_stream_message(payload: bytes, problem: str) -> None:
    with pytest.raises(MalformedMessageError, match=problem):
        decode(payload, SymbolCache(), 0)


def test_decode_names_the_kind_it_does_not_model() -> None:
    decoded = decode(b'{"e":"avgPrice","E":1,"s":"BTCUSDT","i":"5m","w":"1","T":1}', SymbolCache(), 0)

    assert (decoded.events, decoded.unsupported) == ((), "avgPrice")


def test_an_array_of_unsupported_events_decodes_as_unsupported() -> None:
    decoded = decode(b'[{"e":"1hTicker","s":"BTCUSDT"}]', SymbolCache(), 0)

    assert (decoded.events, decoded.unsupported) == ((), "1hTicker")


def test_the_symbol_cache_reuses_validated_symbols_up_to_its_limit() -> None:
    cache = SymbolCache(limit=1)

    first, again, other = cache("BTCUSDT"), cache("BTCUSDT"), cache("ETHUSDT")

    assert first is again
    assert other == Symbol("ETHUSDT")
    assert cache("ETHUSDT") is not other  # beyond the limit, nothing more is kept
