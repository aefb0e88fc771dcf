"""The column-wise page check accepts exactly what ``check_kline`` accepts, and its shortcuts change no
answer of the reference checks."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.market_data import MarketDataService
from domain import Interval, Kline, KlinePage, Symbol, build_kline_page
from domain.kline_page import PRICE_FIELDS, VOLUME_FIELDS, columns_pass
from domain.storage import STORAGE_POLICY, validate_klines
from domain.validators import ValidationPolicy, check_kline
from tests.strategies import NOW_MS, kline_series

_COLUMNS = tuple(f.name for f in attrs.fields(Kline) if f.name not in {"symbol", "interval"})
_DECIMAL_FIELDS = (*PRICE_FIELDS, *VOLUME_FIELDS)
_NO_FUTURE_BOUND = ValidationPolicy(max_future_ms=10**15, max_age_ms=None)

_odd_decimals = st.one_of(
    st.sampled_from(
        [Decimal(s) for s in ("0", "-0", "-1", "NaN", "sNaN", "Infinity", "-Infinity", "1E+30", "0E-8")]
    ),
    st.decimals(allow_nan=True, allow_infinity=True),
)


class _Clock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


def _columns(klines: list[Kline]) -> dict[str, Any]:
    return {name: [getattr(k, name) for k in klines] for name in _COLUMNS}


@st.composite
def _pages(draw: st.DrawFn) -> tuple[Interval, Symbol, list[Kline]]:
    """A valid series, perhaps with a hole, then sometimes a few fields spoiled or candles moved, so both
    answers occur."""
    interval, klines = draw(kline_series(min_size=0, max_size=12))
    symbol = klines[0].symbol if klines else Symbol("BTCUSDT")
    if len(klines) > 2 and draw(st.booleans()):  # a hole: still a valid page
        del klines[draw(st.integers(1, len(klines) - 2))]
    for _ in range(draw(st.integers(0, 3)) if klines else 0):
        index = draw(st.integers(0, len(klines) - 1))
        kline = klines[index]
        change = draw(st.sampled_from(["decimal", "time", "count", "swap", "repeat"]))
        if change == "decimal":
            spoiled: dict[str, Any] = {draw(st.sampled_from(_DECIMAL_FIELDS)): draw(_odd_decimals)}
            klines[index] = attrs.evolve(kline, **spoiled)
        elif change == "time":
            field = draw(st.sampled_from(["open_time_ms", "close_time_ms"]))
            delta = draw(st.sampled_from([-1, 1, -60_000, 60_000, -(10**12)]))
            moved: dict[str, Any] = {field: getattr(kline, field) + delta}
            klines[index] = attrs.evolve(kline, **moved)
        elif change == "count":
            klines[index] = attrs.evolve(kline, trade_count=draw(st.integers(-3, 3)))
        else:
            other = draw(st.integers(0, len(klines) - 1))
            if change == "swap":
                klines[index], klines[other] = klines[other], klines[index]
            else:
                klines[index] = klines[other]
    return interval, symbol, klines


def _reference_ok(klines: list[Kline]) -> bool:
    opens = [k.open_time_ms for k in klines]
    increasing = all(a < b for a, b in itertools.pairwise(opens))
    return increasing and all(check_kline(k, 0, _NO_FUTURE_BOUND) == [] for k in klines)


@given(_pages())
def test_a_page_is_certified_exactly_when_every_candle_passes_check_kline(
    page: tuple[Interval, Symbol, list[Kline]],
) -> None:
    interval, symbol, klines = page
    built = build_kline_page(_columns(klines), symbol, interval)

    assert [repr(k) for k in built] == [repr(attrs.evolve(k, symbol=symbol)) for k in klines]  # NaN != NaN
    assert all(type(k) is Kline for k in built)
    assert isinstance(built, KlinePage)
    assert built.is_checked_series(symbol, interval) == _reference_ok(klines)
    assert columns_pass(_columns(klines), interval) == _reference_ok(klines)


@given(_pages(), st.integers(-(10**13), 10**13), st.integers(-3, 3), st.integers(-3, 3))
def test_the_service_reports_the_same_problems_for_a_checked_page(
    page: tuple[Interval, Symbol, list[Kline]], now_shift: int, start_shift: int, end_shift: int
) -> None:
    interval, symbol, klines = page
    built = build_kline_page(_columns(klines), symbol, interval)
    now = NOW_MS + now_shift
    service = MarketDataService(None, _Clock(now))  # type: ignore[arg-type]  # no port call is made
    start = (klines[0].open_time_ms if klines else 0) + start_shift * interval.duration_ms
    end = (klines[-1].open_time_ms if klines else 0) + end_shift * interval.duration_ms
    for bounds in ((start, end), (None, None)):
        fast = service._kline_problems(built, symbol, interval, *bounds)
        reference = service._kline_problems(list(built), symbol, interval, *bounds)
        assert fast == reference


@given(_pages(), st.integers(-(10**13), 10**13))
def test_split_closed_agrees_with_the_store_validation(
    page: tuple[Interval, Symbol, list[Kline]], now_shift: int
) -> None:
    interval, symbol, klines = page
    built = build_kline_page(_columns(klines), symbol, interval)
    if not built.is_checked_series(symbol, interval):
        assert built.split_closed(NOW_MS, STORAGE_POLICY.max_future_ms) is None
        return
    now = NOW_MS + now_shift
    split = built.split_closed(now, STORAGE_POLICY.max_future_ms)
    reference = validate_klines(list(built), now, STORAGE_POLICY)
    if split is None:  # a candle opens in the future: the full validation rejects it
        assert reference.rejections
        return
    accepted, not_closed = split
    assert accepted == reference.accepted
    assert not_closed == reference.not_closed
    assert reference.duplicates == 0
    assert not reference.rejections


def test_a_page_changed_after_its_check_loses_the_certificate() -> None:
    interval, symbol = Interval.MINUTE_1, Symbol("BTCUSDT")
    one = Decimal(1)
    good = Kline(symbol, interval, 60_000, one, one, one, one, one, 119_999, one, 1, one, one)
    bad = attrs.evolve(good, low=Decimal(-1))
    built = build_kline_page(_columns([good]), symbol, interval)
    assert built.is_checked_series(symbol, interval)
    assert not built.is_checked_series(Symbol("ETHUSDT"), interval)
    assert not built.is_checked_series(symbol, Interval.MINUTE_3)

    built[0] = bad

    assert not built.intact()
    assert not built.is_checked_series(symbol, interval)
    assert built.split_closed(10**13, 1_000) is None
    service = MarketDataService(None, _Clock(10**13))  # type: ignore[arg-type]  # no port call is made
    assert service._kline_problems(built, symbol, interval, None, None)


def test_columns_must_name_every_field() -> None:
    with pytest.raises(ValueError, match="kline columns"):
        build_kline_page({"open": []}, Symbol("BTCUSDT"), Interval.MINUTE_1)
