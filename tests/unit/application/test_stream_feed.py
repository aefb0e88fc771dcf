"""``collect`` over streams: ``Collector`` with ``StreamFeed`` on the fake exchange and its stream.

The fake stream's sleep moves the fake clock a second per tick and stops the collector at the end the test
wants; the REST fallback's sleep only yields, so it polls while the stream is down and the clock runs on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

import attrs
import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from adapters.memory.streams import FakeMarketStream
from adapters.sqlite import SqliteMarketDataStore
from application.collector import Collector
from application.stream_feed import StreamFeed, streaming_feed
from application.streaming import MarketStreamService
from domain import (
    GatewayError,
    Interval,
    IPBannedError,
    StorageError,
    StreamConnection,
    StreamEvent,
    StreamStats,
    StreamTopic,
    Symbol,
)
from ports import MarketStreamPort
from tests.unit.application.conftest import NOW_MS

BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")
M1 = Interval.MINUTE_1
MINUTE_MS = 60_000


@pytest.fixture
def fake(clock: FakeClock) -> FakeExchange:
    return FakeExchange(clock)


@attrs.define
class Ticks:
    """The fake stream's sleep: a second of clock time per tick; stops the collector at ``until_ms``."""

    clock: FakeClock
    until_ms: int
    collector: Collector | None = None
    #: Done once, on the first tick at or after ``at_ms``.
    at_ms: int | None = None
    action: Callable[[], None] | None = None

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(round(seconds * 1000))
        now = self.clock.now_ms()
        action = self.action
        if self.at_ms is not None and now >= self.at_ms and action is not None:
            self.action = None
            action()
        if now >= self.until_ms and self.collector is not None:
            self.collector.stop()
        await asyncio.sleep(0.001)  # a little real time, for the fallback's timer


async def _yield(_seconds: float) -> None:
    await asyncio.sleep(0)


@attrs.define
class Run:
    collector: Collector
    stream: FakeMarketStream
    feeds: list[StreamFeed]


def _collector(
    fake: FakeExchange,
    store: SqliteMarketDataStore,
    clock: FakeClock,
    stream: MarketStreamPort,
    *,
    fallback_after_s: float = 0.0,
) -> tuple[Collector, list[StreamFeed]]:
    service = MarketStreamService(stream, fake, clock)
    build = streaming_feed(service, fake, [BTC, ETH], [M1], fallback_after_s=fallback_after_s, sleep=_yield)
    feeds: list[StreamFeed] = []

    def feed(cadence: object, now_ms: object) -> StreamFeed:
        made = build(cadence, now_ms)  # type: ignore[arg-type]
        assert isinstance(made, StreamFeed)
        feeds.append(made)
        return made

    collector = Collector(fake, store, clock, [BTC, ETH], [M1], feed=feed, sleep=_yield)
    return collector, feeds


async def _complete(store: SqliteMarketDataStore, fake: FakeExchange, clock: FakeClock) -> int:
    """Every stored series equals the fake's REST series up to the newest closed candle; returns candles."""
    end = M1.open_time_ms(M1.open_time_ms(clock.now_ms()) - 1)
    total = 0
    for symbol in (BTC, ETH):
        stored = await store.load_klines(symbol, M1)
        assert stored, f"nothing stored for {symbol}"
        assert stored[-1].open_time_ms >= end - MINUTE_MS
        reference = []
        cursor = stored[0].open_time_ms
        while cursor <= stored[-1].open_time_ms:
            page = await fake.get_kline_data(
                symbol, M1, start_ms=cursor, end_ms=stored[-1].open_time_ms, limit=1000
            )
            reference.extend(page)
            cursor = page[-1].open_time_ms + MINUTE_MS
        assert stored == reference
        total += len(stored)
    return total


async def test_collecting_from_the_stream_stores_candles_and_prices_without_polling(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    ticks = Ticks(clock, NOW_MS + 5 * MINUTE_MS)
    stream = FakeMarketStream(clock, sleep=ticks)
    collector, feeds = _collector(fake, store, clock, stream, fallback_after_s=60)
    ticks.collector = collector

    stats = await asyncio.wait_for(collector.run(), 10)

    assert await _complete(store, fake, clock) >= 2 * 1000
    assert fake.calls["get_symbol_tickers"] == 0  # prices came from the mini tickers
    assert stats.prices_stored > 0
    assert (await store.load_price_ticks(BTC))[-1].as_of_ms <= clock.now_ms()
    assert feeds[0].fallbacks == 0
    assert feeds[0].stream_error is None


async def test_rest_polls_while_the_stream_is_down_and_stops_when_it_is_back(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    ticks = Ticks(clock, NOW_MS + 12 * MINUTE_MS)
    stream = FakeMarketStream(clock, sleep=ticks)
    collector, feeds = _collector(fake, store, clock, stream, fallback_after_s=0.05)
    ticks.collector = collector

    ticks.at_ms, ticks.action = NOW_MS + 2 * MINUTE_MS, lambda: stream.disconnect(6 * MINUTE_MS)

    await asyncio.wait_for(collector.run(), 10)

    assert feeds[0].fallbacks == 1
    assert not feeds[0].falling_back
    assert fake.calls["get_symbol_tickers"] > 0  # the poller filled in for the stream
    assert await _complete(store, fake, clock) > 2 * 1000


class RefusedStream(MarketStreamPort):
    """A stream the exchange refuses for good."""

    def __init__(self, error: GatewayError) -> None:
        self.error = error
        self.closed = False

    async def subscribe(self, topics: Iterable[StreamTopic]) -> None:
        return None

    def events(self) -> AsyncIterator[StreamEvent]:
        return self

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self

    async def __anext__(self) -> StreamEvent:
        raise self.error

    def stream_connections(self) -> Sequence[StreamConnection]:
        return ()

    def stats(self) -> StreamStats:
        return StreamStats()

    async def close(self) -> None:
        self.closed = True


async def test_a_stream_refused_for_good_leaves_rest_polling_until_stopped(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    stream = RefusedStream(IPBannedError("banned", banned_until_ms=NOW_MS + 60_000))
    collector, feeds = _collector(fake, store, clock, stream, fallback_after_s=60)

    async def stop_after_a_poll() -> None:
        while fake.calls["get_symbol_tickers"] < 2:
            clock.advance(1000)
            await asyncio.sleep(0)
        collector.stop()

    stopper = asyncio.ensure_future(stop_after_a_poll())
    await asyncio.wait_for(collector.run(), 10)
    await stopper

    assert isinstance(feeds[0].stream_error, IPBannedError)
    assert feeds[0].fallbacks == 1
    assert stream.closed


async def test_a_storage_failure_is_not_taken_for_a_stream_failure(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    collector, _ = _collector(fake, store, clock, RefusedStream(StorageError("disk full")))

    with pytest.raises(StorageError, match="disk full"):
        await asyncio.wait_for(collector.run(), 10)
