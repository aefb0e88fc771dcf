"""Kline intervals and Binance's open-time alignment (epoch multiples, Monday weeks, calendar months)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tests.loopback.errors import BinanceError

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
_MONDAY = 4 * DAY  # 1970-01-01 was a Thursday; the first Monday began four days later
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TZ = re.compile(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$")

FIXED_MS = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": WEEK,
}
INTERVALS = (*FIXED_MS, "1M")


def parse_interval(name: str | None) -> Interval:
    if name is None:
        raise BinanceError(
            -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."
        )
    if name not in INTERVALS:
        raise BinanceError(-1120)
    return Interval(name)


def parse_time_zone(text: str | None) -> int:
    """`timeZone` as an offset in ms: forms like `-1:00`, `05:45`, `8`; range -12:00..+14:00."""
    if text is None:
        return 0
    match = _TZ.match(text)
    if match is None:
        raise BinanceError(-1130, "Data sent for parameter 'timeZone' is not valid.")
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    offset = sign * (hours * HOUR + minutes * MINUTE)
    if minutes >= 60 or not -12 * HOUR <= offset <= 14 * HOUR:
        raise BinanceError(-1130, "Data sent for parameter 'timeZone' is not valid.")
    return offset


def _month_start(ms: int, months_ahead: int = 0) -> int:
    moment = _EPOCH + timedelta(milliseconds=ms)
    index = moment.year * 12 + moment.month - 1 + months_ahead
    start = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
    return (start - _EPOCH) // timedelta(milliseconds=1)


class Interval:
    """One kline interval; `offset_ms` shifts bar alignment for `timeZone` (times stay UTC epoch)."""

    __slots__ = ("fixed_ms", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fixed_ms: int | None = FIXED_MS.get(name)

    def approx_ms(self) -> int:
        return self.fixed_ms if self.fixed_ms is not None else 30 * DAY

    def floor(self, t: int, offset_ms: int = 0) -> int:
        """Open time of the candle that contains `t`."""
        if self.fixed_ms is None:
            return _month_start(t + offset_ms) - offset_ms
        base = _MONDAY if self.fixed_ms == WEEK else 0
        return t - (t + offset_ms - base) % self.fixed_ms

    def next_open(self, open_ms: int, offset_ms: int = 0) -> int:
        if self.fixed_ms is None:
            return _month_start(open_ms + offset_ms, 1) - offset_ms
        return open_ms + self.fixed_ms

    def ceil(self, t: int, offset_ms: int = 0) -> int:
        """Open time of the first candle that opens at or after `t`."""
        start = self.floor(t, offset_ms)
        return start if start == t else self.next_open(start, offset_ms)

    def open_times(
        self,
        *,
        first_open: int,
        last_open: int,
        start: int | None,
        end: int | None,
        limit: int,
        offset_ms: int = 0,
    ) -> Sequence[int]:
        """The open times a klines request returns, oldest first (section 2's ordering rules)."""
        if start is not None:
            lo = self.ceil(max(start, first_open), offset_ms)
            hi = last_open if end is None else min(last_open, self.floor(end, offset_ms))
            return self._forward(lo, hi, limit, offset_ms)
        hi = last_open if end is None else min(last_open, self.floor(end, offset_ms))
        return self._backward(first_open, hi, limit, offset_ms)

    def _forward(self, lo: int, hi: int, limit: int, offset_ms: int) -> Sequence[int]:
        if lo > hi:
            return []
        if self.fixed_ms is not None:
            count = min(limit, (hi - lo) // self.fixed_ms + 1)
            return range(lo, lo + count * self.fixed_ms, self.fixed_ms)
        out: list[int] = []
        t = lo
        while t <= hi and len(out) < limit:
            out.append(t)
            t = self.next_open(t, offset_ms)
        return out

    def _backward(self, lo: int, hi: int, limit: int, offset_ms: int) -> Sequence[int]:
        if lo > hi:
            return []
        if self.fixed_ms is not None:
            count = min(limit, (hi - lo) // self.fixed_ms + 1)
            first = hi - (count - 1) * self.fixed_ms
            return range(first, hi + 1, self.fixed_ms)
        out: list[int] = []
        t = hi
        while t >= lo and len(out) < limit:
            out.append(t)
            t = _month_start(t + offset_ms, -1) - offset_ms
        out.reverse()
        return out
