"""Which candles a kline request returns: Binance's rules for ``startTime``, ``endTime`` and ``limit``."""

from __future__ import annotations

from domain import Interval

__all__ = ["kline_open_times"]


def kline_open_times(
    interval: Interval,
    first_open_ms: int,
    last_open_ms: int,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
) -> list[int]:
    """Open times of the candles to return, oldest first.

    ``first_open_ms`` and ``last_open_ms`` are the first candle that exists (the one containing the listing)
    and the newest (still open) one. A candle is identified by its open time: ``start_ms`` selects candles
    opening at or after it, ``end_ms`` those opening at or before it. With ``start_ms`` the oldest ``limit``
    candles of the range are returned, otherwise the newest ``limit``. Out-of-range times clamp silently.
    """
    low, high = first_open_ms, last_open_ms
    if start_ms is not None:
        if start_ms > high:
            return []
        low = _first_open_at_or_after(interval, max(low, start_ms))
    if end_ms is not None:
        if end_ms < low:
            return []
        high = interval.open_time_ms(min(high, end_ms))
    if low > high:
        return []
    if start_ms is not None:
        return _forward(interval, low, high, limit)
    return _backward(interval, low, high, limit)


def _first_open_at_or_after(interval: Interval, timestamp_ms: int) -> int:
    open_ms = interval.open_time_ms(timestamp_ms)
    return open_ms if open_ms == timestamp_ms else interval.next_open_ms(open_ms)


def _forward(interval: Interval, low: int, high: int, limit: int) -> list[int]:
    if not interval.is_calendar:
        step = interval.duration_ms
        return list(range(low, min(high, low + (limit - 1) * step) + 1, step))
    opens = [low]
    while len(opens) < limit and (following := interval.next_open_ms(opens[-1])) <= high:
        opens.append(following)
    return opens


def _backward(interval: Interval, low: int, high: int, limit: int) -> list[int]:
    if not interval.is_calendar:
        step = interval.duration_ms
        return list(range(max(low, high - (limit - 1) * step), high + 1, step))
    opens = [high]
    while len(opens) < limit and (previous := interval.open_time_ms(opens[-1] - 1)) >= low:
        opens.append(previous)
    return opens[::-1]
