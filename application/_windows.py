"""Range arithmetic for backfills: windows of at most one page, holes in a page, and why a range is missing.

Ranges are inclusive open times of one interval, as ``domain.validators.MissingRange``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import attrs

from application.backfill_report import GapKind, ReportedGap
from domain import Interval
from domain.validators import MissingRange

__all__ = ["Cause", "Window", "classify", "holes", "split_windows"]


@attrs.frozen
class Window:
    """One request's worth of candles: ``count`` open times from ``start_ms`` to ``end_ms``."""

    start_ms: int
    end_ms: int
    count: int


def _last_of_window(interval: Interval, start_ms: int, size: int) -> int:
    if not interval.is_calendar:
        return start_ms + (size - 1) * interval.duration_ms
    cursor = start_ms
    for _ in range(size - 1):
        cursor = interval.next_open_ms(cursor)
    return cursor


def split_windows(interval: Interval, ranges: Iterable[MissingRange], size: int) -> Iterator[Window]:
    """Each range cut into windows of at most ``size`` candles, oldest first, produced lazily."""
    for missing in ranges:
        start = missing.start_ms
        while start <= missing.end_ms:
            end = min(_last_of_window(interval, start, size), missing.end_ms)
            yield Window(start, end, interval.count_between(start, end))
            start = interval.next_open_ms(end)


def holes(interval: Interval, start_ms: int, end_ms: int, open_times: Iterable[int]) -> list[MissingRange]:
    """The runs of open times in ``[start_ms, end_ms]`` missing from ``open_times`` (sorted ascending)."""
    found: list[MissingRange] = []
    expected = start_ms
    for open_ms in open_times:
        if open_ms < expected:
            continue  # a repeat, or before the range
        if open_ms > end_ms:
            break
        if open_ms > expected:
            last = _previous_open(interval, open_ms)
            found.append(MissingRange(expected, last, interval.count_between(expected, last)))
        expected = interval.next_open_ms(open_ms)
    if expected <= end_ms:
        found.append(MissingRange(expected, end_ms, interval.count_between(expected, end_ms)))
    return found


def _previous_open(interval: Interval, open_ms: int) -> int:
    return interval.open_time_ms(open_ms - 1)


@attrs.frozen
class Cause:
    """Why the open times ``[start_ms, end_ms]`` may be missing: a kind and, for a failure, the error."""

    start_ms: int
    end_ms: int
    kind: GapKind
    error: str | None = None
    error_type: str | None = None
    exit_code: int | None = None


_UNEXPLAINED = Cause(0, 0, GapKind.FAILED, "not stored, for no recorded reason", "UnexplainedGap", 1)


def classify(
    interval: Interval, missing: Sequence[MissingRange], causes: Sequence[Cause]
) -> list[ReportedGap]:
    """Cut each missing range along the recorded causes (sorted by start, not overlapping); parts with no
    cause are reported as failed. Adjacent parts with the same kind and error are merged."""
    pieces: list[ReportedGap] = []
    index = 0
    for gap in missing:
        cursor = gap.start_ms
        while index < len(causes) and causes[index].end_ms < gap.start_ms:
            index += 1
        scan = index
        while cursor <= gap.end_ms:
            cause = causes[scan] if scan < len(causes) else None
            if cause is None or cause.start_ms > gap.end_ms:
                _add(pieces, interval, cursor, gap.end_ms, _UNEXPLAINED)
                break
            if cause.start_ms > cursor:
                _add(pieces, interval, cursor, _previous_open(interval, cause.start_ms), _UNEXPLAINED)
                cursor = cause.start_ms
            last = min(cause.end_ms, gap.end_ms)
            _add(pieces, interval, cursor, last, cause)
            cursor = interval.next_open_ms(last)
            if cause.end_ms <= gap.end_ms:
                scan += 1
    return pieces


def _add(pieces: list[ReportedGap], interval: Interval, start: int, end: int, cause: Cause) -> None:
    count = interval.count_between(start, end)
    if not count:
        return
    previous = pieces[-1] if pieces else None
    if (
        previous is not None
        and previous.kind is cause.kind
        and previous.error_type == cause.error_type
        and interval.next_open_ms(previous.end_ms) == start
    ):
        pieces[-1] = attrs.evolve(previous, end_ms=end, count=previous.count + count)
        return
    pieces.append(ReportedGap(start, end, count, cause.kind, cause.error, cause.error_type, cause.exit_code))
