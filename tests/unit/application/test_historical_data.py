"""Historical candles: paging through the port 1000 at a time, ranges, validation and the DataFrame."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pandas as pd
import pytest

from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from application import KLINE_COLUMNS, MarketDataService
from domain import (
    DataValidationError,
    Interval,
    InvalidInputError,
    InvalidSymbolError,
    Kline,
    Symbol,
)
from domain.validators import Reason
from ports import MAX_KLINE_LIMIT
from tests.unit.application.conftest import MINUTE_MS, NOW_MS
from tests.unit.application.corrupting import CorruptingMarket, replace_kline

#: A minute boundary well before NOW_MS, so every candle of the ranges below is closed.
START_MS = Interval.MINUTE_1.open_time_ms(NOW_MS) - 10 * 86_400_000
BTC = Symbol("BTCUSDT")


def _service(container: Container) -> MarketDataService:
    service = container.market_data_service()
    assert isinstance(service, MarketDataService)
    return service


def _assert_contiguous(klines: list[Kline], first_ms: int, count: int) -> None:
    opens = [k.open_time_ms for k in klines]
    assert opens == list(range(first_ms, first_ms + count * MINUTE_MS, MINUTE_MS))


@pytest.mark.parametrize(
    ("count", "calls"),
    [(1, 1), (999, 1), (1000, 1), (1001, 2), (2000, 2), (2001, 3), (3500, 4)],
)
async def test_paging_crosses_1000_candle_boundaries_without_gap_or_duplicate(
    container: Container, fake: FakeExchange, count: int, calls: int
) -> None:
    end_ms = START_MS + (count - 1) * MINUTE_MS

    klines = await _service(container).fetch_historical_klines(BTC, "1m", START_MS, end_ms)

    _assert_contiguous(klines, START_MS, count)
    assert fake.calls["get_kline_data"] == calls


async def test_pages_hold_at_most_1000_candles_and_do_not_overlap(container: Container) -> None:
    end_ms = START_MS + 3_499 * MINUTE_MS

    pages = [
        page async for page in _service(container).iter_kline_pages(BTC, Interval.MINUTE_1, START_MS, end_ms)
    ]

    assert [len(page) for page in pages] == [1000, 1000, 1000, 500]
    for before, after in itertools.pairwise(pages):
        assert after[0].open_time_ms == before[-1].open_time_ms + MINUTE_MS


async def test_paging_stops_when_the_exchange_has_nothing_more(
    container: Container, fake: FakeExchange
) -> None:
    # The range ends in the future: the exchange runs out of candles at "now" and paging stops there.
    start_ms = Interval.MINUTE_1.open_time_ms(NOW_MS) - 1_500 * MINUTE_MS
    pages = [
        page
        async for page in _service(container).iter_kline_pages(
            BTC, Interval.MINUTE_1, start_ms, NOW_MS + 86_400_000
        )
    ]

    assert [len(page) for page in pages] == [1000, 501]
    assert fake.calls["get_kline_data"] == 2


async def test_an_empty_answer_ends_paging(container: Container, fake: FakeExchange) -> None:
    before_listing = int(datetime(2010, 1, 1, tzinfo=UTC).timestamp() * 1000)

    frame = await _service(container).fetch_historical_data(
        BTC, "1h", before_listing, before_listing + 86_400_000
    )

    assert frame.empty
    assert list(frame.columns) == list(KLINE_COLUMNS)
    assert fake.calls["get_kline_data"] == 1


async def test_days_count_back_from_now_and_leave_out_the_open_candle(container: Container) -> None:
    service = _service(container)

    closed = await service.fetch_historical_klines(BTC, "1m", days=1)
    with_open = await service.fetch_historical_klines(BTC, "1m", days=1, include_open=True)

    expected = Interval.MINUTE_1.count_between(NOW_MS - 86_400_000, NOW_MS)
    assert len(with_open) == expected
    assert len(closed) == expected - 1
    assert all(k.is_closed(NOW_MS) for k in closed)
    assert not with_open[-1].is_closed(NOW_MS)
    assert closed[0].open_time_ms >= NOW_MS - 86_400_000


async def test_start_and_end_may_be_datetimes_or_milliseconds(container: Container) -> None:
    service = _service(container)
    start = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    end = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)

    by_datetime = await service.fetch_historical_klines(BTC, Interval.HOUR_1, start, end)
    by_naive = await service.fetch_historical_klines(
        BTC, "1h", start.replace(tzinfo=None), end.replace(tzinfo=None)
    )
    by_ms = await service.fetch_historical_klines(BTC, "1h", start_ms, end_ms)

    assert by_datetime == by_naive == by_ms
    assert len(by_ms) == 13


async def test_without_an_end_the_range_runs_to_now(container: Container) -> None:
    start_ms = Interval.HOUR_1.open_time_ms(NOW_MS) - 5 * 3_600_000

    klines = await _service(container).fetch_historical_klines(BTC, "1h", start_ms)

    assert len(klines) == 5


@pytest.mark.parametrize(
    ("start", "end", "days", "message"),
    [
        (None, None, None, "give a start time or a number of days"),
        (START_MS, None, 1, "not both"),
        (None, START_MS, 1, "not both"),
        (None, NOW_MS, None, "give a start time or a number of days"),
        (None, None, 0, "must be positive"),
        (None, None, -2, "must be positive"),
        (START_MS + MINUTE_MS, START_MS, None, "is after end"),
        (NOW_MS + 3_600_000, NOW_MS + 7_200_000, None, "is in the future"),
        (None, None, 30_000, "before 1970"),
        (-5, 0, None, "before 1970"),
        (True, None, None, "not a bool"),
    ],
)
async def test_impossible_ranges_are_refused_before_any_call(
    container: Container,
    fake: FakeExchange,
    start: int | None,
    end: int | None,
    days: float | None,
    message: str,
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await _service(container).fetch_historical_data(BTC, "1m", start, end, days=days)

    assert sum(fake.calls.values()) == 0


async def test_an_unknown_interval_is_refused(container: Container) -> None:
    with pytest.raises(InvalidInputError, match="unknown interval '7m'"):
        await _service(container).fetch_historical_data(BTC, "7m", days=1)


async def test_an_unknown_symbol_is_an_invalid_symbol_error(container: Container) -> None:
    with pytest.raises(InvalidSymbolError):
        await _service(container).fetch_historical_data("NOPEUSDT", "1m", days=1)


async def test_the_frame_is_indexed_by_utc_open_time_with_exact_decimals(container: Container) -> None:
    service = _service(container)
    end_ms = START_MS + 1_199 * MINUTE_MS

    klines = await service.fetch_historical_klines(BTC, "1m", START_MS, end_ms)
    frame = await service.fetch_historical_data(BTC, "1m", START_MS, end_ms)

    assert list(frame.columns) == list(KLINE_COLUMNS)
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "open_time"
    assert str(frame.index.dtype) == "datetime64[ms, UTC]"
    assert frame.index[0] == pd.Timestamp(START_MS, unit="ms", tz="UTC")
    assert frame.index.is_unique
    assert frame.index.is_monotonic_increasing
    assert len(frame) == 1200
    assert frame["close"].dtype == object
    assert list(frame["close"]) == [k.close for k in klines]
    assert all(isinstance(value, Decimal) for value in frame["volume"])
    assert str(frame["close_time"].dtype) == "datetime64[ms, UTC]"
    assert frame["trade_count"].dtype == "int64"
    assert frame.attrs == {"symbol": "BTCUSDT", "interval": "1m"}


async def test_as_float_gives_float_columns(container: Container) -> None:
    frame = await _service(container).fetch_historical_data(BTC, "1h", days=2, as_float=True)

    assert frame["open"].dtype == "float64"
    assert frame["taker_buy_quote_volume"].dtype == "float64"
    assert frame["trade_count"].dtype == "int64"


async def test_a_corrupted_candle_on_a_later_page_fails_validation(
    container: Container, clock: FakeClock
) -> None:
    def corrupt_second_page(page: list[Kline]) -> list[Kline]:
        if page and page[0].open_time_ms == START_MS + MAX_KLINE_LIMIT * MINUTE_MS:
            return replace_kline(5, high=page[5].low - 1)(page)
        return page

    container.fake_exchange.override(CorruptingMarket(clock, klines=corrupt_second_page))

    with pytest.raises(DataValidationError) as caught:
        await _service(container).fetch_historical_klines(BTC, "1m", START_MS, START_MS + 2_500 * MINUTE_MS)

    assert Reason.OHLC_INCONSISTENT in {v.reason for v in caught.value.violations}
    assert f"BTCUSDT 1m kline {START_MS + 1005 * MINUTE_MS}" in str(caught.value)


async def test_an_overlapping_page_fails_validation_instead_of_duplicating(
    container: Container, clock: FakeClock
) -> None:
    def repeat_previous(page: list[Kline]) -> list[Kline]:
        if page and page[0].open_time_ms > START_MS:
            return [
                attrs.evolve(
                    page[0],
                    open_time_ms=page[0].open_time_ms - MINUTE_MS,
                    close_time_ms=page[0].open_time_ms - 1,
                ),
                *page[:-1],
            ]
        return page

    container.fake_exchange.override(CorruptingMarket(clock, klines=repeat_previous))

    with pytest.raises(DataValidationError, match="opens outside the requested range"):
        await _service(container).fetch_historical_klines(BTC, "1m", START_MS, START_MS + 1_500 * MINUTE_MS)


async def test_an_unsorted_page_fails_validation(container: Container, clock: FakeClock) -> None:
    container.fake_exchange.override(CorruptingMarket(clock, klines=lambda page: page[::-1]))

    with pytest.raises(DataValidationError) as caught:
        await _service(container).fetch_historical_klines(BTC, "1m", START_MS, START_MS + 9 * MINUTE_MS)

    assert Reason.UNSORTED in {v.reason for v in caught.value.violations}


async def test_recent_candles_are_the_newest_with_the_open_one_last(
    container: Container, fake: FakeExchange
) -> None:
    klines = await _service(container).fetch_recent_klines("BTCUSDT", "5m", 12)

    assert len(klines) == 12
    assert klines[-1].open_time_ms == Interval.MINUTE_5.open_time_ms(NOW_MS)
    assert fake.calls["get_kline_data"] == 1


@pytest.mark.parametrize("count", [0, MAX_KLINE_LIMIT + 1])
async def test_recent_candles_need_a_count_of_1_to_1000(container: Container, count: int) -> None:
    with pytest.raises(InvalidInputError, match="1 to 1000"):
        await _service(container).fetch_recent_klines("BTCUSDT", "1m", count)


async def test_corrupted_recent_candles_fail_validation(container: Container, clock: FakeClock) -> None:
    container.fake_exchange.override(CorruptingMarket(clock, klines=replace_kline(0, volume=Decimal(-3))))

    with pytest.raises(DataValidationError) as caught:
        await _service(container).fetch_recent_klines("BTCUSDT", "1m", 10)

    assert [v.reason for v in caught.value.violations] == [Reason.NEGATIVE_QUANTITY]
