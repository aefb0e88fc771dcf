"""Validators: generated valid data passes; each single corruption is reported with the right reason."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import (
    Balance,
    BookTicker,
    ExchangeInfo,
    Interval,
    Kline,
    PriceQuote,
    Symbol,
    SymbolRules,
    Ticker24h,
)
from domain.validators import (
    Reason,
    ValidationPolicy,
    ValidationReport,
    Violation,
    check_balance,
    check_book_ticker,
    check_kline,
    check_kline_series,
    check_price,
    check_price_on_tick,
    check_quantity,
    check_quantity_on_step,
    check_quote,
    check_symbol_tradable,
    check_ticker,
    check_timestamp,
    label_violations,
)
from tests.strategies import (
    NOW_MS,
    balances,
    book_tickers,
    exchange_infos,
    kline_series,
    klines,
    price_quotes,
    tickers_24h,
)

HISTORY = ValidationPolicy(max_age_ms=None)


def reasons(violations: list[Violation]) -> set[Reason]:
    return {v.reason for v in violations}


# --- valid data passes -------------------------------------------------------------------------------------


@given(klines())
def test_valid_klines_pass(kline: Kline) -> None:
    assert check_kline(kline, NOW_MS) == []


@given(price_quotes())
def test_valid_quotes_pass(quote: PriceQuote) -> None:
    assert check_quote(quote, NOW_MS) == []


@given(book_tickers())
def test_valid_book_tickers_pass(book: BookTicker) -> None:
    assert check_book_ticker(book, NOW_MS) == []


@given(tickers_24h())
def test_valid_tickers_pass(ticker: Ticker24h) -> None:
    assert check_ticker(ticker, NOW_MS) == []


@given(balances)
def test_valid_balances_pass(balance: Balance) -> None:
    assert check_balance(balance) == []
    assert balance.total == balance.free + balance.locked


@given(kline_series())
def test_a_gap_free_sorted_series_passes(series: tuple[Interval, list[Kline]]) -> None:
    interval, candles = series
    report = check_kline_series(candles, interval)
    assert report.ok
    assert report.missing_count == 0


# --- each single corruption is reported with the right reason ---------------------------------------------

KlineCorruption = Callable[[Kline], Kline]

KLINE_CORRUPTIONS: list[tuple[str, KlineCorruption, Reason]] = [
    ("zero open", lambda k: attrs.evolve(k, open=Decimal(0), low=Decimal(0)), Reason.PRICE_NOT_POSITIVE),
    ("negative close", lambda k: attrs.evolve(k, close=-k.close), Reason.PRICE_NOT_POSITIVE),
    ("NaN high", lambda k: attrs.evolve(k, high=Decimal("NaN")), Reason.NOT_FINITE),
    ("infinite low", lambda k: attrs.evolve(k, low=Decimal("-Infinity")), Reason.NOT_FINITE),
    ("negative volume", lambda k: attrs.evolve(k, volume=-k.volume - 1), Reason.NEGATIVE_QUANTITY),
    ("negative quote volume", lambda k: attrs.evolve(k, quote_volume=Decimal(-1)), Reason.NEGATIVE_QUANTITY),
    ("negative trades", lambda k: attrs.evolve(k, trade_count=-1), Reason.NEGATIVE_QUANTITY),
    ("high below close", lambda k: attrs.evolve(k, high=min(k.open, k.close) / 2), Reason.OHLC_INCONSISTENT),
    ("low above open", lambda k: attrs.evolve(k, low=max(k.open, k.close) * 2), Reason.OHLC_INCONSISTENT),
    (
        "close before open",
        lambda k: attrs.evolve(k, close_time_ms=k.open_time_ms - 1),
        Reason.CLOSE_BEFORE_OPEN,
    ),
    ("close time off", lambda k: attrs.evolve(k, close_time_ms=k.close_time_ms + 1), Reason.MISALIGNED_TIME),
    (
        "misaligned open",
        lambda k: attrs.evolve(k, open_time_ms=k.open_time_ms + 1, close_time_ms=k.close_time_ms + 1),
        Reason.MISALIGNED_TIME,
    ),
    (
        "opens in the future",
        lambda k: attrs.evolve(
            k,
            open_time_ms=k.interval.open_time_ms(NOW_MS + 40 * 86_400_000),
            close_time_ms=k.interval.close_time_ms(k.interval.open_time_ms(NOW_MS + 40 * 86_400_000)),
        ),
        Reason.FUTURE_TIMESTAMP,
    ),
]


@pytest.mark.parametrize(
    ("name", "corrupt", "reason"), KLINE_CORRUPTIONS, ids=[c[0] for c in KLINE_CORRUPTIONS]
)
@given(kline=klines())
def test_each_kline_corruption_is_reported(
    name: str, corrupt: KlineCorruption, reason: Reason, kline: Kline
) -> None:
    found = check_kline(corrupt(kline), NOW_MS)
    assert reason in reasons(found), name


@given(price_quotes(), st.sampled_from(["0", "-1", "NaN", "Infinity"]))
def test_bad_quote_prices_are_reported(quote: PriceQuote, bad: str) -> None:
    found = reasons(check_quote(attrs.evolve(quote, price=Decimal(bad)), NOW_MS))
    assert found == ({Reason.NOT_FINITE} if bad in {"NaN", "Infinity"} else {Reason.PRICE_NOT_POSITIVE})


@given(price_quotes(), st.integers(2_000, 10**9))
def test_quotes_from_the_future_are_reported(quote: PriceQuote, ahead: int) -> None:
    assert reasons(check_quote(attrs.evolve(quote, as_of_ms=NOW_MS + ahead), NOW_MS)) == {
        Reason.FUTURE_TIMESTAMP
    }


@given(price_quotes(), st.integers(5 * 60_000 + 1, 10**10))
def test_stale_quotes_are_reported(quote: PriceQuote, age: int) -> None:
    assert reasons(check_quote(attrs.evolve(quote, as_of_ms=NOW_MS - age), NOW_MS)) == {
        Reason.STALE_TIMESTAMP
    }


@given(balances, st.sampled_from(["free", "locked"]))
def test_negative_balances_are_reported(balance: Balance, field: str) -> None:
    negative = Decimal("-0.00000001")
    corrupted = (
        attrs.evolve(balance, free=negative) if field == "free" else attrs.evolve(balance, locked=negative)
    )
    found = check_balance(corrupted)
    assert [(v.field, v.reason) for v in found] == [(field, Reason.NEGATIVE_QUANTITY)]


@given(book_tickers())
def test_a_crossed_book_is_reported(book: BookTicker) -> None:
    crossed = attrs.evolve(book, bid_price=book.ask_price + 1)
    assert reasons(check_book_ticker(crossed, NOW_MS)) == {Reason.CROSSED_BOOK}


@given(tickers_24h())
def test_a_last_price_outside_the_day_range_is_reported(ticker: Ticker24h) -> None:
    corrupted = attrs.evolve(ticker, last_price=ticker.high_price + 1)
    assert Reason.OHLC_INCONSISTENT in reasons(check_ticker(corrupted, NOW_MS))


@given(tickers_24h(), st.sampled_from(["volume", "quote_volume"]))
def test_negative_ticker_volumes_are_reported(ticker: Ticker24h, field: str) -> None:
    corrupted = (
        attrs.evolve(ticker, volume=Decimal(-5))
        if field == "volume"
        else attrs.evolve(ticker, quote_volume=Decimal(-5))
    )
    assert [v.field for v in check_ticker(corrupted, NOW_MS)] == [field]


def test_all_violations_are_returned_not_just_the_first() -> None:
    kline = Kline(
        Symbol("BTCUSDT"),
        Interval.MINUTE_1,
        1_767_225_600_001,
        Decimal(-1),
        Decimal("NaN"),
        Decimal(1),
        Decimal(1),
        Decimal(-3),
        1_767_225_600_000,
        Decimal(1),
        -2,
        Decimal(0),
        Decimal(0),
    )
    found = reasons(check_kline(kline, NOW_MS))
    assert {
        Reason.PRICE_NOT_POSITIVE,
        Reason.NOT_FINITE,
        Reason.NEGATIVE_QUANTITY,
        Reason.CLOSE_BEFORE_OPEN,
    } <= found


# --- series: order, duplicates and gaps -------------------------------------------------------------------


@given(kline_series(min_size=3), st.data())
def test_a_removed_candle_is_reported_as_a_gap(
    series: tuple[Interval, list[Kline]], data: st.DataObject
) -> None:
    interval, candles = series
    index = data.draw(st.integers(1, len(candles) - 2))
    removed = candles.pop(index)
    report = check_kline_series(candles, interval)
    assert report.violations == ()
    assert [(g.start_ms, g.end_ms, g.count) for g in report.gaps] == [
        (removed.open_time_ms, removed.open_time_ms, 1)
    ]


@given(kline_series(min_size=2), st.data())
def test_a_repeated_candle_is_reported_as_a_duplicate(
    series: tuple[Interval, list[Kline]], data: st.DataObject
) -> None:
    interval, candles = series
    index = data.draw(st.integers(0, len(candles) - 1))
    candles.insert(index, candles[index])
    report = check_kline_series(candles, interval)
    assert reasons(list(report.violations)) == {Reason.DUPLICATE}
    assert report.gaps == ()


@given(kline_series(min_size=2), st.data())
def test_swapped_candles_are_reported_as_unsorted(
    series: tuple[Interval, list[Kline]], data: st.DataObject
) -> None:
    interval, candles = series
    index = data.draw(st.integers(0, len(candles) - 2))
    candles[index], candles[index + 1] = candles[index + 1], candles[index]
    assert Reason.UNSORTED in reasons(list(check_kline_series(candles, interval).violations))


@given(kline_series(min_size=1, max_size=10))
def test_missing_edges_of_a_requested_range_are_gaps(series: tuple[Interval, list[Kline]]) -> None:
    interval, candles = series
    before = interval.open_time_ms(candles[0].open_time_ms - 1)
    after = interval.next_open_ms(candles[-1].open_time_ms)
    report = check_kline_series(candles, interval, start_ms=before, end_ms=interval.close_time_ms(after))
    assert [(g.start_ms, g.count) for g in report.gaps] == [(before, 1), (after, 1)]
    assert report.missing_count == 2


def test_an_empty_series_over_a_range_is_one_gap() -> None:
    report = check_kline_series([], Interval.MINUTE_1, start_ms=0, end_ms=599_999)
    assert [(g.start_ms, g.end_ms, g.count) for g in report.gaps] == [(0, 540_000, 10)]


def test_a_candle_of_another_series_is_reported() -> None:
    symbol = Symbol("BTCUSDT")
    kline = Kline(
        symbol, Interval.MINUTE_5, 0, *(Decimal(1),) * 5, 299_999, Decimal(1), 1, Decimal(0), Decimal(0)
    )
    report = check_kline_series([kline], Interval.MINUTE_1, symbol=Symbol("ETHUSDT"))
    assert reasons(list(report.violations)) == {Reason.WRONG_SERIES}


# --- scalar checks, exchange rules -------------------------------------------------------------------------


def test_price_and_quantity_bounds() -> None:
    assert check_price(Decimal("0.00000001")) == []
    assert reasons(check_price(Decimal(0))) == {Reason.PRICE_NOT_POSITIVE}
    assert check_quantity(Decimal(0)) == []
    assert reasons(check_quantity(Decimal("sNaN"))) == {Reason.NOT_FINITE}


def test_timestamp_tolerances_come_from_the_policy() -> None:
    policy = ValidationPolicy(max_future_ms=500, max_age_ms=1_000)
    assert check_timestamp(NOW_MS + 500, NOW_MS, policy) == []
    assert reasons(check_timestamp(NOW_MS + 501, NOW_MS, policy)) == {Reason.FUTURE_TIMESTAMP}
    assert reasons(check_timestamp(NOW_MS - 1_001, NOW_MS, policy)) == {Reason.STALE_TIMESTAMP}
    assert check_timestamp(NOW_MS - 10**9, NOW_MS, HISTORY) == []


@given(exchange_infos())
def test_symbol_tradable_follows_listing_and_status(info: ExchangeInfo) -> None:
    for rules in info.symbols:
        found = reasons(check_symbol_tradable(rules.symbol, info))
        assert found == (set() if rules.status == "TRADING" else {Reason.SYMBOL_NOT_TRADING})
    unknown = Symbol("NOTLISTED0000000000X")
    if unknown not in info:
        assert reasons(check_symbol_tradable(unknown, info)) == {Reason.UNKNOWN_SYMBOL}


@given(exchange_infos(), st.integers(1, 10_000))
def test_prices_and_quantities_align_to_tick_and_step(info: ExchangeInfo, multiple: int) -> None:
    rules = info.symbols[0]
    assert rules.price_filter is not None
    assert rules.lot_size is not None
    tick, step = rules.price_filter.tick_size, rules.lot_size.step_size
    price = min(tick * multiple, rules.price_filter.max_price)
    assert check_price_on_tick(price, rules) == []
    assert Reason.PRICE_NOT_ON_TICK in reasons(check_price_on_tick(price + tick / 2, rules))
    quantity = min(step * multiple, rules.lot_size.max_qty)
    assert check_quantity_on_step(quantity, rules) == []
    assert Reason.QUANTITY_NOT_ON_STEP in reasons(check_quantity_on_step(quantity + step / 2, rules))


@given(exchange_infos())
def test_out_of_range_prices_and_quantities_are_reported(info: ExchangeInfo) -> None:
    rules = info.symbols[0]
    assert rules.price_filter is not None
    assert rules.lot_size is not None
    assert Reason.PRICE_OUT_OF_RANGE in reasons(check_price_on_tick(rules.price_filter.max_price * 2, rules))
    assert Reason.QUANTITY_OUT_OF_RANGE in reasons(check_quantity_on_step(rules.lot_size.max_qty * 2, rules))


def test_filters_absent_means_nothing_to_check() -> None:
    rules = SymbolRules(Symbol("BTCUSDT"), "TRADING", "BTC", "USDT")
    assert check_price_on_tick(Decimal("1.234567"), rules) == []
    assert check_quantity_on_step(Decimal("1.234567"), rules) == []


def test_report_counts_violations_by_reason() -> None:
    problems = label_violations("BTCUSDT", check_price(Decimal(0)) + check_quantity(Decimal(-1)))
    report = ValidationReport(checked=2, problems=tuple(problems))
    assert not report.ok
    assert report.counts_by_reason() == {Reason.PRICE_NOT_POSITIVE: 1, Reason.NEGATIVE_QUANTITY: 1}
    assert ValidationReport(checked=3).ok
