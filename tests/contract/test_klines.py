"""MarketDataPort contract for klines: Binance's alignment, window and limit rules, and stable history."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from domain import Interval, InvalidInputError, InvalidSymbolError, Kline, Symbol
from domain.validators import ValidationPolicy, check_kline, check_kline_series
from ports import MAX_KLINE_LIMIT
from tests.contract.conftest import Implementation

BTC = Symbol("BTCUSDT")
MINUTE = Interval.MINUTE_1
MINUTE_MS = 60_000


def _assert_valid_series(klines: Sequence[Kline], interval: Interval, now_ms: int, tolerance_ms: int) -> None:
    """Sorted, unique, contiguous, aligned, each candle passing the domain validators."""
    report = check_kline_series(klines, interval, symbol=BTC)
    assert report.violations == ()
    assert report.gaps == ()
    policy = ValidationPolicy(max_future_ms=tolerance_ms, max_age_ms=None)
    assert [v for kline in klines for v in check_kline(kline, now_ms, policy)] == []


def _recent_minute(implementation: Implementation, minutes_ago: int) -> int:
    return MINUTE.open_time_ms(implementation.now_ms()) - minutes_ago * MINUTE_MS


@pytest.mark.parametrize("interval", list(Interval), ids=lambda i: i.value)
async def test_the_newest_candles_are_aligned_and_end_with_the_one_open_now(
    implementation: Implementation, interval: Interval
) -> None:
    before = implementation.now_ms()
    klines = await implementation.market_data.get_kline_data(BTC, interval, limit=3)
    after = implementation.now_ms()

    tolerance = implementation.clock_tolerance_ms
    assert len(klines) == 3
    _assert_valid_series(klines, interval, after, tolerance)
    newest = klines[-1]
    assert newest.open_time_ms <= after + tolerance
    assert newest.close_time_ms >= before - tolerance
    assert all(a.close_time_ms + 1 == b.open_time_ms for a, b in itertools.pairwise(klines))


async def test_without_a_limit_the_newest_500_candles_come(implementation: Implementation) -> None:
    klines = await implementation.market_data.get_kline_data(BTC, MINUTE)

    assert len(klines) == 500
    _assert_valid_series(klines, MINUTE, implementation.now_ms(), implementation.clock_tolerance_ms)


@pytest.mark.parametrize("limit", [1, 2, 17, MAX_KLINE_LIMIT])
async def test_the_limit_caps_the_number_of_candles(implementation: Implementation, limit: int) -> None:
    start = _recent_minute(implementation, 3 * MAX_KLINE_LIMIT)

    klines = await implementation.market_data.get_kline_data(BTC, MINUTE, start_ms=start, limit=limit)

    assert len(klines) == limit
    assert klines[0].open_time_ms == start


async def test_a_start_alone_gives_the_oldest_candles_from_it(implementation: Implementation) -> None:
    start = _recent_minute(implementation, 180)

    klines = await implementation.market_data.get_kline_data(BTC, MINUTE, start_ms=start, limit=20)

    assert [k.open_time_ms for k in klines] == [start + i * MINUTE_MS for i in range(20)]


async def test_a_start_inside_a_candle_begins_at_the_next_one(implementation: Implementation) -> None:
    start = _recent_minute(implementation, 180)

    klines = await implementation.market_data.get_kline_data(BTC, MINUTE, start_ms=start + 1, limit=5)

    assert klines[0].open_time_ms == start + MINUTE_MS


async def test_an_end_alone_gives_the_newest_candles_up_to_it(implementation: Implementation) -> None:
    end = _recent_minute(implementation, 120) + 30_000  # inside a candle: that candle is the last

    klines = await implementation.market_data.get_kline_data(BTC, MINUTE, end_ms=end, limit=20)

    assert len(klines) == 20
    assert klines[-1].open_time_ms == end - 30_000
    _assert_valid_series(klines, MINUTE, implementation.now_ms(), implementation.clock_tolerance_ms)


async def test_start_and_end_give_the_whole_range_when_it_fits_the_limit(
    implementation: Implementation,
) -> None:
    start = _recent_minute(implementation, 300)
    end = start + 29 * MINUTE_MS + 59_999
    market = implementation.market_data

    klines = await market.get_kline_data(BTC, MINUTE, start_ms=start, end_ms=end, limit=1000)

    assert [k.open_time_ms for k in klines] == [start + i * MINUTE_MS for i in range(30)]


async def test_start_and_end_give_the_oldest_candles_when_the_range_exceeds_the_limit(
    implementation: Implementation,
) -> None:
    start = _recent_minute(implementation, 300)
    end = start + 200 * MINUTE_MS
    market = implementation.market_data

    klines = await market.get_kline_data(BTC, MINUTE, start_ms=start, end_ms=end, limit=10)

    assert [k.open_time_ms for k in klines] == [start + i * MINUTE_MS for i in range(10)]


async def test_pages_of_a_thousand_join_without_gap_or_overlap(implementation: Implementation) -> None:
    start = _recent_minute(implementation, 2600)
    end = start + 2400 * MINUTE_MS  # 2401 candles: pages of 1000, 1000 and 401
    pages: list[Sequence[Kline]] = []
    cursor = start
    while cursor <= end:
        page = await implementation.market_data.get_kline_data(
            BTC, MINUTE, start_ms=cursor, end_ms=end, limit=MAX_KLINE_LIMIT
        )
        if not page:
            break
        pages.append(page)
        cursor = page[-1].close_time_ms + 1

    assert [len(page) for page in pages] == [1000, 1000, 401]
    joined = [kline for page in pages for kline in page]
    report = check_kline_series(joined, MINUTE, symbol=BTC, start_ms=start, end_ms=end)
    assert report.ok, report


async def test_closed_candles_are_the_same_on_every_call(implementation: Implementation) -> None:
    start = _recent_minute(implementation, 90)
    market = implementation.market_data

    first = await market.get_kline_data(BTC, MINUTE, start_ms=start, end_ms=start + 59 * MINUTE_MS)
    second = await market.get_kline_data(BTC, MINUTE, start_ms=start, end_ms=start + 59 * MINUTE_MS)

    assert len(first) == 60
    assert first == second


async def test_candles_closed_before_a_call_are_unchanged_in_the_next_one(
    implementation: Implementation,
) -> None:
    market = implementation.market_data
    now = implementation.now_ms()
    first = await market.get_kline_data(BTC, Interval.SECOND_1, limit=30)
    second = await market.get_kline_data(BTC, Interval.SECOND_1, limit=30)

    closed = {k.open_time_ms: k for k in first if k.is_closed(now)}
    again = [k for k in second if k.open_time_ms in closed]
    assert again
    assert all(k == closed[k.open_time_ms] for k in again)


async def test_a_start_in_the_future_gives_no_candles(implementation: Implementation) -> None:
    start = implementation.now_ms() + 86_400_000

    assert await implementation.market_data.get_kline_data(BTC, MINUTE, start_ms=start) == []


async def test_an_end_before_the_listing_gives_no_candles(implementation: Implementation) -> None:
    end = 1_262_304_000_000  # 2010-01-01, years before any listing

    assert await implementation.market_data.get_kline_data(BTC, Interval.DAY_1, end_ms=end) == []


async def test_klines_of_an_unknown_symbol_raise_invalid_symbol(implementation: Implementation) -> None:
    with pytest.raises(InvalidSymbolError):
        await implementation.market_data.get_kline_data(Symbol("NOSUCHCOIN123"), MINUTE, limit=5)


@pytest.mark.parametrize("limit", [0, -1, MAX_KLINE_LIMIT + 1])
async def test_a_limit_outside_1_to_1000_raises_invalid_input(
    implementation: Implementation, limit: int
) -> None:
    with pytest.raises(InvalidInputError):
        await implementation.market_data.get_kline_data(BTC, MINUTE, limit=limit)


async def test_a_start_after_the_end_raises_invalid_input(implementation: Implementation) -> None:
    end = _recent_minute(implementation, 60)

    with pytest.raises(InvalidInputError):
        await implementation.market_data.get_kline_data(BTC, MINUTE, start_ms=end + 1, end_ms=end)
