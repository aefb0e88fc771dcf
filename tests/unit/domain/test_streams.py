"""Stream topics and events: what they hold and what they derive."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain import (
    BookTickerEvent,
    ConnectionState,
    DisconnectReason,
    Interval,
    MiniTickerEvent,
    PriceQuote,
    StreamConnected,
    StreamDisconnected,
    StreamKind,
    StreamReconnecting,
    StreamStats,
    StreamTopic,
    Symbol,
    TradeEvent,
)

BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")


def test_topic_constructors_make_one_topic_per_symbol() -> None:
    assert StreamTopic.trades([BTC, ETH]) == (
        StreamTopic(StreamKind.TRADE, BTC),
        StreamTopic(StreamKind.TRADE, ETH),
    )
    assert StreamTopic.klines([BTC], Interval.MINUTE_5) == (
        StreamTopic(StreamKind.KLINE, BTC, Interval.MINUTE_5),
    )
    kinds = [
        StreamTopic.agg_trades([BTC])[0].kind,
        StreamTopic.mini_tickers([BTC])[0].kind,
        StreamTopic.tickers([BTC])[0].kind,
        StreamTopic.book_tickers([BTC])[0].kind,
    ]
    assert kinds == [StreamKind.AGG_TRADE, StreamKind.MINI_TICKER, StreamKind.TICKER, StreamKind.BOOK_TICKER]


@pytest.mark.parametrize(
    ("kind", "interval"), [(StreamKind.KLINE, None), (StreamKind.TRADE, Interval.MINUTE_1)]
)
def test_a_kline_topic_needs_an_interval_and_no_other_takes_one(
    kind: StreamKind, interval: Interval | None
) -> None:
    with pytest.raises(ValueError, match="interval"):
        StreamTopic(kind, BTC, interval)


def test_topics_are_values_usable_as_keys() -> None:
    assert len({*StreamTopic.trades([BTC]), *StreamTopic.trades([BTC])}) == 1


def test_mini_ticker_change_and_quote() -> None:
    event = MiniTickerEvent(
        BTC, Decimal(110), Decimal(100), Decimal(120), Decimal(90), Decimal(5), Decimal(500), 7
    )

    assert event.price_change == Decimal(10)
    assert event.price_change_percent == Decimal(10)
    assert event.as_quote() == PriceQuote(BTC, Decimal(110), 7)


def test_mini_ticker_change_percent_is_none_when_the_window_opened_at_zero() -> None:
    event = MiniTickerEvent(BTC, Decimal(1), Decimal(0), Decimal(1), Decimal(0), Decimal(1), Decimal(1), 1)

    assert event.price_change_percent is None


def test_trade_and_book_ticker_convert_to_market_values() -> None:
    trade = TradeEvent(BTC, 5, Decimal("1.5"), Decimal(2), 100, 101, buyer_is_maker=True)
    book = BookTickerEvent(BTC, 9, Decimal(1), Decimal(2), Decimal(3), Decimal(4), 55)

    assert trade.as_quote() == PriceQuote(BTC, Decimal("1.5"), 100)
    ticker = book.as_book_ticker()
    assert (ticker.update_id, ticker.as_of_ms, ticker.spread) == (9, 55, Decimal(2))


def test_connection_events_carry_their_state() -> None:
    assert StreamConnected("s", 1, 3).state is ConnectionState.CONNECTED
    assert StreamDisconnected("s", 1, DisconnectReason.SILENCE).state is ConnectionState.DISCONNECTED
    assert StreamReconnecting("s", 1, 2, 0.5, DisconnectReason.LIFETIME).state is ConnectionState.RECONNECTING


def test_stats_are_hashable_despite_their_counts() -> None:
    assert hash(StreamStats(shed={"bookTicker": 2})) == hash(StreamStats(shed={"bookTicker": 3}))
