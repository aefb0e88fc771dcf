"""Health statuses order from ok to down, thresholds grade values, reports take the worst signal."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import ExchangeStatus, HealthReport, SignalResult, Status, Threshold

bounds = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@given(bounds, bounds, bounds)
def test_a_larger_value_never_gets_a_better_status(a: float, b: float, value: float) -> None:
    threshold = Threshold(degraded=min(a, b), down=max(a, b))

    assert threshold.classify(value).severity <= threshold.classify(value * 2 + 1).severity


def test_classify_includes_the_bounds() -> None:
    threshold = Threshold(degraded=1, down=5)

    assert [threshold.classify(v) for v in (0.99, 1, 4.99, 5)] == [
        Status.OK,
        Status.DEGRADED,
        Status.DEGRADED,
        Status.DOWN,
    ]
    assert threshold.bound_for(Status.OK) == 1
    assert threshold.bound_for(Status.DOWN) == 5


@pytest.mark.parametrize(("degraded", "down"), [(-1, 5), (1, math.inf), (math.nan, 1), (5, 1)])
def test_impossible_thresholds_are_refused(degraded: float, down: float) -> None:
    with pytest.raises(ValueError, match=r"threshold|finite"):
        Threshold(degraded=degraded, down=down)


def test_the_report_is_as_bad_as_its_worst_signal() -> None:
    report = HealthReport(
        checked_at_ms=0,
        signals=(
            SignalResult("a", Status.DEGRADED, 1.0, 1.0, "a"),
            SignalResult("b", Status.OK, 0.0, 1.0, "b"),
            SignalResult("c", Status.DOWN, None, None, "c"),
        ),
    )

    assert report.status is Status.DOWN
    assert [s.name for s in report.problems] == ["c", "a"]
    assert report.signal("b") is not None
    assert report.signal("zzz") is None
    assert HealthReport(0, ()).status is Status.OK
    assert [s.severity for s in Status] == [0, 1, 2]


def test_exchange_status_shares_are_unknown_until_measured() -> None:
    assert ExchangeStatus(window_s=60).error_rate is None
    assert ExchangeStatus(window_s=60).weight_usage is None
    assert ExchangeStatus(window_s=60, used_weight=10, weight_limit=0).weight_usage is None
    assert (
        ExchangeStatus(window_s=60, requests=4, errors=1, used_weight=30, weight_limit=60).error_rate == 0.25
    )
    assert ExchangeStatus(window_s=60, used_weight=30, weight_limit=60).weight_usage == 0.5
