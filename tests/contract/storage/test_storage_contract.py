"""The storage contract: every ``MarketDataStore`` (SQLite, PostgreSQL) passes the same tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from domain import (
    DataKind,
    Interval,
    Kline,
    KlinePage,
    SchemaVersionError,
    StorageError,
    Symbol,
    build_kline_page,
)
from domain.kline_page import DECIMAL_FIELDS
from domain.storage import KLINE_FIELDS
from domain.validators import MissingRange, Reason
from ports.storage import MarketDataStore
from tests.contract.storage._data import (
    BTC,
    ETH,
    M1,
    NOW_MS,
    T0,
    account,
    candle,
    candles,
    minutes,
    quote,
    ticker,
    with_close,
)
from tests.contract.storage.conftest import Backend

# ---------------------------------------------------------------------------------------------- candles


async def test_saved_candles_load_back_exactly_and_in_order(store: MarketDataStore) -> None:
    series = candles(5)

    result = await store.save_klines(list(reversed(series)), now_ms=NOW_MS)

    assert (result.stored, result.updated, result.duplicates, result.rejected) == (5, 0, 0, 0)
    assert await store.load_klines(BTC, M1) == series
    assert (await store.load_klines(BTC, M1))[0].taker_buy_quote_volume == Decimal(
        "123456789012345678901234.5"
    )


async def test_a_range_is_inclusive_of_both_open_times(store: MarketDataStore) -> None:
    series = candles(5)
    await store.save_klines(series, now_ms=NOW_MS)

    loaded = await store.load_klines(BTC, M1, series[1].open_time_ms, series[3].open_time_ms)

    assert loaded == series[1:4]
    assert await store.load_klines(BTC, M1, series[4].open_time_ms + 1) == []


async def test_series_are_kept_apart(store: MarketDataStore) -> None:
    btc = candles(3)
    eth = candles(2, symbol=ETH)
    hourly = candles(2, interval=Interval.HOUR_1, start_ms=Interval.HOUR_1.open_time_ms(T0))

    result = await store.save_klines([*eth, *btc, *hourly], now_ms=NOW_MS)

    assert result.stored == 7
    assert await store.load_klines(BTC, M1) == btc
    assert await store.load_klines(ETH, M1) == eth
    assert await store.load_klines(BTC, Interval.HOUR_1) == hourly
    assert await store.load_klines(Symbol("XRPUSDT"), M1) == []


async def test_saving_the_same_batch_again_stores_nothing_new(store: MarketDataStore) -> None:
    series = candles(4)
    await store.save_klines(series, now_ms=NOW_MS)

    again = await store.save_klines(series, now_ms=NOW_MS)

    assert (again.stored, again.updated, again.duplicates) == (0, 0, 4)
    assert await store.load_klines(BTC, M1) == series


def _page(klines: list[Kline]) -> KlinePage:
    """The candles as the Binance adapter returns them: a page built from the exchange's plain text."""
    columns: dict[str, list[Any]] = {name: [getattr(k, name) for k in klines] for name in KLINE_FIELDS[2:]}
    for name in DECIMAL_FIELDS:
        columns[name] = [format(value, "f") for value in columns[name]]
    page = build_kline_page(columns, klines[0].symbol, klines[0].interval)
    assert page is not None
    return page


@pytest.mark.parametrize("volume", [Decimal("0.00012300"), Decimal("0E-8"), Decimal("1.2E-7")])
async def test_a_page_is_stored_as_its_candles_are(store: MarketDataStore, volume: Decimal) -> None:
    series = candles(80, volume=volume)  # tiny and zero volumes are written with an exponent by str()
    page = _page(series)

    first = await store.save_klines(page, now_ms=NOW_MS)
    again = await store.save_klines(series, now_ms=NOW_MS)  # the same candles as objects: nothing changes
    page_again = await store.save_klines(_page(series), now_ms=NOW_MS)

    assert (first.stored, first.updated, first.duplicates) == (80, 0, 0)
    assert (again.stored, again.updated, again.duplicates) == (0, 0, 80)
    assert (page_again.stored, page_again.updated, page_again.duplicates) == (0, 0, 80)
    loaded = await store.load_klines(BTC, M1)
    assert loaded == series
    assert [repr(k) for k in loaded] == [repr(k) for k in series]


async def test_an_overlapping_batch_adds_only_the_new_candles(store: MarketDataStore) -> None:
    await store.save_klines(minutes(0, 1, 2), now_ms=NOW_MS)

    result = await store.save_klines(minutes(2, 3, 4), now_ms=NOW_MS)

    assert (result.stored, result.updated, result.duplicates) == (2, 0, 1)
    assert await store.load_klines(BTC, M1) == minutes(0, 1, 2, 3, 4)


async def test_a_rewrite_with_other_values_replaces_the_row(store: MarketDataStore) -> None:
    first = minutes(0, 1)
    await store.save_klines(first, now_ms=NOW_MS)
    corrected = with_close(first[1], Decimal("43000.5"))

    result = await store.save_klines([corrected], now_ms=NOW_MS)

    assert (result.stored, result.updated, result.duplicates) == (0, 1, 0)
    assert await store.load_klines(BTC, M1) == [first[0], corrected]


async def test_a_large_batch_and_its_rewrite_are_counted_row_by_row(store: MarketDataStore) -> None:
    # Large enough that a store writing many rows per statement has whole blocks and a remainder.
    series = candles(1_000)
    assert (await store.save_klines(series, now_ms=NOW_MS)).stored == 1_000
    changed = {3, 75, 76, 77, 500, 998, 999}
    rewrite = [with_close(k, Decimal("43000.5")) if i in changed else k for i, k in enumerate(series)]
    extra = candles(250, start_ms=series[-1].open_time_ms + 60_000)

    result = await store.save_klines([*rewrite, *extra], now_ms=NOW_MS)

    assert (result.stored, result.updated, result.duplicates) == (250, len(changed), 1_000 - len(changed))
    assert await store.load_klines(BTC, M1) == [*rewrite, *extra]


async def test_repeats_within_a_batch_keep_the_last(store: MarketDataStore) -> None:
    original = candle(T0)
    later = with_close(original, Decimal("41000"))

    result = await store.save_klines([original, candle(T0 + 60_000), later], now_ms=NOW_MS)

    assert (result.stored, result.duplicates) == (2, 1)
    assert await store.load_klines(BTC, M1) == [later, candle(T0 + 60_000)]


async def test_the_still_open_candle_is_never_stored(store: MarketDataStore) -> None:
    series = candles(3)
    now_ms = series[2].open_time_ms + 30_000  # the third candle is half-way through its minute

    result = await store.save_klines(series, now_ms=now_ms)

    assert (result.stored, result.not_closed) == (2, 1)
    assert await store.load_klines(BTC, M1) == series[:2]
    later = await store.save_klines(series, now_ms=series[2].close_time_ms + 1)
    assert (later.stored, later.duplicates, later.not_closed) == (1, 2, 0)


async def test_rejected_candles_are_counted_by_reason_not_dropped_silently(store: MarketDataStore) -> None:
    good = candle(T0)
    negative_volume = attrs.evolve(candle(T0 + 60_000), volume=Decimal(-1))
    misaligned = attrs.evolve(candle(T0 + 120_000), open_time_ms=T0 + 120_001)
    inconsistent = attrs.evolve(candle(T0 + 180_000), high=Decimal(1))
    future = candle(M1.open_time_ms(NOW_MS + 3_600_000))

    result = await store.save_klines([good, negative_volume, misaligned, inconsistent, future], now_ms=NOW_MS)

    assert result.stored == 1
    assert dict(result.rejected_by_reason) == {
        Reason.NEGATIVE_QUANTITY: 1,
        Reason.MISALIGNED_TIME: 1,
        Reason.OHLC_INCONSISTENT: 1,
        Reason.FUTURE_TIMESTAMP: 1,
    }
    assert result.received == 5
    assert await store.load_klines(BTC, M1) == [good]
    await store.save_klines([negative_volume], now_ms=NOW_MS)
    counts = {c.reason: c for c in await store.rejection_counts(DataKind.KLINE, BTC, M1)}
    assert counts[Reason.NEGATIVE_QUANTITY].count == 2
    assert counts[Reason.NEGATIVE_QUANTITY].last_seen_ms == NOW_MS
    assert "negative" in counts[Reason.NEGATIVE_QUANTITY].last_message
    assert counts[Reason.FUTURE_TIMESTAMP].count == 1


async def test_rejections_found_elsewhere_can_be_recorded(store: MarketDataStore) -> None:
    await store.record_rejections(
        DataKind.KLINE, {Reason.NOT_FINITE: 3}, now_ms=NOW_MS, symbol=ETH, interval=M1, message="NaN volume"
    )
    await store.record_rejections(DataKind.ACCOUNT_SNAPSHOT, {Reason.NEGATIVE_QUANTITY: 1}, now_ms=NOW_MS)

    everything = await store.rejection_counts()
    assert [(c.kind, c.symbol, c.interval, c.reason, c.count) for c in everything] == [
        (DataKind.ACCOUNT_SNAPSHOT, None, None, Reason.NEGATIVE_QUANTITY, 1),
        (DataKind.KLINE, ETH, M1, Reason.NOT_FINITE, 3),
    ]
    assert await store.rejection_counts(DataKind.KLINE, BTC) == []


async def test_a_failure_in_the_middle_of_a_batch_stores_none_of_it(
    backend: Backend, store: MarketDataStore
) -> None:
    earlier = minutes(0, 1)
    await store.save_klines(earlier, now_ms=NOW_MS)
    batch = [*minutes(2, 3, 4, 5, 6), attrs.evolve(candle(T0 + 7 * 60_000), volume=Decimal(-1))]
    backend.fail_inserts_at(T0 + 4 * 60_000)

    with pytest.raises(StorageError, match=r"injected fault|failed"):
        await store.save_klines(batch, now_ms=NOW_MS)

    assert await store.load_klines(BTC, M1) == earlier
    assert await store.rejection_counts() == []  # the batch's rejected row went with it
    assert (await store.save_klines(minutes(8), now_ms=NOW_MS)).stored == 1  # the store still works


async def test_a_failed_batch_that_created_a_series_leaves_no_trace(
    backend: Backend, store: MarketDataStore
) -> None:
    backend.fail_inserts_at(T0)

    with pytest.raises(StorageError):
        await store.save_klines(candles(2, symbol=ETH), now_ms=NOW_MS)

    assert await store.load_klines(ETH, M1) == []
    later = candles(1, start_ms=T0 + 60_000, symbol=ETH)
    assert (await store.save_klines(later, now_ms=NOW_MS)).stored == 1
    assert await store.load_klines(ETH, M1) == later  # under the series created now, not the lost one


async def test_candles_come_back_in_chunks(store: MarketDataStore) -> None:
    series = candles(25)
    await store.save_klines(series, now_ms=NOW_MS)

    chunks = [chunk async for chunk in store.iter_klines(BTC, M1, series[2].open_time_ms, chunk_size=10)]

    assert [len(chunk) for chunk in chunks] == [10, 10, 3]
    assert [k for chunk in chunks for k in chunk] == series[2:]
    assert [chunk async for chunk in store.iter_klines(ETH, M1)] == []


# ---------------------------------------------------------------------------------------------- coverage


async def test_coverage_reports_count_ends_and_every_gap(store: MarketDataStore) -> None:
    await store.save_klines(minutes(2, 3, 4, 7, 8, 12), now_ms=NOW_MS)

    coverage = await store.kline_coverage(BTC, M1, T0, T0 + 14 * 60_000)

    assert (coverage.count, coverage.first_open_ms, coverage.last_open_ms) == (6, T0 + 120_000, T0 + 720_000)
    assert coverage.gaps == (
        MissingRange(T0, T0 + 60_000, 2),
        MissingRange(T0 + 5 * 60_000, T0 + 6 * 60_000, 2),
        MissingRange(T0 + 9 * 60_000, T0 + 11 * 60_000, 3),
        MissingRange(T0 + 13 * 60_000, T0 + 14 * 60_000, 2),
    )
    assert coverage.expected == 15
    assert await store.missing_ranges(BTC, M1, T0, T0 + 14 * 60_000) == list(coverage.gaps)


async def test_coverage_without_a_range_reports_holes_between_the_ends(store: MarketDataStore) -> None:
    await store.save_klines(minutes(0, 1, 5), now_ms=NOW_MS)

    coverage = await store.kline_coverage(BTC, M1)

    assert coverage.count == 3
    assert coverage.gaps == (MissingRange(T0 + 120_000, T0 + 240_000, 3),)


async def test_an_empty_series_is_one_gap_over_the_range(store: MarketDataStore) -> None:
    coverage = await store.kline_coverage(ETH, M1, T0, T0 + 59 * 60_000)

    assert (coverage.count, coverage.first_open_ms, coverage.last_open_ms) == (0, None, None)
    assert coverage.gaps == (MissingRange(T0, T0 + 59 * 60_000, 60),)
    assert not coverage.complete


async def test_a_complete_range_has_no_gaps(store: MarketDataStore) -> None:
    await store.save_klines(candles(10), now_ms=NOW_MS)

    coverage = await store.kline_coverage(BTC, M1, T0 - 30_000, T0 + 9 * 60_000)

    assert coverage.complete
    assert await store.missing_ranges(BTC, M1, T0, T0 + 9 * 60_000) == []


async def test_monthly_gaps_follow_the_calendar(store: MarketDataStore) -> None:
    month = Interval.MONTH_1
    january = month.open_time_ms(NOW_MS - 365 * 86_400_000)
    opens = [january]
    for _ in range(5):
        opens.append(month.next_open_ms(opens[-1]))
    await store.save_klines([candle(opens[i], interval=month) for i in (0, 1, 3, 4)], now_ms=NOW_MS)

    assert await store.missing_ranges(BTC, month, opens[0], opens[5]) == [
        MissingRange(opens[2], opens[2], 1),
        MissingRange(opens[5], opens[5], 1),
    ]


# ---------------------------------------------------------------------------------------------- other data


async def test_price_ticks_round_trip_exactly(store: MarketDataStore) -> None:
    ticks = [quote(BTC, NOW_MS - 2_000, "42000.01000000"), quote(BTC, NOW_MS - 1_000, "0.00000001")]
    stale = quote(BTC, NOW_MS - 86_400_000, "41000")  # history is kept, whatever its age
    bad = quote(ETH, NOW_MS, "0")

    result = await store.save_price_ticks([*ticks, stale, bad, ticks[0]], now_ms=NOW_MS)

    assert (result.stored, result.duplicates, dict(result.rejected_by_reason)) == (
        3,
        1,
        {Reason.PRICE_NOT_POSITIVE: 1},
    )
    loaded = await store.load_price_ticks(BTC)
    assert loaded == [stale, *ticks]
    assert [str(q.price) for q in loaded[1:]] == ["42000.01000000", "1E-8"]
    assert await store.load_price_ticks(BTC, NOW_MS - 1_500) == ticks[1:]
    assert (await store.save_price_ticks([quote(BTC, NOW_MS - 1_000, "2")], now_ms=NOW_MS)).updated == 1


async def test_24h_statistics_round_trip_exactly(store: MarketDataStore) -> None:
    tickers = [ticker(BTC, NOW_MS - 60_000), ticker(BTC, NOW_MS - 1_000, last="42001.5")]
    broken = attrs.evolve(ticker(ETH, NOW_MS), last_price=Decimal("99999999"))

    result = await store.save_tickers_24h([*tickers, broken], now_ms=NOW_MS)

    assert (result.stored, dict(result.rejected_by_reason)) == (2, {Reason.OHLC_INCONSISTENT: 1})
    assert await store.load_tickers_24h(BTC) == tickers
    assert await store.load_tickers_24h(ETH) == []
    again = await store.save_tickers_24h(tickers, now_ms=NOW_MS)
    assert (again.stored, again.duplicates) == (0, 2)


async def test_account_snapshots_round_trip_exactly(store: MarketDataStore) -> None:
    first, second, anonymous = account(NOW_MS - 5_000), account(NOW_MS - 1_000), account(NOW_MS, uid=None)
    negative = account(NOW_MS - 3_000, usdt="-1")

    result = await store.save_account_snapshots([second, negative, first, anonymous], now_ms=NOW_MS)

    assert (result.stored, dict(result.rejected_by_reason)) == (3, {Reason.NEGATIVE_QUANTITY: 1})
    assert await store.load_account_snapshots() == [first, second, anonymous]
    assert await store.load_account_snapshots(NOW_MS - 2_000, NOW_MS - 1_000) == [second]
    changed = account(NOW_MS - 1_000, usdt="999.5")
    again = await store.save_account_snapshots([first, changed], now_ms=NOW_MS)
    assert (again.stored, again.updated, again.duplicates) == (0, 1, 1)
    assert await store.load_account_snapshots() == [first, changed, anonymous]
    rejected = await store.rejection_counts(DataKind.ACCOUNT_SNAPSHOT)
    assert [(c.reason, c.count) for c in rejected] == [(Reason.NEGATIVE_QUANTITY, 1)]


# ---------------------------------------------------------------------------------------------- schema


async def test_a_version_1_database_is_migrated_and_keeps_its_candles(backend: Backend) -> None:
    opens = [T0, T0 + 60_000, T0 + 180_000]
    await backend.create_at_version(1)
    backend.insert_raw_candles("BTCUSDT", "1m", opens)
    assert backend.schema_version() == 1

    store = await backend.open()
    try:
        assert backend.schema_version() == 3
        loaded = await store.load_klines(BTC, M1)
        assert [k.open_time_ms for k in loaded] == opens
        assert loaded[0].close == Decimal(1)
        assert (await store.save_price_ticks([quote(BTC, NOW_MS, "1.5")], now_ms=NOW_MS)).stored == 1
        await store.record_rejections(DataKind.KLINE, {Reason.GAP: 1}, now_ms=NOW_MS)
        assert await store.missing_ranges(BTC, M1, T0, T0 + 180_000) == [
            MissingRange(T0 + 120_000, T0 + 120_000, 1)
        ]
    finally:
        await store.aclose()


async def test_a_database_from_a_newer_release_is_refused_and_left_alone(backend: Backend) -> None:
    store = await backend.open()
    await store.save_klines(candles(2), now_ms=NOW_MS)
    await store.aclose()
    backend.set_schema_version(99)

    with pytest.raises(SchemaVersionError, match="schema version 99"):
        await backend.open()

    assert backend.schema_version() == 99


async def test_opening_twice_migrates_once(backend: Backend) -> None:
    first = await backend.open()
    second = await backend.open()
    try:
        await first.save_klines(candles(2), now_ms=NOW_MS)
        assert await second.load_klines(BTC, M1) == candles(2)
    finally:
        await first.aclose()
        await second.aclose()


# ---------------------------------------------------------------------------------------------- concurrency


async def test_readers_see_only_committed_data_while_a_write_is_open(
    backend: Backend, store: MarketDataStore
) -> None:
    committed = candles(3)
    await store.save_klines(committed, now_ms=NOW_MS)

    with backend.hold_uncommitted_candle("BTCUSDT", "1m", T0 + 10 * 60_000):
        assert await store.load_klines(BTC, M1) == committed
        assert (await store.kline_coverage(BTC, M1)).count == 3


async def test_a_closed_store_refuses_work(backend: Backend) -> None:
    store = await backend.open()
    await store.aclose()
    await store.aclose()  # harmless

    with pytest.raises(StorageError, match="closed"):
        await store.load_klines(BTC, M1)
