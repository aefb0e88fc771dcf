"""``Collector`` with the REST poller on the fake exchange, a fake clock and a real SQLite file.

The poller's sleep advances the fake clock, so minutes of collection run in milliseconds; the test stops
the collector from that sleep once the clock reaches the end it wants.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs
import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from adapters.sqlite import SqliteMarketDataStore
from application.cadence import Cadence, WeightBudget
from application.collector import Collector
from application.data_quality import DataQualityMetrics
from application.feed import FeedSink, MarketFeed
from domain import (
    DataFreshness,
    Interval,
    InvalidInputError,
    InvalidSymbolError,
    NetworkError,
    PriceQuote,
    RateLimit,
    Symbol,
)
from domain.validators import Reason
from tests.unit.application.conftest import NOW_MS
from tests.unit.application.corrupting import CorruptingMarket

BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")
M1, S1 = Interval.MINUTE_1, Interval.SECOND_1
MINUTE_MS = 60_000


@pytest.fixture
def fake(clock: FakeClock) -> FakeExchange:
    return FakeExchange(clock)


@attrs.define
class Ticker:
    """The poller's sleep: moves the fake clock, runs scheduled actions, stops the collector at ``until``."""

    clock: FakeClock
    until_ms: int
    collector: Collector | None = None
    at: list[tuple[int, Callable[[], None]]] = attrs.field(factory=list)
    slept: list[float] = attrs.field(factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(max(1, round(seconds * 1000)))
        now = self.clock.now_ms()
        for when, action in [item for item in self.at if item[0] <= now]:
            self.at.remove((when, action))
            action()
        if now >= self.until_ms and self.collector is not None:
            self.collector.stop()
        await asyncio.sleep(0)


def collector(
    market: FakeExchange,
    store: SqliteMarketDataStore,
    clock: FakeClock,
    minutes: float,
    symbols: Sequence[Symbol] = (BTC,),
    intervals: Sequence[Interval] = (M1,),
    **options: object,
) -> tuple[Collector, Ticker]:
    ticker = Ticker(clock, clock.now_ms() + round(minutes * MINUTE_MS))
    built = Collector(market, store, clock, symbols, intervals, sleep=ticker, **options)  # type: ignore[arg-type]
    ticker.collector = built
    return built, ticker


async def assert_no_hole(store: SqliteMarketDataStore, symbol: Symbol, interval: Interval) -> int:
    coverage = await store.kline_coverage(symbol, interval)
    assert coverage.gaps == ()
    assert coverage.last_open_ms is not None
    return coverage.count


async def test_prices_and_candles_are_stored_as_they_arrive(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=5, symbols=(BTC, ETH))

    stats = await run.run()

    assert stats.price_polls == fake.calls["get_symbol_tickers"] >= 290
    for symbol in (BTC, ETH):
        assert (
            len(await store.load_price_ticks(symbol))
            == stats.symbols[symbol].prices_stored
            == stats.price_polls
        )
        assert await assert_no_hole(store, symbol, M1) == stats.series[(symbol, M1)].candles_stored == 999 + 5
        newest = await store.load_klines(symbol, M1, M1.open_time_ms(clock.now_ms()) - MINUTE_MS)
        assert [k.close_time_ms < clock.now_ms() for k in newest] == [True]
    assert (stats.gaps_found, stats.gaps_repaired) == (0, 0)
    # One kline request per closed candle: the first page, then one just after each candle closes.
    assert fake.calls["get_kline_data"] == 2 * 6


async def test_a_restart_continues_and_repairs_what_closed_while_it_was_stopped(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    first, _ = collector(fake, store, clock, minutes=3)
    await first.run()
    clock.advance(30 * MINUTE_MS)

    second, _ = collector(fake, store, clock, minutes=2)
    stats = await second.run()

    series = stats.series[(BTC, M1)]
    assert (series.gaps_found, series.gaps_repaired) == (1, 1)
    assert series.candles_stored == 30 + 2
    assert await assert_no_hole(store, BTC, M1) == 999 + 3 + 30 + 2


async def test_a_gap_longer_than_a_page_is_repaired_by_a_backfill(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    first, _ = collector(fake, store, clock, minutes=1)
    await first.run()
    clock.advance(2_500 * MINUTE_MS)

    second, _ = collector(fake, store, clock, minutes=1)
    stats = await second.run()

    series = stats.series[(BTC, M1)]
    assert (series.gaps_found, series.gaps_repaired) == (1, 1)
    assert series.candles_repaired == 2_500 - 1_000
    assert await assert_no_hole(store, BTC, M1) == 999 + 1 + 2_500 + 1


async def test_a_disconnect_is_a_gap_found_and_repaired_on_recovery(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, ticker = collector(fake, store, clock, minutes=8)
    outage = NetworkError("connection refused")
    ticker.at.append(
        (NOW_MS + 2 * MINUTE_MS, lambda: fake.script.fail_next(outage, times=3, method="get_kline_data"))
    )

    stats = await run.run()

    series = stats.series[(BTC, M1)]
    assert (series.failures, series.gaps_found, series.gaps_repaired) == (3, 1, 1)
    assert series.last_error == "NetworkError: connection refused"
    assert await assert_no_hole(store, BTC, M1) == 999 + 8


async def test_failed_price_requests_are_counted_and_collection_goes_on(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=1)
    fake.script.fail_next(NetworkError("reset"), times=2, method="get_symbol_tickers")

    stats = await run.run()

    assert stats.price_failures == 2
    assert stats.symbols[BTC].prices_stored == stats.price_polls
    assert stats.gaps_found == 0


async def test_live_candles_past_the_next_expected_one_are_a_gap_repaired_first(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    class Live(MarketFeed):
        async def run(self, sink: FeedSink, stop: asyncio.Event) -> None:
            start = sink.resume_from(BTC, M1)
            skipped_to = start + 10 * MINUTE_MS
            page = await fake.get_kline_data(BTC, M1, skipped_to, skipped_to)
            clock.advance(20 * MINUTE_MS)
            await sink.on_klines(BTC, M1, page, now_ms=clock.now_ms(), since_ms=None)

    run = Collector(fake, store, clock, [BTC], [M1], feed=lambda _cadence, _now: Live())

    stats = await run.run()

    series = stats.series[(BTC, M1)]
    assert series.gaps_found == 0  # nothing failed: the jump itself is repaired
    assert series.candles_repaired == 10
    assert await assert_no_hole(store, BTC, M1) == 10 + 1


async def test_one_second_candles_are_collected_too(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=0.5, intervals=(S1, M1))

    stats = await run.run()

    assert stats.series[(BTC, S1)].candles_stored >= 999 + 29
    await assert_no_hole(store, BTC, S1)
    await assert_no_hole(store, BTC, M1)


async def test_cancelling_the_run_keeps_everything_fetched(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, ticker = collector(fake, store, clock, minutes=60)
    task = asyncio.ensure_future(run.run())

    def cancel() -> None:
        task.cancel()

    ticker.at.append((NOW_MS + 3 * MINUTE_MS, cancel))

    with pytest.raises(asyncio.CancelledError):
        await task

    assert await assert_no_hole(store, BTC, M1) == run.stats.series[(BTC, M1)].candles_stored
    assert len(await store.load_price_ticks(BTC)) == run.stats.symbols[BTC].prices_stored > 0


async def test_rejected_prices_are_counted_by_reason_and_reported_to_the_quality_hook(
    store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    def zero_btc(quotes: list[PriceQuote]) -> list[PriceQuote]:
        return [attrs.evolve(q, price=Decimal(0)) if q.symbol == BTC else q for q in quotes]

    quality = DataQualityMetrics(clock)
    market = CorruptingMarket(clock, quotes=zero_btc)
    run, _ = collector(market, store, clock, minutes=0.1, symbols=(BTC, ETH), quality=quality)

    stats = await run.run()

    assert stats.symbols[BTC].rejected == {Reason.PRICE_NOT_POSITIVE: stats.price_polls}
    assert stats.symbols[BTC].prices_stored == 0
    assert stats.symbols[ETH].prices_stored == stats.price_polls
    fresh = {entry.symbol: entry for entry in await quality.data_freshness()}
    assert fresh[BTC].newest_price_ms is None
    assert fresh[ETH].newest_price_ms == stats.symbols[ETH].newest_price_ms is not None


async def test_freshness_is_the_age_of_the_newest_price_and_candle(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=2)

    stats = await run.run()

    (fresh,) = stats.freshness(clock.now_ms())
    assert fresh.symbol == BTC
    assert fresh.price_age_ms is not None
    assert 0 <= fresh.price_age_ms <= 1_000
    age = fresh.candle_age_ms[M1]
    assert age is not None
    assert 0 <= age <= MINUTE_MS
    assert await stats.data_freshness() == [
        DataFreshness(BTC, stats.symbols[BTC].newest_price_ms, stats.series[(BTC, M1)].newest_candle_ms)
    ]


async def test_a_stop_before_the_start_collects_nothing_but_checks_the_symbols(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=1)
    run.stop()

    stats = await run.run()

    assert (stats.price_polls, stats.candles_stored) == (0, 0)
    assert fake.calls["get_exchange_info"] == 1


async def test_an_unknown_symbol_fails_at_the_start(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=1, symbols=(BTC, Symbol("NOPEUSDT")))

    with pytest.raises(InvalidSymbolError):
        await run.run()


def test_nothing_to_collect_is_a_usage_error(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    with pytest.raises(InvalidInputError):
        Collector(fake, store, clock, [BTC], [])


async def test_the_cadence_follows_the_exchanges_limits(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    run, _ = collector(fake, store, clock, minutes=0.05)

    await run.run()

    assert isinstance(run.cadence, Cadence)
    assert run.cadence.stretch == 1.0
    assert run.cadence.kline_every_ms == {M1: MINUTE_MS}
    assert WeightBudget.from_rate_limits([RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000)]) == WeightBudget()


async def test_a_feed_that_cancels_a_delivery_mid_write_still_gets_it_stored_and_counted(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    class Cancelling(MarketFeed):
        """Like a stream feed shutting down: its consumer is cancelled while a delivery is being written."""

        async def run(self, sink: FeedSink, stop: asyncio.Event) -> None:
            quotes = await fake.get_symbol_tickers([BTC])
            page = await fake.get_kline_data(BTC, M1, sink.resume_from(BTC, M1), limit=1000)
            for delivery in (
                sink.on_prices(quotes, now_ms=clock.now_ms()),
                sink.on_klines(BTC, M1, page, now_ms=clock.now_ms(), since_ms=sink.resume_from(BTC, M1)),
            ):
                task = asyncio.ensure_future(delivery)
                await asyncio.sleep(0)  # the write has started
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task

    run = Collector(fake, store, clock, [BTC], [M1], feed=lambda _cadence, _now: Cancelling())

    stats = await run.run()

    assert stats.symbols[BTC].prices_stored == len(await store.load_price_ticks(BTC)) == 1
    assert stats.series[(BTC, M1)].candles_stored == (await store.kline_coverage(BTC, M1)).count == 999
    assert run.resume_from(BTC, M1) == M1.open_time_ms(NOW_MS)
