"""Check a batch of market data with the domain validators and gather every problem in one report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from domain import (
    Balance,
    BookTicker,
    DataValidationError,
    ExchangeInfo,
    Interval,
    Kline,
    PriceQuote,
    Symbol,
    Ticker24h,
)
from domain.validators import (
    DEFAULT_POLICY,
    MissingRange,
    ValidationPolicy,
    ValidationReport,
    Violation,
    check_balance,
    check_book_ticker,
    check_kline,
    check_kline_series,
    check_price_on_tick,
    check_quote,
    check_symbol_tradable,
    check_ticker,
    label_violations,
)

__all__ = ["KlineRanges", "raise_if_invalid", "validate_market_data"]

#: The open-time range a kline series was asked for, so that missing candles at either end count as gaps.
KlineRanges = Mapping[tuple[Symbol, Interval], tuple[int, int]]

_SHOWN_PROBLEMS = 3


def validate_market_data(  # noqa: PLR0913 - one keyword per kind of data keeps call sites readable
    *,
    now_ms: int,
    policy: ValidationPolicy = DEFAULT_POLICY,
    quotes: Iterable[PriceQuote] = (),
    tickers: Iterable[Ticker24h] = (),
    book_tickers: Iterable[BookTicker] = (),
    klines: Iterable[Kline] = (),
    balances: Iterable[Balance] = (),
    exchange_info: ExchangeInfo | None = None,
    kline_ranges: KlineRanges | None = None,
) -> ValidationReport:
    """Validate everything given and report each violation under a label such as ``BTCUSDT quote``.

    Klines are checked one by one and then as series grouped by symbol and interval (sorted, no
    duplicates, every gap reported; with ``kline_ranges`` also the gaps at either end of the range).
    With ``exchange_info`` every symbol seen must be listed and trading, and quoted prices on tick.
    """
    problems: list[tuple[str, Violation]] = []
    gaps: list[tuple[str, MissingRange]] = []
    checked = 0
    symbols: dict[Symbol, None] = {}

    for quote in quotes:
        checked += 1
        symbols[quote.symbol] = None
        found = check_quote(quote, now_ms, policy)
        rules = exchange_info.find(quote.symbol) if exchange_info is not None else None
        if rules is not None:
            found += check_price_on_tick(quote.price, rules)
        problems += label_violations(f"{quote.symbol} quote", found)
    for ticker in tickers:
        checked += 1
        symbols[ticker.symbol] = None
        problems += label_violations(f"{ticker.symbol} ticker24h", check_ticker(ticker, now_ms, policy))
    for book in book_tickers:
        checked += 1
        symbols[book.symbol] = None
        problems += label_violations(f"{book.symbol} book", check_book_ticker(book, now_ms, policy))
    series: dict[tuple[Symbol, Interval], list[Kline]] = {}
    for kline in klines:
        checked += 1
        symbols[kline.symbol] = None
        series.setdefault((kline.symbol, kline.interval), []).append(kline)
        label = f"{kline.symbol} {kline.interval.value} kline {kline.open_time_ms}"
        problems += label_violations(label, check_kline(kline, now_ms, policy))
    for (symbol, interval), candles in series.items():
        start_ms, end_ms = (kline_ranges or {}).get((symbol, interval), (None, None))
        report = check_kline_series(candles, interval, symbol=symbol, start_ms=start_ms, end_ms=end_ms)
        label = f"{symbol} {interval.value} series"
        problems += label_violations(label, report.violations)
        gaps += [(label, gap) for gap in report.gaps]
    for balance in balances:
        checked += 1
        problems += label_violations(f"balance {balance.asset}", check_balance(balance))
    if exchange_info is not None:
        for symbol in symbols:
            problems += label_violations(f"{symbol} rules", check_symbol_tradable(symbol, exchange_info))
    return ValidationReport(checked=checked, problems=tuple(problems), gaps=tuple(gaps))


def describe(problems: Sequence[tuple[str, Violation]]) -> str:
    """The first few problems on one line, and how many more there are."""
    shown = "; ".join(f"{label} {violation}" for label, violation in problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    return f"{shown}; and {more} more" if more > 0 else shown


def raise_if_invalid(what: str, problems: Sequence[tuple[str, Violation]]) -> None:
    """Raise ``DataValidationError`` naming ``what`` and the problems, if there are any."""
    if problems:
        msg = f"{what} failed validation: {describe(problems)}"
        raise DataValidationError(msg, [violation for _, violation in problems])
