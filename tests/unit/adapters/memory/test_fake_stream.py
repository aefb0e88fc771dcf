"""The fake stream agrees with the fake exchange's REST answers, plays lost connections, and is bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from adapters.memory.streams import FakeMarketStream
from domain import (
    AggTradeEvent,
    BookTickerEvent,
    ConfigurationError,
    DisconnectReason,
    Interval,
    InvalidSymbolError,
    KlineEvent,
    MiniTickerEvent,
    StreamConnected,
    StreamDisconnected,
    StreamEvent,
    StreamReconnecting,
    StreamTopic,
    Symbol,
    TickerEvent,
    TradeEvent,
)

#: 2026-01-15T12:34:56.789Z
NOW_MS = 1_768_480_496_789
BTC = Symbol("BTCUSDT")
M1 = Interval.MINUTE_1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW_MS)


def _stream(clock: FakeClock, **options: object) -> FakeMarketStream:
    async def tick(seconds: float) -> None:
        clock.advance(round(seconds * 1000))
        await asyncio.sleep(0)

    return FakeMarketStream(clock, sleep=tick, **options)  # type: ignore[arg-type]


async def _take(events: AsyncIterator[StreamEvent], count: int) -> list[StreamEvent]:
    taken: list[StreamEvent] = []
    async for event in events:
        taken.append(event)
        if len(taken) == count:
            break
    return taken


async def test_every_event_agrees_with_the_fake_exchange_at_its_time(clock: FakeClock) -> None:
    stream = _stream(clock)
    fake = FakeExchange(FakeClock(NOW_MS))
    await stream.subscribe(
        [
            *StreamTopic.book_tickers([BTC]),
            *StreamTopic.mini_tickers([BTC]),
            *StreamTopic.tickers([BTC]),
            *StreamTopic.trades([BTC]),
            *StreamTopic.agg_trades([BTC]),
        ]
    )
    events = await _take(stream.events(), 40)
    await stream.close()

    at = FakeClock(NOW_MS - NOW_MS % 1000)
    reference = FakeExchange(at)
    first_second = [
        e for e in events[1:] if getattr(e, "event_time_ms", getattr(e, "received_ms", None)) == at.now_ms()
    ]
    assert isinstance(events[0], StreamConnected)
    book = next(e for e in first_second if isinstance(e, BookTickerEvent))
    assert book.as_book_ticker().bid_price == (await reference.get_book_ticker(BTC)).bid_price
    mini = next(e for e in first_second if isinstance(e, MiniTickerEvent))
    day = await reference.get_ticker_24h(BTC)
    assert (mini.close, mini.open, mini.volume) == (day.last_price, day.open_price, day.volume)
    ticker = next(e for e in first_second if isinstance(e, TickerEvent))
    assert ticker.ticker == day
    trade = next(e for e in first_second if isinstance(e, TradeEvent))
    assert trade.price == (await reference.get_symbol_ticker(BTC)).price
    assert any(isinstance(e, AggTradeEvent) for e in first_second)
    trade_ids = [e.trade_id for e in events if isinstance(e, TradeEvent)]
    assert trade_ids == sorted(set(trade_ids))
    assert fake.calls == {}  # the stream never calls the exchange's REST side


async def test_a_closed_candle_is_the_candle_rest_returns(clock: FakeClock) -> None:
    stream = _stream(clock)
    await stream.subscribe(StreamTopic.klines([BTC], M1))
    closed: list[KlineEvent] = []
    async for event in stream.events():
        if isinstance(event, KlineEvent) and event.is_closed:
            closed.append(event)
            if len(closed) == 3:
                break
    await stream.close()

    fake = FakeExchange(clock)
    rest = await fake.get_kline_data(BTC, M1, start_ms=closed[0].open_time_ms, end_ms=closed[-1].open_time_ms)
    assert [e.kline for e in closed] == rest
    assert [e.event_time_ms - e.kline.close_time_ms for e in closed] == [1, 1, 1]


async def test_a_lost_connection_is_reported_and_its_events_are_missing(clock: FakeClock) -> None:
    stream = _stream(clock)
    await stream.subscribe(StreamTopic.book_tickers([BTC]))
    events = stream.events()
    before_loss = await _take(events, 3)
    stream.disconnect(10_000)
    after = before_loss + await _take(events, 20)
    await stream.close()

    down = next(i for i, e in enumerate(after) if isinstance(e, StreamDisconnected))
    kinds = [type(e) for e in after[down - 1 : down + 4]]
    assert kinds == [
        BookTickerEvent,
        StreamDisconnected,
        StreamReconnecting,
        StreamConnected,
        BookTickerEvent,
    ]
    lost, before, back = after[down], after[down - 1], after[down + 3]
    assert isinstance(lost, StreamDisconnected)
    assert lost.reason is DisconnectReason.NETWORK_ERROR
    assert isinstance(before, BookTickerEvent)
    assert isinstance(back, BookTickerEvent)
    assert back.received_ms - before.received_ms >= 10_000
    assert stream.stats().reconnects == {"network_error": 1}


async def test_the_buffer_is_bounded_the_producer_waits(clock: FakeClock) -> None:
    stream = _stream(clock, buffer_size=5)
    await stream.subscribe(StreamTopic.book_tickers([BTC]))
    await asyncio.sleep(0.01)  # no one reads

    assert stream.stats().buffered == 5
    assert stream.stats().received == 6  # five waiting and one held by the waiting producer
    await stream.close()


async def test_unknown_symbols_are_refused_and_a_closed_stream_takes_no_topics(clock: FakeClock) -> None:
    stream = _stream(clock)

    with pytest.raises(InvalidSymbolError, match="NOPEUSDT"):
        await stream.subscribe(StreamTopic.trades([Symbol("NOPEUSDT")]))
    await stream.close()
    await stream.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await stream.subscribe(StreamTopic.trades([BTC]))
    assert [e async for e in stream.events()] == []


def test_ticks_must_be_positive(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FakeMarketStream(clock, tick_ms=0)
