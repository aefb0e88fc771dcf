"""``KlineGapRepair`` and ``MarketStreamService`` on the fake exchange and its stream, with a fake clock.

The fake stream's sleep moves the fake clock one tick (a second) at a time, so an hour of streaming runs in
moments; ``disconnect`` plays a lost connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from adapters.memory.streams import FakeMarketStream
from application.streaming import KlineGapRepair, MarketStreamService
from domain import (
    DisconnectReason,
    Interval,
    Kline,
    KlineEvent,
    NetworkError,
    StreamDisconnected,
    StreamEvent,
    StreamTopic,
    Symbol,
)
from tests.unit.application.conftest import NOW_MS

BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")
M1 = Interval.MINUTE_1
MINUTE_MS = 60_000
OPEN = M1.open_time_ms(NOW_MS)  # the candle open at NOW_MS


@pytest.fixture
def fake(clock: FakeClock) -> FakeExchange:
    return FakeExchange(clock)


async def _candles(fake: FakeExchange, symbol: Symbol, start_ms: int, end_ms: int) -> list[Kline]:
    return await fake.get_kline_data(symbol, M1, start_ms=start_ms, end_ms=end_ms, limit=1000)


async def _event(fake: FakeExchange, clock: FakeClock, open_ms: int, *, closed: bool) -> KlineEvent:
    """The kline event the stream sends for the candle opening at ``open_ms``, as of the clock."""
    (kline,) = await _candles(fake, BTC, open_ms, open_ms)
    return KlineEvent(kline, is_closed=closed, event_time_ms=clock.now_ms())


# ---------------------------------------------------------------------------------------------- repair


async def test_the_first_event_starts_the_series_without_fetching(
    fake: FakeExchange, clock: FakeClock
) -> None:
    repair = KlineGapRepair(fake, clock)
    event = await _event(fake, clock, OPEN, closed=False)

    assert await repair.process(event) == [event]
    assert repair.next_open_ms(BTC, M1) == OPEN
    assert fake.calls["get_kline_data"] == 1  # the test's own call


async def test_candles_missed_before_an_event_are_fetched_and_delivered_first(
    fake: FakeExchange, clock: FakeClock
) -> None:
    repair = KlineGapRepair(fake, clock)
    repair.advance_to(BTC, M1, OPEN - 5 * MINUTE_MS)
    event = await _event(fake, clock, OPEN, closed=False)

    delivered = await repair.process(event)

    expected = await _candles(fake, BTC, OPEN - 5 * MINUTE_MS, OPEN - 1)
    assert [e.kline for e in delivered[:-1] if isinstance(e, KlineEvent)] == expected
    assert all(isinstance(e, KlineEvent) and e.is_closed and e.repaired for e in delivered[:-1])
    assert delivered[-1] == event
    assert (repair.repaired, repair.next_open_ms(BTC, M1)) == (5, OPEN)


async def test_a_closed_candle_moves_the_series_past_it_and_a_repeat_is_dropped(
    fake: FakeExchange, clock: FakeClock
) -> None:
    repair = KlineGapRepair(fake, clock)
    clock.advance(MINUTE_MS)
    closed = await _event(fake, clock, OPEN, closed=True)

    assert await repair.process(closed) == [closed]
    assert await repair.process(closed) == []
    assert await repair.process(await _event(fake, clock, OPEN, closed=False)) == []  # a stale update
    assert repair.duplicates == 1
    assert repair.next_open_ms(BTC, M1) == OPEN + MINUTE_MS


async def test_a_failed_fetch_holds_closed_candles_back_and_retries_after_a_while(
    fake: FakeExchange, clock: FakeClock
) -> None:
    repair = KlineGapRepair(fake, clock, retry_after_s=90)
    repair.advance_to(BTC, M1, OPEN - 2 * MINUTE_MS)
    update = await _event(fake, clock, OPEN, closed=False)
    fake.script.fail_next(NetworkError("down"), times=1, method="get_kline_data")

    assert await repair.process(update) == [update]  # open updates still flow
    clock.advance(MINUTE_MS)
    closed = await _event(fake, clock, OPEN, closed=True)
    calls = fake.calls["get_kline_data"]
    assert await repair.process(closed) == []  # held back: it comes with the fetch
    assert fake.calls["get_kline_data"] == calls  # not before retry_after_s

    clock.advance(30_000)  # 90 s after the failure
    delivered = await repair.process(closed)

    assert [e.open_time_ms for e in delivered if isinstance(e, KlineEvent)] == [
        OPEN - 2 * MINUTE_MS,
        OPEN - MINUTE_MS,
        OPEN,
    ]
    assert (repair.failures, repair.repaired) == (1, 2)


async def test_a_long_gap_is_fetched_page_by_page_up_to_the_cap(fake: FakeExchange, clock: FakeClock) -> None:
    repair = KlineGapRepair(fake, clock, max_candles=1500)
    repair.advance_to(BTC, M1, OPEN - 2500 * MINUTE_MS)

    delivered = await repair.process(await _event(fake, clock, OPEN, closed=False))

    opens = [e.open_time_ms for e in delivered[:-1] if isinstance(e, KlineEvent)]
    assert len(opens) == 2000  # two pages; the cap stops the third
    assert opens == list(range(OPEN - 2500 * MINUTE_MS, OPEN - 500 * MINUTE_MS, MINUTE_MS))


async def test_advance_to_only_moves_a_series_forward(fake: FakeExchange, clock: FakeClock) -> None:
    repair = KlineGapRepair(fake, clock)
    repair.advance_to(BTC, M1, OPEN)
    repair.advance_to(BTC, M1, OPEN - MINUTE_MS)

    assert repair.next_open_ms(BTC, M1) == OPEN
    assert repair.next_open_ms(ETH, M1) is None


async def test_other_events_pass_through(fake: FakeExchange, clock: FakeClock) -> None:
    event = StreamDisconnected("s", 1, DisconnectReason.SILENCE)

    assert await KlineGapRepair(fake, clock).process(event) == [event]


# ---------------------------------------------------------------------------------------------- the service


def _fast(clock: FakeClock) -> FakeMarketStream:
    async def tick(seconds: float) -> None:
        clock.advance(round(seconds * 1000))
        await asyncio.sleep(0)

    return FakeMarketStream(clock, sleep=tick)


async def _closed(events: AsyncIterator[StreamEvent], count: int) -> list[KlineEvent]:
    closed: list[KlineEvent] = []
    async for event in events:
        if isinstance(event, KlineEvent) and event.is_closed:
            closed.append(event)
            if len(closed) == count:
                break
    return closed


async def test_the_service_delivers_a_complete_series_across_a_lost_connection(
    fake: FakeExchange, clock: FakeClock
) -> None:
    stream = _fast(clock)
    service = MarketStreamService(stream, fake, clock)
    topics = [*StreamTopic.klines([BTC], M1), *StreamTopic.book_tickers([BTC])]
    events = service.events(topics)
    first = await _closed(events, 2)
    stream.disconnect(5 * MINUTE_MS)
    rest = await _closed(events, 8)
    await service.close()

    closed = first + rest
    opens = [e.open_time_ms for e in closed]
    assert opens == list(range(opens[0], opens[0] + 10 * MINUTE_MS, MINUTE_MS))
    assert [e.kline for e in closed] == await _candles(fake, BTC, opens[0], opens[-1])
    assert sum(e.repaired for e in closed) >= 4
    assert service.stats().reconnects == {"network_error": 1}
    assert [c.state.value for c in stream.stream_connections()] == ["disconnected"]


async def test_batches_hold_a_repaired_run_with_the_event_that_revealed_it(
    fake: FakeExchange, clock: FakeClock
) -> None:
    stream = _fast(clock)
    service = MarketStreamService(stream, fake, clock)
    service.repair.advance_to(BTC, M1, OPEN - 3 * MINUTE_MS)

    batches = service.batches(StreamTopic.klines([BTC], M1))
    kinds = []
    async for batch in batches:
        kinds.append([type(e).__name__ for e in batch])
        if any(isinstance(e, KlineEvent) for e in batch):
            break
    await service.close()

    assert kinds[0] == ["StreamConnected"]
    assert kinds[-1] == ["KlineEvent"] * 4  # three fetched, then the live update
