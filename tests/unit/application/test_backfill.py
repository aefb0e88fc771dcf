"""``BackfillService`` on the fake exchange and a real SQLite file: plans from the store, resumes, reports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from adapters.sqlite import SqliteMarketDataStore
from application.backfill import BackfillService
from application.backfill_report import BackfillProgress, GapKind
from domain import (
    DataKind,
    ExchangeUnavailableError,
    Interval,
    InvalidInputError,
    InvalidRequestError,
    InvalidSymbolError,
    IPBannedError,
    Kline,
    NetworkError,
    Symbol,
)
from domain.validators import Reason, check_kline_series
from tests.unit.application.conftest import NOW_MS
from tests.unit.application.corrupting import CorruptingMarket, replace_kline

BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")
M1, M5 = Interval.MINUTE_1, Interval.MINUTE_5
HOUR_MS = 3_600_000
#: A whole hour 60 hours before the clock; the range is 3,000 one-minute candles, ending 10 hours ago.
SINCE_MS = (NOW_MS // HOUR_MS - 60) * HOUR_MS
UNTIL_MS = SINCE_MS + 3_000 * 60_000


@pytest.fixture
def fake(clock: FakeClock) -> FakeExchange:
    return FakeExchange(clock)


def service(
    fake: FakeExchange,
    store: SqliteMarketDataStore,
    clock: FakeClock,
    *,
    concurrency: int = 8,
    extra_passes: int = 1,
) -> BackfillService:
    return BackfillService(fake, store, clock, concurrency=concurrency, extra_passes=extra_passes)


async def test_a_range_is_fetched_stored_and_reported_complete(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    report = await service(fake, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    (series,) = report.series
    assert (series.expected, series.planned, series.stored, series.gaps) == (3_000, 3_000, 3_000, ())
    assert report.complete
    assert report.exit_code == 0
    assert series.requests == fake.calls["get_kline_data"] == 3
    stored = await store.load_klines(BTC, M1, SINCE_MS, UNTIL_MS)
    assert check_kline_series(stored, M1, symbol=BTC, start_ms=SINCE_MS, end_ms=UNTIL_MS - 1).ok
    assert stored == await fake.get_kline_data(
        BTC, M1, SINCE_MS, UNTIL_MS - 1, limit=1000
    ) + await fake.get_kline_data(
        BTC, M1, SINCE_MS + 1_000 * 60_000, UNTIL_MS - 1, limit=1000
    ) + await fake.get_kline_data(BTC, M1, SINCE_MS + 2_000 * 60_000, UNTIL_MS - 1, limit=1000)


async def test_a_second_run_fetches_nothing_and_stores_no_duplicate(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    await service(fake, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)
    before = fake.calls["get_kline_data"]

    report = await service(fake, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    (series,) = report.series
    assert (series.already_stored, series.planned, series.stored, series.requests) == (3_000, 0, 0, 0)
    assert fake.calls["get_kline_data"] == before
    assert (await store.kline_coverage(BTC, M1, SINCE_MS, UNTIL_MS - 1)).count == 3_000


async def test_only_the_missing_ranges_are_fetched(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    middle = await fake.get_kline_data(BTC, M1, SINCE_MS + 1_000 * 60_000, limit=1000)
    await store.save_klines(middle, now_ms=NOW_MS)

    report = await service(fake, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    (series,) = report.series
    assert (series.already_stored, series.planned, series.stored) == (1_000, 2_000, 2_000)
    assert series.requests == 2
    assert report.complete


async def test_without_an_end_the_range_stops_before_the_open_candle(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    since = M1.open_time_ms(NOW_MS) - 90 * 60_000

    report = await service(fake, store, clock).run([BTC], [M1], since)

    (series,) = report.series
    assert series.end_ms == M1.open_time_ms(NOW_MS) - 60_000
    assert (series.expected, series.stored) == (90, 90)
    assert report.complete
    assert (await store.load_klines(BTC, M1))[-1].close_time_ms < NOW_MS


async def test_several_symbols_and_intervals_in_one_run(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    report = await service(fake, store, clock).run(["BTCUSDT", "ethusdt"], ["1m", "5m"], SINCE_MS, UNTIL_MS)

    assert [(s.symbol, s.interval, s.stored) for s in report.series] == [
        (BTC, M1, 3_000),
        (BTC, M5, 600),
        (ETH, M1, 3_000),
        (ETH, M5, 600),
    ]
    assert report.stored == 7_200
    assert report.complete


async def test_time_before_the_listing_is_reported_empty_and_the_run_complete(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    listed_ms = int(datetime(2025, 12, 2, tzinfo=UTC).timestamp() * 1000)  # the test coin's listing
    coin = Symbol("这是测试币456")

    report = await service(fake, store, clock).run(
        [coin], [Interval.HOUR_1], listed_ms - 10 * HOUR_MS, listed_ms + 5 * HOUR_MS
    )

    (series,) = report.series
    assert series.stored == 5
    assert [(g.kind, g.start_ms, g.end_ms, g.count) for g in series.gaps] == [
        (GapKind.EMPTY, listed_ms - 10 * HOUR_MS, listed_ms - HOUR_MS, 10)
    ]
    assert report.complete
    assert report.exit_code == 0


async def test_a_failed_window_is_tried_again_after_the_others(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    fake.script.fail_next(ExchangeUnavailableError("busy", http_status=503), times=2, method="get_kline_data")

    report = await service(fake, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    assert report.complete
    assert report.series[0].stored == 3_000
    assert fake.calls["get_kline_data"] == 5


async def test_a_window_that_keeps_failing_is_reported_with_its_error_and_a_rerun_fills_it(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    fake.script.fail_next(NetworkError("connection reset"), times=1, method="get_kline_data")

    first = await service(fake, store, clock, extra_passes=0, concurrency=1).run(
        [BTC], [M1], SINCE_MS, UNTIL_MS
    )

    (gap,) = first.series[0].gaps
    assert (gap.kind, gap.start_ms, gap.count, gap.error_type) == (
        GapKind.FAILED,
        SINCE_MS,
        1_000,
        "NetworkError",
    )
    assert gap.error == "connection reset"
    assert not first.complete
    assert first.exit_code == NetworkError.exit_code

    second = await service(fake, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    assert (second.series[0].planned, second.series[0].stored, second.complete) == (1_000, 1_000, True)


async def test_a_ban_stops_the_run_and_every_remaining_window_names_it(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    fake.script.fail_next(
        IPBannedError("banned", banned_until_ms=NOW_MS + 60_000, http_status=418), method="get_kline_data"
    )

    report = await service(fake, store, clock, concurrency=1).run([BTC, ETH], [M1], SINCE_MS, UNTIL_MS)

    assert fake.calls["get_kline_data"] == 1
    assert [g.error_type for s in report.series for g in s.gaps] == ["IPBannedError", "IPBannedError"]
    assert sum(s.missing for s in report.series) == 6_000
    assert report.exit_code == IPBannedError.exit_code


async def test_candles_that_fail_validation_are_counted_and_reported_as_rejected(
    store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    broken = CorruptingMarket(clock, klines=replace_kline(0, volume=Decimal(-1)))

    report = await BackfillService(broken, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    (series,) = report.series
    assert series.stored == 2_997
    assert series.rejected_by_reason == {Reason.NEGATIVE_QUANTITY: 3}
    assert {(g.kind, g.count, g.exit_code) for g in series.gaps} == {(GapKind.REJECTED, 1, 7)}
    assert [g.start_ms for g in series.gaps] == [SINCE_MS + i * 60_000 for i in (0, 1_000, 2_000)]
    assert report.exit_code == 7
    (counted,) = await store.rejection_counts(DataKind.KLINE, BTC, M1)
    assert (counted.reason, counted.count) == (Reason.NEGATIVE_QUANTITY, 3)


async def test_candles_outside_the_window_are_dropped_and_counted(
    store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    def shift(page: list[Kline]) -> list[Kline]:
        return [*page, *([_moved(page[-1], 60_000)] if page else [])]

    report = await BackfillService(CorruptingMarket(clock, klines=shift), store, clock).run(
        [BTC], [M1], SINCE_MS, SINCE_MS + 10 * 60_000
    )

    assert report.series[0].stored == 10
    assert report.series[0].rejected_by_reason == {Reason.WRONG_SERIES: 1}
    assert (await store.kline_coverage(BTC, M1)).count == 10


def _moved(kline: Kline, by_ms: int) -> Kline:
    return attrs.evolve(
        kline, open_time_ms=kline.open_time_ms + by_ms, close_time_ms=kline.close_time_ms + by_ms
    )


async def test_progress_reaches_the_total_and_ends_finished(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    events: list[BackfillProgress] = []

    await service(fake, store, clock).run([BTC, ETH], [M1], SINCE_MS, UNTIL_MS, on_progress=events.append)

    for symbol in (BTC, ETH):
        mine = [e for e in events if e.symbol == symbol]
        assert mine[0].done == 0
        assert [e.done for e in mine] == sorted(e.done for e in mine)
        assert (mine[-1].total, mine[-1].done, mine[-1].stored, mine[-1].finished) == (
            3_000,
            3_000,
            3_000,
            True,
        )


class _Counting(FakeExchange):
    """Counts how many kline requests are in flight at once."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.in_flight = 0
        self.most = 0

    async def get_kline_data(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> list[Kline]:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0)
            return await super().get_kline_data(symbol, interval, start_ms, end_ms, limit)
        finally:
            self.in_flight -= 1


async def test_windows_are_fetched_concurrently_within_the_bound(
    store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    market = _Counting(clock)

    await BackfillService(market, store, clock, concurrency=2).run(
        [BTC], [M1], SINCE_MS - 7_000 * 60_000, UNTIL_MS
    )

    assert market.most == 2


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (NOW_MS + 60_000, None, "in the future"),
        (SINCE_MS, SINCE_MS, "not after"),
        (-60_000, None, "before 1970"),
    ],
)
async def test_an_impossible_range_is_refused_before_any_candle(
    fake: FakeExchange,
    store: SqliteMarketDataStore,
    clock: FakeClock,
    since: int,
    until: int | None,
    message: str,
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await service(fake, store, clock).run([BTC], [M1], since, until)

    assert fake.calls["get_kline_data"] == 0


async def test_an_unknown_symbol_fails_before_any_candle(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    with pytest.raises(InvalidSymbolError):
        await service(fake, store, clock).run([BTC, "NOPEUSDT"], [M1], SINCE_MS, UNTIL_MS)

    assert fake.calls["get_kline_data"] == 0


@pytest.mark.parametrize(("symbols", "intervals"), [([], ["1m"]), (["BTCUSDT"], [])])
async def test_nothing_to_backfill_is_a_usage_error(
    fake: FakeExchange,
    store: SqliteMarketDataStore,
    clock: FakeClock,
    symbols: Sequence[str],
    intervals: Sequence[str],
) -> None:
    with pytest.raises(InvalidInputError, match="at least one"):
        await service(fake, store, clock).run(symbols, intervals, SINCE_MS)


async def test_one_series_is_repaired_at_the_time_the_caller_gives(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    report = await service(fake, store, clock).backfill_series(BTC, M1, SINCE_MS, UNTIL_MS - 1, now_ms=NOW_MS)

    assert (report.stored, report.complete) == (3_000, True)
    assert fake.calls["get_server_time"] == 0


async def test_a_refused_request_stops_its_series_and_the_others_go_on(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    refused = InvalidRequestError("Illegal characters found in parameter", code=-1100, http_status=400)
    fake.script.fail_next(refused, method="get_kline_data")

    report = await service(fake, store, clock, concurrency=1).run([BTC, ETH], [M1], SINCE_MS, UNTIL_MS)

    btc, eth = report.series
    assert [(g.kind, g.count, g.error_type) for g in btc.gaps] == [
        (GapKind.FAILED, 3_000, "InvalidRequestError")
    ]
    assert btc.requests == 1
    assert (eth.stored, eth.complete) == (3_000, True)
    assert report.exit_code == 2


async def test_a_window_the_exchange_answers_empty_is_reported_empty(
    store: SqliteMarketDataStore, clock: FakeClock
) -> None:
    def drop_the_second_page(page: list[Kline]) -> list[Kline]:
        return [] if page and page[0].open_time_ms == SINCE_MS + 1_000 * 60_000 else page

    market = CorruptingMarket(clock, klines=drop_the_second_page)

    report = await BackfillService(market, store, clock).run([BTC], [M1], SINCE_MS, UNTIL_MS)

    (series,) = report.series
    assert [(g.kind, g.start_ms, g.count) for g in series.gaps] == [
        (GapKind.EMPTY, SINCE_MS + 1_000 * 60_000, 1_000)
    ]
    assert report.complete


@pytest.mark.parametrize("settings", [{"concurrency": 0}, {"extra_passes": -1}, {"page_size": 1001}])
def test_impossible_settings_are_refused(
    fake: FakeExchange, store: SqliteMarketDataStore, clock: FakeClock, settings: dict[str, int]
) -> None:
    with pytest.raises(ValueError, match="bad backfill settings"):
        BackfillService(fake, store, clock, **settings)  # type: ignore[arg-type]
