"""Turn the ways a caller names a time range (datetimes, epoch milliseconds, a number of days) into ms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from domain import InvalidInputError, ms_to_datetime

__all__ = ["Moment", "TimeRange", "resolve_range", "to_ms"]

#: A point in time: an aware datetime (a naive one is read as UTC) or integer epoch milliseconds.
Moment = datetime | int

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_DAY_MS = 86_400_000


@attrs.frozen
class TimeRange:
    """``[start_ms, end_ms]``, both inclusive, in epoch milliseconds."""

    start_ms: int
    end_ms: int


def to_ms(value: Moment, name: str) -> int:
    """Epoch milliseconds of ``value``; a naive datetime is taken to be UTC."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) // _MS
    if isinstance(value, bool):  # an int to Python, but never a time
        msg = f"{name} must be a datetime or epoch milliseconds, not a bool"
        raise InvalidInputError(msg)
    return value


def _iso(ms: int) -> str:
    return ms_to_datetime(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def resolve_range(
    start: Moment | None, end: Moment | None, days: float | None, *, now_ms: int
) -> TimeRange:
    """Exactly one of ``start`` (with an optional ``end``, default now) or ``days`` back from now.

    An impossible range (both forms, neither, ``days <= 0``, start after end, start in the future,
    start before 1970) raises ``InvalidInputError``. An end in the future is clamped to now.
    """
    if days is not None:
        if start is not None or end is not None:
            msg = "give either a number of days or a start (and end) time, not both"
            raise InvalidInputError(msg)
        if isinstance(days, bool) or not days > 0:
            msg = f"the number of days must be positive, not {days}"
            raise InvalidInputError(msg)
        start_ms, end_ms = now_ms - round(days * _DAY_MS), now_ms
    else:
        if start is None:
            msg = "give a start time or a number of days"
            raise InvalidInputError(msg)
        start_ms = to_ms(start, "start")
        end_ms = now_ms if end is None else to_ms(end, "end")
        if start_ms > now_ms:
            msg = f"start {_iso(start_ms)} is in the future (now is {_iso(now_ms)})"
            raise InvalidInputError(msg)
        if start_ms > end_ms:
            msg = f"start {_iso(start_ms)} is after end {_iso(end_ms)}"
            raise InvalidInputError(msg)
    if start_ms < 0:
        msg = "the range starts before 1970-01-01; ask for fewer days or a later start"
        raise InvalidInputError(msg)
    return TimeRange(start_ms, min(end_ms, now_ms))
