"""The stream adapter against the loopback exchange's WebSocket endpoint, and continuous collection on top.

Server time is a ``ManualTime`` the test moves one second at a time (``Driver``); every step publishes the
events of that second. The client reads the same clock, so candles close for both at once. Connection
timings (silence, backoff, lifetime) are real but a fraction of a second, so no test sleeps for long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.binance import BinanceRestAdapter, BinanceSettings, RetryPolicy, new_http_client
from adapters.sqlite import SqliteMarketDataStore
from adapters.streams import BinanceStreamAdapter, StreamSettings
from application.collector import Collector
from application.collector_stats import CollectorStats
from application.feed import FeedSink, MarketFeed
from application.rest_poller import RestPoller
from application.stream_feed import StreamFeed
from application.streaming import MarketStreamService
from domain import Interval, Kline, PriceQuote, Symbol
from ports import Clock
from tests.loopback import LoopbackExchange, ManualTime
from tests.loopback.streams import StreamHub

#: 2026-01-01 00:00:30 UTC: half a minute into a candle.
START_MS = 1_767_225_630_000
SYMBOLS = (Symbol("BTCUSDT"), Symbol("ETHUSDT"))
MINUTE = Interval.MINUTE_1


class ManualClock(Clock):
    """The client's clock: the server's manual time for readings, the real monotonic clock for timers."""

    def __init__(self, source: ManualTime) -> None:
        self._source = source

    def now_ms(self) -> int:
        return int(self._source())

    def monotonic(self) -> float:
        return time.monotonic()


class Driver:
    """Moves server time forward a second at a time, publishing each second's events."""

    def __init__(self, source: ManualTime, hub: StreamHub) -> None:
        self.source = source
        self.hub = hub

    async def step(self, pause_s: float = 0.001) -> None:
        self.source.advance(1000)
        await self.hub.publish()
        await asyncio.sleep(pause_s)

    async def run(self, seconds: int, pause_s: float = 0.001) -> None:
        for _ in range(seconds):
            await self.step(pause_s)

    async def until(
        self, predicate: Callable[[], bool], *, limit_s: float = 10.0, pause_s: float = 0.005
    ) -> int:
        """Step until ``predicate()`` holds; returns the server seconds it took."""
        deadline = time.monotonic() + limit_s
        steps = 0
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"gave up after {steps} server seconds and {limit_s} s waiting")
            await self.step(pause_s)
            steps += 1
        return steps


async def settle(predicate: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Wait (real time, in short sleeps) for the client to catch up."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"the client did not catch up within {limit_s} s")
        await asyncio.sleep(0.005)


FAST = {
    "silence_timeout_s": 1.0,
    "reconnect_base_s": 0.01,
    "reconnect_max_s": 0.05,
    "stable_after_s": 0.0,
    "handover_timeout_s": 2.0,
    "connect_timeout_s": 2.0,
    "close_timeout_s": 0.5,
}


@pytest.fixture
def market_time() -> ManualTime:
    return ManualTime(START_MS)


@pytest.fixture
def clock(market_time: ManualTime) -> ManualClock:
    return ManualClock(market_time)


@pytest.fixture
def hub() -> StreamHub:
    return StreamHub()


@pytest.fixture
async def exchange(market_time: ManualTime, hub: StreamHub) -> AsyncIterator[LoopbackExchange]:
    async with LoopbackExchange(time_source=market_time, route_modules=(hub.register,)) as running:
        yield running


@pytest.fixture
def driver(market_time: ManualTime, hub: StreamHub) -> Driver:
    return Driver(market_time, hub)


@pytest.fixture
async def rest(exchange: LoopbackExchange) -> AsyncIterator[BinanceRestAdapter]:
    settings = BinanceSettings.from_mapping(
        {"base_url": exchange.base_url, "read_timeout": 2.0, "connect_timeout": 1.0}
    )
    http = new_http_client(connect_timeout=1.0, read_timeout=2.0, pool_timeout=1.0)
    adapter = BinanceRestAdapter(http, settings, retry=RetryPolicy.instant())
    yield adapter
    await adapter.aclose()


StreamFactory = Callable[..., BinanceStreamAdapter]


@pytest.fixture
async def make_stream(
    exchange: LoopbackExchange, hub: StreamHub, clock: ManualClock
) -> AsyncIterator[StreamFactory]:
    made: list[BinanceStreamAdapter] = []

    def make(**overrides: Any) -> BinanceStreamAdapter:
        options = {"url": hub.url, **FAST, **overrides}
        extras = {name: options.pop(name) for name in ("on_state", "telemetry", "rng") if name in options}
        adapter = BinanceStreamAdapter(StreamSettings(**options), clock, **extras)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.close()


class SpySink(FeedSink):
    """Passes everything to the collector and records each live candle handed over."""

    def __init__(self, inner: FeedSink) -> None:
        self.inner = inner
        self.live: list[Kline] = []

    def resume_from(self, symbol: Symbol, interval: Interval) -> int:
        return self.inner.resume_from(symbol, interval)

    async def on_prices(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> None:
        await self.inner.on_prices(quotes, now_ms=now_ms)

    async def on_klines(
        self,
        symbol: Symbol,
        interval: Interval,
        klines: Sequence[Kline],
        *,
        now_ms: int,
        since_ms: int | None,
    ) -> None:
        if since_ms is None:
            self.live.extend(klines)
        await self.inner.on_klines(symbol, interval, klines, now_ms=now_ms, since_ms=since_ms)

    def on_failure(self, error: Any, symbol: Symbol | None = None, interval: Interval | None = None) -> None:
        self.inner.on_failure(error, symbol, interval)


class _SpyFeed(MarketFeed):
    def __init__(self, inner: MarketFeed, spy: list[SpySink]) -> None:
        self.inner = inner
        self.spy = spy

    async def run(self, sink: FeedSink, stop: asyncio.Event) -> None:
        wrapped = SpySink(sink)
        self.spy.append(wrapped)
        await self.inner.run(wrapped, stop)


async def _fast_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


class Collection:
    """``Collector`` over ``StreamFeed`` (REST fallback) into a SQLite store: the ``collect`` pipeline."""

    def __init__(
        self,
        exchange: LoopbackExchange,
        rest: BinanceRestAdapter,
        stream: BinanceStreamAdapter,
        store: SqliteMarketDataStore,
        clock: ManualClock,
    ) -> None:
        self.exchange = exchange
        self.rest = rest
        self.stream = stream
        self.store = store
        self.clock = clock
        self.service = MarketStreamService(stream, rest, clock)
        self.feeds: list[StreamFeed] = []
        self.sinks: list[SpySink] = []
        self.collector = Collector(rest, store, clock, SYMBOLS, (MINUTE,), feed=self._feed, sleep=_fast_sleep)
        self.task: asyncio.Task[CollectorStats] | None = None

    def _feed(self, cadence: Any, now_ms: Callable[[], int]) -> MarketFeed:
        fallback = RestPoller(self.rest, SYMBOLS, (MINUTE,), cadence, now_ms, sleep=_fast_sleep)
        feed = StreamFeed(
            self.service,
            SYMBOLS,
            (MINUTE,),
            now_ms,
            fallback=fallback,
            fallback_after_s=0.2,
            price_every_ms=20,
        )
        self.feeds.append(feed)
        return _SpyFeed(feed, self.sinks)

    async def start(self, hub: StreamHub) -> None:
        self.task = asyncio.ensure_future(self.collector.run())
        await hub.wait_for(lambda: len(hub.open_connections) == 1)

    async def stop(self) -> CollectorStats:
        assert self.task is not None
        self.collector.stop()
        return await asyncio.wait_for(self.task, 10)

    def newest_closed_open(self) -> int:
        now = self.clock.now_ms()
        return MINUTE.open_time_ms(MINUTE.open_time_ms(now) - 1)

    def live_opens(self, symbol: Symbol) -> list[int]:
        return [k.open_time_ms for sink in self.sinks for k in sink.live if k.symbol == symbol]

    async def caught_up(self) -> None:
        """Until every symbol's newest closed candle has reached the collector."""
        target = self.newest_closed_open()
        await settle(lambda: all(target in self.live_opens(symbol) for symbol in SYMBOLS))

    async def assert_complete(self, since_ms: int) -> int:
        """The stored series equals the exchange's REST series candle by candle, from ``since_ms`` to the
        newest closed candle; every candle handed over live arrived once. Returns the candles checked."""
        end = self.newest_closed_open()
        checked = 0
        for symbol in SYMBOLS:
            stored = await self.store.load_klines(symbol, MINUTE, since_ms, end)
            reference = self.exchange.kline_series(str(symbol), "1m", start_ms=since_ms, end_ms=end)
            assert [k.open_time_ms for k in stored] == [row[0] for row in reference]
            for kline, row in zip(stored, reference, strict=True):
                assert _row(kline) == _reference(row), f"{symbol} candle {kline.open_time_ms} differs"
            live = [t for t in self.live_opens(symbol) if t >= since_ms]
            assert len(live) == len(set(live)), f"{symbol}: a candle was handed over twice"
            assert live == sorted(live)
            checked += len(stored)
        return checked


def _row(kline: Kline) -> tuple[object, ...]:
    return (
        kline.open_time_ms,
        kline.open,
        kline.high,
        kline.low,
        kline.close,
        kline.volume,
        kline.close_time_ms,
        kline.quote_volume,
        kline.trade_count,
        kline.taker_buy_base_volume,
        kline.taker_buy_quote_volume,
    )


def _reference(row: list[Any]) -> tuple[object, ...]:
    return (
        row[0],
        Decimal(row[1]),
        Decimal(row[2]),
        Decimal(row[3]),
        Decimal(row[4]),
        Decimal(row[5]),
        row[6],
        Decimal(row[7]),
        row[8],
        Decimal(row[9]),
        Decimal(row[10]),
    )


CollectionFactory = Callable[..., Awaitable[Collection]]


@pytest.fixture
async def make_collection(
    exchange: LoopbackExchange,
    rest: BinanceRestAdapter,
    make_stream: StreamFactory,
    clock: ManualClock,
    tmp_path: Path,
) -> AsyncIterator[CollectionFactory]:
    """``await make(**stream_settings)``: a collection pipeline whose stream adapter has those settings."""
    made: list[tuple[Collection, SqliteMarketDataStore]] = []

    async def make(**stream_settings: Any) -> Collection:
        store = await SqliteMarketDataStore.open(tmp_path / f"collect-{len(made)}.sqlite3")
        running = Collection(exchange, rest, make_stream(**stream_settings), store, clock)
        made.append((running, store))
        return running

    yield make
    for running, store in made:
        if running.task is not None and not running.task.done():
            running.collector.stop()
            await asyncio.wait_for(asyncio.gather(running.task, return_exceptions=True), 10)
        await store.aclose()


@pytest.fixture
async def collection(make_collection: CollectionFactory) -> Collection:
    return await make_collection()
