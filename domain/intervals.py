"""Kline intervals with Binance's alignment rules (UTC; weeks start on Monday; months are calendar months)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from domain.errors import InvalidInputError

__all__ = ["Interval"]

_SECOND = 1000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
# 1970-01-01 was a Thursday; Binance weeks open on Monday 00:00 UTC, four days later.
_WEEK_ORIGIN_MS = 4 * _DAY


class Interval(enum.Enum):
    """Every Binance kline interval, ``1s`` to ``1M`` (a calendar month)."""

    SECOND_1 = "1s"
    MINUTE_1 = "1m"
    MINUTE_3 = "3m"
    MINUTE_5 = "5m"
    MINUTE_15 = "15m"
    MINUTE_30 = "30m"
    HOUR_1 = "1h"
    HOUR_2 = "2h"
    HOUR_4 = "4h"
    HOUR_6 = "6h"
    HOUR_8 = "8h"
    HOUR_12 = "12h"
    DAY_1 = "1d"
    DAY_3 = "3d"
    WEEK_1 = "1w"
    MONTH_1 = "1M"

    @classmethod
    def parse(cls, text: str | Interval) -> Interval:
        """The interval named ``text`` (case-sensitive: ``1m`` is a minute, ``1M`` a month)."""
        if isinstance(text, Interval):
            return text
        try:
            return cls(text)
        except ValueError:
            names = " ".join(i.value for i in cls)
            msg = f"unknown interval {text!r}; use one of {names}"
            raise InvalidInputError(msg) from None

    @property
    def is_calendar(self) -> bool:
        """True for ``1M``, whose length depends on the month."""
        return self is Interval.MONTH_1

    @property
    def duration_ms(self) -> int:
        """Length in milliseconds; for ``1M`` the nominal 31 days (an upper bound), see ``next_open_ms``."""
        return _DURATIONS[self]

    def open_time_ms(self, timestamp_ms: int) -> int:
        """Open time of the candle that contains ``timestamp_ms``."""
        if self is Interval.MONTH_1:
            moment = datetime.fromtimestamp(timestamp_ms // 1000, tz=UTC)
            return _epoch_ms(moment.year, moment.month)
        if self is Interval.WEEK_1:
            return timestamp_ms - (timestamp_ms - _WEEK_ORIGIN_MS) % _DURATIONS[self]
        return timestamp_ms - timestamp_ms % _DURATIONS[self]

    def is_aligned(self, timestamp_ms: int) -> bool:
        """Whether ``timestamp_ms`` is a valid open time for this interval."""
        return self.open_time_ms(timestamp_ms) == timestamp_ms

    def next_open_ms(self, open_time_ms: int) -> int:
        """Open time of the candle after the one that contains ``open_time_ms``."""
        start = self.open_time_ms(open_time_ms)
        if self is Interval.MONTH_1:
            moment = datetime.fromtimestamp(start // 1000, tz=UTC)
            year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)  # noqa: PLR2004
            return _epoch_ms(year, month)
        return start + _DURATIONS[self]

    def close_time_ms(self, open_time_ms: int) -> int:
        """Close time Binance reports for the candle: the next open time minus one millisecond."""
        return self.next_open_ms(open_time_ms) - 1

    def count_between(self, start_ms: int, end_ms: int) -> int:
        """How many candles open in ``[start_ms, end_ms]`` (both inclusive)."""
        if end_ms < start_ms:
            return 0
        first = self.open_time_ms(start_ms)
        if first < start_ms:
            first = self.next_open_ms(first)
        if first > end_ms:
            return 0
        if self is not Interval.MONTH_1:
            return (self.open_time_ms(end_ms) - first) // _DURATIONS[self] + 1
        count, cursor = 0, first
        while cursor <= end_ms:
            count += 1
            cursor = self.next_open_ms(cursor)
        return count


def _epoch_ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000


_DURATIONS: dict[Interval, int] = {
    Interval.SECOND_1: _SECOND,
    Interval.MINUTE_1: _MINUTE,
    Interval.MINUTE_3: 3 * _MINUTE,
    Interval.MINUTE_5: 5 * _MINUTE,
    Interval.MINUTE_15: 15 * _MINUTE,
    Interval.MINUTE_30: 30 * _MINUTE,
    Interval.HOUR_1: _HOUR,
    Interval.HOUR_2: 2 * _HOUR,
    Interval.HOUR_4: 4 * _HOUR,
    Interval.HOUR_6: 6 * _HOUR,
    Interval.HOUR_8: 8 * _HOUR,
    Interval.HOUR_12: 12 * _HOUR,
    Interval.DAY_1: _DAY,
    Interval.DAY_3: 3 * _DAY,
    Interval.WEEK_1: 7 * _DAY,
    Interval.MONTH_1: 31 * _DAY,
}
