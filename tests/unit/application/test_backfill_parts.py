"""The pieces behind backfill and collection: range arithmetic, the cadence plan, finishing a write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from application._cancel import finish_even_if_cancelled
from application._windows import Cause, Window, classify, holes, split_windows
from application.backfill_report import (
    BackfillReport,
    GapKind,
    ReportedGap,
    SeriesReport,
)
from application.cadence import RequestCosts, WeightBudget, plan_cadence
from domain import Interval, RateLimit, Symbol
from domain.validators import MissingRange

M1, MONTH = Interval.MINUTE_1, Interval.MONTH_1
T = 1_700_000_040_000  # a minute open
MIN = 60_000


def _ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def test_a_range_is_cut_into_windows_of_one_page() -> None:
    windows = list(split_windows(M1, [MissingRange(T, T + 2_499 * MIN, 2_500)], 1000))

    assert windows == [
        Window(T, T + 999 * MIN, 1000),
        Window(T + 1000 * MIN, T + 1999 * MIN, 1000),
        Window(T + 2000 * MIN, T + 2499 * MIN, 500),
    ]


def test_calendar_months_are_cut_by_the_calendar() -> None:
    windows = list(split_windows(MONTH, [MissingRange(_ms(2020, 1), _ms(2021, 2), 14)], 12))

    assert windows == [Window(_ms(2020, 1), _ms(2020, 12), 12), Window(_ms(2021, 1), _ms(2021, 2), 2)]


def test_holes_are_the_open_times_missing_from_a_page() -> None:
    found = holes(
        M1, T, T + 9 * MIN, [T - MIN, T + 2 * MIN, T + 2 * MIN, T + 3 * MIN, T + 7 * MIN, T + 20 * MIN]
    )

    assert found == [
        MissingRange(T, T + MIN, 2),
        MissingRange(T + 4 * MIN, T + 6 * MIN, 3),
        MissingRange(T + 8 * MIN, T + 9 * MIN, 2),
    ]
    assert holes(M1, T, T + 2 * MIN, [T, T + MIN, T + 2 * MIN]) == []


def test_missing_ranges_are_cut_along_their_causes_and_the_rest_is_unexplained() -> None:
    failed = Cause(T + 2 * MIN, T + 4 * MIN, GapKind.FAILED, "reset", "NetworkError", 6)
    empty = Cause(T + 5 * MIN, T + 6 * MIN, GapKind.EMPTY)
    missing = [MissingRange(T, T + 6 * MIN, 7), MissingRange(T + 9 * MIN, T + 9 * MIN, 1)]

    gaps = classify(M1, missing, [failed, empty])

    assert [(g.start_ms, g.end_ms, g.count, g.kind, g.error_type) for g in gaps] == [
        (T, T + MIN, 2, GapKind.FAILED, "UnexplainedGap"),
        (T + 2 * MIN, T + 4 * MIN, 3, GapKind.FAILED, "NetworkError"),
        (T + 5 * MIN, T + 6 * MIN, 2, GapKind.EMPTY, None),
        (T + 9 * MIN, T + 9 * MIN, 1, GapKind.FAILED, "UnexplainedGap"),
    ]


def test_a_cause_over_two_missing_ranges_explains_both_and_neighbours_of_one_kind_merge() -> None:
    first = Cause(T, T + 9 * MIN, GapKind.FAILED, "busy", "ExchangeUnavailableError", 6)
    second = Cause(T + 10 * MIN, T + 19 * MIN, GapKind.FAILED, "busy again", "ExchangeUnavailableError", 6)
    missing = [MissingRange(T, T + 3 * MIN, 4), MissingRange(T + 5 * MIN, T + 14 * MIN, 10)]

    gaps = classify(M1, missing, [first, second])

    assert [(g.start_ms, g.end_ms, g.count, g.error) for g in gaps] == [
        (T, T + 3 * MIN, 4, "busy"),
        (T + 5 * MIN, T + 14 * MIN, 10, "busy"),
    ]


def _series(*gaps: ReportedGap) -> SeriesReport:
    return SeriesReport(Symbol("BTCUSDT"), M1, T, T, 1, 0, 1, 1, 0, 0, gaps=gaps)


def test_a_report_is_complete_when_only_empty_ranges_remain() -> None:
    empty = ReportedGap(T, T, 1, GapKind.EMPTY)
    rejected = ReportedGap(T, T, 1, GapKind.REJECTED, "bad", "DataValidationError", 7)

    assert BackfillReport((_series(empty),), 0, 1).exit_code == 0
    report = BackfillReport((_series(empty), _series(rejected)), 0, 1)
    assert (report.complete, report.exit_code, report.series[1].missing) == (False, 7, 1)


def test_the_cadence_is_the_wish_when_the_budget_allows_it() -> None:
    cadence = plan_cadence(WeightBudget(6000, 60_000), {M1: 5, Interval.SECOND_1: 5})

    assert cadence.stretch == 1.0
    assert cadence.price_every_ms == 1_000
    assert cadence.kline_every_ms == {M1: 60_000, Interval.SECOND_1: 1_000}
    assert cadence.weight_per_s == pytest.approx(4 + 5 * 2 / 60 + 5 * 2)


def test_hundreds_of_one_second_series_stretch_every_period_to_fit_the_share() -> None:
    budget = WeightBudget(6000, 60_000)

    cadence = plan_cadence(budget, {Interval.SECOND_1: 300}, share=0.5)

    assert cadence.stretch > 10
    assert cadence.weight_per_s <= budget.per_second * 0.5
    assert cadence.kline_every_ms[Interval.SECOND_1] == cadence.price_every_ms


def test_heavier_requests_stretch_more() -> None:
    light = plan_cadence(WeightBudget(600, 60_000), {M1: 100})
    heavy = plan_cadence(WeightBudget(600, 60_000), {M1: 100}, costs=RequestCosts(prices=4, klines=4))

    assert heavy.stretch > light.stretch > 1


@pytest.mark.parametrize("share", [0.0, 1.5])
def test_the_share_must_be_a_fraction(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        plan_cadence(WeightBudget(), {M1: 1}, share=share)


def test_the_budget_is_the_tightest_request_weight_limit() -> None:
    limits = [
        RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000),
        RateLimit("REQUEST_WEIGHT", "SECOND", 10, 300),
        RateLimit("RAW_REQUESTS", "SECOND", 1, 1),
        RateLimit("REQUEST_WEIGHT", "FORTNIGHT", 1, 1),
    ]

    assert WeightBudget.from_rate_limits(limits) == WeightBudget(300, 10_000)
    assert WeightBudget.from_rate_limits([]) == WeightBudget(6000, 60_000)


async def test_a_write_under_way_finishes_when_its_caller_is_cancelled() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def write() -> str:
        started.set()
        await release.wait()
        finished.append("stored")
        return "stored"

    caller = asyncio.ensure_future(finish_even_if_cancelled(write()))
    await started.wait()
    caller.cancel()
    await asyncio.sleep(0)
    release.set()

    with pytest.raises(asyncio.CancelledError):
        await caller
    assert finished == ["stored"]
