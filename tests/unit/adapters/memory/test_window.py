"""Which candles a kline request selects: checked against a brute-force reading of Binance's rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory._window import kline_open_times
from domain import Interval

INTERVALS = [Interval.SECOND_1, Interval.MINUTE_1, Interval.HOUR_4, Interval.DAY_3, Interval.WEEK_1,
             Interval.MONTH_1]
LISTED_MS = 1_502_942_400_000  # 2017-08-17 04:00 UTC


def _reference(
    interval: Interval, first: int, last: int, start: int | None, end: int | None, limit: int
) -> list[int]:
    """Every candle that exists, filtered by open time, then the oldest (with a start) or newest ``limit``."""
    opens = [first]
    while opens[-1] < last:
        opens.append(interval.next_open_ms(opens[-1]))
    chosen = [t for t in opens if (start is None or t >= start) and (end is None or t <= end)]
    return chosen[:limit] if start is not None else chosen[-limit:]


@st.composite
def requests(draw: st.DrawFn) -> tuple[Interval, int, int, int | None, int | None, int]:
    interval = draw(st.sampled_from(INTERVALS))
    first = interval.open_time_ms(LISTED_MS)
    last = first
    for _ in range(draw(st.integers(0, 60))):
        last = interval.next_open_ms(last)
    span = interval.next_open_ms(last) - first
    instants = st.integers(first - span // 4, first + span + span // 4)
    start = draw(st.none() | instants)
    end = draw(st.none() | instants)
    if start is not None and end is not None and start > end:
        start, end = end, start
    return interval, first, last, start, end, draw(st.integers(1, 70))


@settings(max_examples=300, deadline=None)
@given(requests())
def test_selected_open_times_follow_binance_rules(
    request: tuple[Interval, int, int, int | None, int | None, int],
) -> None:
    assert kline_open_times(*request) == _reference(*request)


def test_monthly_candles_follow_calendar_months() -> None:
    first = Interval.MONTH_1.open_time_ms(LISTED_MS)  # 2017-08-01
    last = 1_517_443_200_000  # 2018-02-01

    opens = kline_open_times(Interval.MONTH_1, first, last, None, None, 3)

    # 2017-12-01, 2018-01-01 and 2018-02-01
    assert opens == [1_512_086_400_000, 1_514_764_800_000, 1_517_443_200_000]


def test_weekly_candles_open_on_mondays() -> None:
    first = Interval.WEEK_1.open_time_ms(LISTED_MS)

    opens = kline_open_times(Interval.WEEK_1, first, first + 10 * 7 * 86_400_000, LISTED_MS, None, 2)

    assert opens == [1_503_273_600_000, 1_503_878_400_000]  # Mondays 2017-08-21 and 2017-08-28


def test_times_far_outside_the_history_are_clamped() -> None:
    first = Interval.MONTH_1.open_time_ms(LISTED_MS)

    opens = kline_open_times(Interval.MONTH_1, first, first, -(10**15), 10**15, 5)

    assert opens == [first]


def test_a_history_without_any_candle_gives_nothing() -> None:
    first = Interval.MONTH_1.open_time_ms(LISTED_MS)
    before = Interval.MONTH_1.open_time_ms(first - 1)

    assert kline_open_times(Interval.MONTH_1, first, before, None, None, 5) == []
