"""Intervals: Binance's names, lengths and open-time alignment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import Interval, InvalidInputError


def _ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def test_every_binance_interval_exists() -> None:
    names = [i.value for i in Interval]
    assert names == [
        "1s",
        "1m",
        "3m",
        "5m",
        "15m",
        "30m",
        "1h",
        "2h",
        "4h",
        "6h",
        "8h",
        "12h",
        "1d",
        "3d",
        "1w",
        "1M",
    ]


def test_parse_is_case_sensitive_minute_versus_month() -> None:
    assert Interval.parse("1m") is Interval.MINUTE_1
    assert Interval.parse("1M") is Interval.MONTH_1
    with pytest.raises(InvalidInputError, match="unknown interval '2m'"):
        Interval.parse("2m")


@pytest.mark.parametrize(
    ("interval", "length"),
    [
        (Interval.SECOND_1, 1000),
        (Interval.MINUTE_15, 900_000),
        (Interval.HOUR_4, 14_400_000),
        (Interval.DAY_3, 259_200_000),
        (Interval.WEEK_1, 604_800_000),
    ],
)
def test_fixed_lengths(interval: Interval, length: int) -> None:
    assert interval.duration_ms == length
    assert interval.next_open_ms(0) == length or interval is Interval.WEEK_1


def test_weeks_open_on_monday_utc() -> None:
    # 2026-01-01 is a Thursday; its week opened on Monday 2025-12-29.
    assert Interval.WEEK_1.open_time_ms(_ms(2026, 1, 1, 12)) == _ms(2025, 12, 29)
    assert Interval.WEEK_1.next_open_ms(_ms(2025, 12, 29)) == _ms(2026, 1, 5)


def test_months_are_calendar_months() -> None:
    assert Interval.MONTH_1.open_time_ms(_ms(2024, 2, 29, 23)) == _ms(2024, 2, 1)
    assert Interval.MONTH_1.next_open_ms(_ms(2024, 2, 1)) == _ms(2024, 3, 1)
    assert Interval.MONTH_1.next_open_ms(_ms(2024, 12, 1)) == _ms(2025, 1, 1)
    assert Interval.MONTH_1.close_time_ms(_ms(2024, 2, 1)) == _ms(2024, 3, 1) - 1
    assert Interval.MONTH_1.count_between(_ms(2024, 1, 1), _ms(2024, 12, 31)) == 12


def test_count_between_is_inclusive_and_empty_when_reversed() -> None:
    assert Interval.MINUTE_1.count_between(0, 60_000) == 2
    assert Interval.MINUTE_1.count_between(1, 60_000) == 1
    assert Interval.MINUTE_1.count_between(1, 59_999) == 0
    assert Interval.MINUTE_1.count_between(10, 5) == 0
    assert Interval.MINUTE_1.count_between(_ms(2024, 1, 1), _ms(2024, 12, 31, 23, 59)) == 527_040


@given(st.sampled_from(list(Interval)), st.integers(0, 4_102_444_800_000))
def test_open_time_contains_the_timestamp_and_is_aligned(interval: Interval, timestamp: int) -> None:
    opened = interval.open_time_ms(timestamp)
    assert opened <= timestamp < interval.next_open_ms(opened)
    assert interval.is_aligned(opened)
    assert interval.close_time_ms(opened) == interval.next_open_ms(opened) - 1
    assert interval.is_aligned(interval.next_open_ms(opened))
