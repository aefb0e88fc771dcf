"""How a store sorts a batch: its fast path for candles agrees with ``check_kline`` on every row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from domain import Interval, Kline, KlineCoverage, SaveResult, Symbol, build_kline_page
from domain.kline_page import DECIMAL_FIELDS
from domain.storage import KLINE_FIELDS, validate_klines
from domain.validators import MissingRange, Reason, check_kline
from tests.strategies import NOW_MS, kline_series, klines

_BAD_DECIMALS = st.sampled_from(
    [Decimal(-1), Decimal(0), Decimal("NaN"), Decimal("Infinity"), Decimal("-0.5")]
)
_DECIMAL_FIELDS = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
]


@st.composite
def _maybe_broken(draw: st.DrawFn) -> Kline:
    kline: Kline = draw(klines(now_ms=NOW_MS))
    for _ in range(draw(st.integers(0, 2))):
        change = draw(st.sampled_from(["decimal", "open_time", "close_time", "trade_count", "future"]))
        if change == "decimal":
            changes: dict[str, Any] = {draw(st.sampled_from(_DECIMAL_FIELDS)): draw(_BAD_DECIMALS)}
            kline = attrs.evolve(kline, **changes)
        elif change == "open_time":
            kline = attrs.evolve(kline, open_time_ms=kline.open_time_ms + draw(st.integers(1, 999)))
        elif change == "close_time":
            kline = attrs.evolve(kline, close_time_ms=kline.close_time_ms + draw(st.sampled_from([-1, 1])))
        elif change == "trade_count":
            kline = attrs.evolve(kline, trade_count=-1)
        else:
            opens = kline.interval.open_time_ms(NOW_MS + 86_400_000 * 40)
            kline = attrs.evolve(kline, open_time_ms=opens, close_time_ms=kline.interval.close_time_ms(opens))
    return kline


@given(_maybe_broken())
def test_a_candle_is_rejected_exactly_when_check_kline_finds_a_violation(kline: Kline) -> None:
    violations = check_kline(kline, NOW_MS)

    batch = validate_klines([kline], NOW_MS)

    if violations:
        assert batch.accepted == ()
        assert [(r.reason, r.count) for r in batch.rejections] == [(violations[0].reason, 1)]
    else:
        assert batch.rejections == ()
        assert len(batch.accepted) + batch.not_closed == 1


@given(st.lists(klines(symbol=Symbol("BTCUSDT"), interval=Interval.MINUTE_1), max_size=12))
def test_a_batch_comes_out_one_row_per_key_in_key_order_the_last_repeat_winning(batch: list[Kline]) -> None:
    validated = validate_klines(batch, NOW_MS)

    expected = {k.open_time_ms: k for k in batch}
    assert list(validated.accepted) == [expected[t] for t in sorted(expected)]
    assert validated.duplicates == len(batch) - len(expected)
    assert validated.result(stored=len(expected), updated=0).received == len(batch)


@given(
    kline_series(max_size=12),
    st.sampled_from([None, "volume", "open_time_ms"]),
    st.integers(-(10**13), 10**13),
)
def test_a_page_checked_as_it_was_built_is_sorted_as_its_candles_would_be(
    series: tuple[Interval, list[Kline]], spoil: str | None, now_shift: int
) -> None:
    interval, candles = series
    if spoil and candles:  # a page that fails its check goes the long way
        candles[-1] = attrs.evolve(candles[-1], **{spoil: getattr(candles[-1], spoil) - 1})
    symbol = candles[0].symbol if candles else Symbol("BTCUSDT")
    columns = {name: [getattr(k, name) for k in candles] for name in KLINE_FIELDS[2:]}
    for name in DECIMAL_FIELDS:  # as an exchange sends them
        columns[name] = [format(value, "f") for value in columns[name]]
    page = build_kline_page(columns, symbol, interval)
    now_ms = NOW_MS + now_shift

    assert page is not None or (spoil and candles)  # a valid page in plain form is proved as it is built
    if page is not None:
        assert validate_klines(page, now_ms) == validate_klines(candles, now_ms)


def test_results_add_up_across_batches() -> None:
    first = SaveResult(stored=2, duplicates=1, rejected_by_reason={Reason.GAP: 1})
    second = SaveResult(updated=3, not_closed=1, rejected_by_reason={Reason.GAP: 2, Reason.NOT_FINITE: 1})

    total = first + second

    assert (total.stored, total.updated, total.duplicates, total.not_closed, total.rejected) == (
        2,
        3,
        1,
        1,
        4,
    )
    assert dict(total.rejected_by_reason) == {Reason.GAP: 3, Reason.NOT_FINITE: 1}
    assert total.received == 11


def test_coverage_turns_holes_into_missing_ranges() -> None:
    hour = Interval.HOUR_1
    start = 1_767_225_600_000

    coverage = KlineCoverage.from_holes(
        Symbol("BTCUSDT"),
        hour,
        start - 1,
        start + 10 * 3_600_000,
        4,
        start + 3_600_000,
        start + 8 * 3_600_000,
        [(start + 3_600_000, start + 5 * 3_600_000)],
    )

    assert coverage.gaps == (
        MissingRange(start, start, 1),
        MissingRange(start + 2 * 3_600_000, start + 4 * 3_600_000, 3),
        MissingRange(start + 9 * 3_600_000, start + 10 * 3_600_000, 2),
    )
    assert coverage.expected == 10


def test_a_nan_is_rejected_as_not_finite_not_raised() -> None:
    minute = Interval.MINUTE_1
    opens = minute.open_time_ms(NOW_MS - 3_600_000)
    price = Decimal("42000.5")
    nan_volume = Kline(
        Symbol("BTCUSDT"),
        minute,
        opens,
        price,
        price,
        price,
        price,
        Decimal("NaN"),
        minute.close_time_ms(opens),
        Decimal(1),
        1,
        Decimal(0),
        Decimal(0),
    )

    batch = validate_klines([nan_volume], NOW_MS)

    assert [(r.reason, r.count) for r in batch.rejections] == [(Reason.NOT_FINITE, 1)]
