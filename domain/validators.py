"""Pure validators for market data: no I/O, the clock passed in, every violation returned.

Each ``check_*`` function returns a list of ``Violation`` (empty when the value is valid), so a caller can
count rejected rows by reason and say exactly what was wrong, not only that something was.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from domain.account import Balance
from domain.exchange import ExchangeInfo, SymbolRules
from domain.intervals import Interval
from domain.market import BookTicker, Kline, PriceQuote, Ticker24h
from domain.symbols import Symbol

__all__ = [
    "DEFAULT_POLICY",
    "KlineSeriesReport",
    "MissingRange",
    "Reason",
    "ValidationPolicy",
    "ValidationReport",
    "Violation",
    "check_balance",
    "check_book_ticker",
    "check_kline",
    "check_kline_series",
    "check_price",
    "check_price_on_tick",
    "check_quantity",
    "check_quantity_on_step",
    "check_quote",
    "check_symbol_tradable",
    "check_ticker",
    "check_timestamp",
    "label_violations",
]


class Reason(enum.Enum):
    """Why a value was rejected; the storage layer counts rejected rows by these."""

    PRICE_NOT_POSITIVE = "price_not_positive"
    NOT_FINITE = "not_finite"
    NEGATIVE_QUANTITY = "negative_quantity"
    OHLC_INCONSISTENT = "ohlc_inconsistent"
    CLOSE_BEFORE_OPEN = "close_before_open"
    MISALIGNED_TIME = "misaligned_time"
    FUTURE_TIMESTAMP = "future_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    UNKNOWN_SYMBOL = "unknown_symbol"
    SYMBOL_NOT_TRADING = "symbol_not_trading"
    PRICE_NOT_ON_TICK = "price_not_on_tick"
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    QUANTITY_NOT_ON_STEP = "quantity_not_on_step"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    CROSSED_BOOK = "crossed_book"
    UNSORTED = "unsorted"
    DUPLICATE = "duplicate"
    GAP = "gap"
    WRONG_SERIES = "wrong_series"


@attrs.frozen
class Violation:
    """One broken rule: which field, why, and a sentence a person can read."""

    field: str
    reason: Reason
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@attrs.frozen
class ValidationPolicy:
    """Tolerances for time checks. ``max_age_ms`` of ``None`` disables the staleness check."""

    max_future_ms: int = 1_000
    max_age_ms: int | None = 5 * 60_000


DEFAULT_POLICY = ValidationPolicy()


@attrs.frozen
class MissingRange:
    """Candles absent from a series: open times ``start_ms`` to ``end_ms`` inclusive, ``count`` of them."""

    start_ms: int
    end_ms: int
    count: int


@attrs.frozen
class KlineSeriesReport:
    """Outcome of ``check_kline_series``: every violation and every gap."""

    violations: tuple[Violation, ...]
    gaps: tuple[MissingRange, ...]

    @property
    def ok(self) -> bool:
        return not self.violations and not self.gaps

    @property
    def missing_count(self) -> int:
        return sum(g.count for g in self.gaps)


@attrs.frozen
class ValidationReport:
    """Violations of many items, keyed by a label such as ``BTCUSDT kline 1767225600000``."""

    checked: int
    problems: tuple[tuple[str, Violation], ...] = ()
    gaps: tuple[tuple[str, MissingRange], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and not self.gaps

    def counts_by_reason(self) -> dict[Reason, int]:
        counts: dict[Reason, int] = {}
        for _, violation in self.problems:
            counts[violation.reason] = counts.get(violation.reason, 0) + 1
        if self.gaps:
            counts[Reason.GAP] = counts.get(Reason.GAP, 0) + len(self.gaps)
        return counts


def _finite(value: Decimal, field: str) -> list[Violation]:
    if not value.is_finite():
        return [Violation(field, Reason.NOT_FINITE, f"{value} is not a finite number")]
    return []


def check_price(value: Decimal, field: str = "price") -> list[Violation]:
    """A price must be finite and strictly positive."""
    problems = _finite(value, field)
    if not problems and value <= 0:
        problems.append(Violation(field, Reason.PRICE_NOT_POSITIVE, f"{value} is not positive"))
    return problems


def check_quantity(value: Decimal, field: str = "quantity") -> list[Violation]:
    """A volume, quantity or balance must be finite and not negative."""
    problems = _finite(value, field)
    if not problems and value < 0:
        problems.append(Violation(field, Reason.NEGATIVE_QUANTITY, f"{value} is negative"))
    return problems


def check_timestamp(
    timestamp_ms: int, now_ms: int, policy: ValidationPolicy = DEFAULT_POLICY, field: str = "time"
) -> list[Violation]:
    """Not in the future beyond ``policy.max_future_ms``; not older than ``policy.max_age_ms``."""
    if timestamp_ms > now_ms + policy.max_future_ms:
        ahead = timestamp_ms - now_ms
        return [Violation(field, Reason.FUTURE_TIMESTAMP, f"{ahead} ms in the future")]
    if policy.max_age_ms is not None and now_ms - timestamp_ms > policy.max_age_ms:
        age = now_ms - timestamp_ms
        return [Violation(field, Reason.STALE_TIMESTAMP, f"{age} ms old, over {policy.max_age_ms} ms")]
    return []


def check_quote(quote: PriceQuote, now_ms: int, policy: ValidationPolicy = DEFAULT_POLICY) -> list[Violation]:
    return check_price(quote.price) + check_timestamp(quote.as_of_ms, now_ms, policy, "as_of")


def check_book_ticker(
    book: BookTicker, now_ms: int, policy: ValidationPolicy = DEFAULT_POLICY
) -> list[Violation]:
    problems = (
        check_quantity(book.bid_price, "bid_price")
        + check_price(book.ask_price, "ask_price")
        + check_quantity(book.bid_qty, "bid_qty")
        + check_quantity(book.ask_qty, "ask_qty")
        + check_timestamp(book.as_of_ms, now_ms, policy, "as_of")
    )
    if not problems and book.bid_price > 0 and book.bid_price > book.ask_price:
        problems.append(
            Violation("bid_price", Reason.CROSSED_BOOK, f"bid {book.bid_price} above ask {book.ask_price}")
        )
    return problems


def check_ticker(
    ticker: Ticker24h, now_ms: int, policy: ValidationPolicy = DEFAULT_POLICY
) -> list[Violation]:
    """24h statistics: positive last/high/low prices, a consistent range, non-negative volumes."""
    problems = (
        check_price(ticker.last_price, "last_price")
        + check_price(ticker.high_price, "high_price")
        + check_price(ticker.low_price, "low_price")
        + check_quantity(ticker.open_price, "open_price")
        + check_quantity(ticker.volume, "volume")
        + check_quantity(ticker.quote_volume, "quote_volume")
    )
    if ticker.trade_count < 0:
        problems.append(
            Violation("trade_count", Reason.NEGATIVE_QUANTITY, f"{ticker.trade_count} is negative")
        )
    if not problems and not ticker.low_price <= ticker.last_price <= ticker.high_price:
        problems.append(
            Violation(
                "last_price",
                Reason.OHLC_INCONSISTENT,
                f"last {ticker.last_price} outside low {ticker.low_price} .. high {ticker.high_price}",
            )
        )
    if ticker.close_time_ms < ticker.open_time_ms:
        problems.append(Violation("close_time", Reason.CLOSE_BEFORE_OPEN, "close time before open time"))
    problems += check_timestamp(ticker.close_time_ms, now_ms, policy, "close_time")
    return problems


def check_balance(balance: Balance) -> list[Violation]:
    return check_quantity(balance.free, "free") + check_quantity(balance.locked, "locked")


def check_kline(kline: Kline, now_ms: int, policy: ValidationPolicy = DEFAULT_POLICY) -> list[Violation]:
    """One candle: prices positive, volumes non-negative, ``low <= open, close <= high``, times aligned.

    Staleness does not apply to history; only the future bound of ``policy`` is used.
    """
    problems = (
        check_price(kline.open, "open")
        + check_price(kline.high, "high")
        + check_price(kline.low, "low")
        + check_price(kline.close, "close")
        + check_quantity(kline.volume, "volume")
        + check_quantity(kline.quote_volume, "quote_volume")
        + check_quantity(kline.taker_buy_base_volume, "taker_buy_base_volume")
        + check_quantity(kline.taker_buy_quote_volume, "taker_buy_quote_volume")
    )
    if kline.trade_count < 0:
        problems.append(
            Violation("trade_count", Reason.NEGATIVE_QUANTITY, f"{kline.trade_count} is negative")
        )
    prices_ok = not any(v.field in {"open", "high", "low", "close"} for v in problems)
    if prices_ok and not (kline.low <= kline.open <= kline.high and kline.low <= kline.close <= kline.high):
        problems.append(
            Violation(
                "high",
                Reason.OHLC_INCONSISTENT,
                f"open {kline.open} / close {kline.close} outside low {kline.low} .. high {kline.high}",
            )
        )
    interval = kline.interval
    if kline.close_time_ms <= kline.open_time_ms:
        problems.append(Violation("close_time", Reason.CLOSE_BEFORE_OPEN, "close time not after open time"))
    elif not interval.is_aligned(kline.open_time_ms):
        problems.append(
            Violation(
                "open_time", Reason.MISALIGNED_TIME, f"{kline.open_time_ms} is not a {interval.value} open"
            )
        )
    elif kline.close_time_ms != interval.close_time_ms(kline.open_time_ms):
        expected = interval.close_time_ms(kline.open_time_ms)
        problems.append(
            Violation("close_time", Reason.MISALIGNED_TIME, f"{kline.close_time_ms} should be {expected}")
        )
    if kline.open_time_ms > now_ms + policy.max_future_ms:
        problems.append(Violation("open_time", Reason.FUTURE_TIMESTAMP, "candle opens in the future"))
    return problems


def check_symbol_tradable(symbol: Symbol, info: ExchangeInfo) -> list[Violation]:
    """The symbol is listed by the exchange and its status is TRADING."""
    rules = info.find(symbol)
    if rules is None:
        return [Violation("symbol", Reason.UNKNOWN_SYMBOL, f"{symbol} is not listed by the exchange")]
    if not rules.is_trading:
        return [Violation("symbol", Reason.SYMBOL_NOT_TRADING, f"{symbol} status is {rules.status}")]
    return []


def check_price_on_tick(price: Decimal, rules: SymbolRules, field: str = "price") -> list[Violation]:
    """PRICE_FILTER: within min/max and a whole number of ticks (a zero part is disabled)."""
    flt = rules.price_filter
    if flt is None:
        return []
    problems: list[Violation] = []
    if (flt.min_price and price < flt.min_price) or (flt.max_price and price > flt.max_price):
        problems.append(
            Violation(field, Reason.PRICE_OUT_OF_RANGE, f"{price} outside {flt.min_price} .. {flt.max_price}")
        )
    if flt.tick_size and price % flt.tick_size != 0:
        problems.append(
            Violation(field, Reason.PRICE_NOT_ON_TICK, f"{price} is not a multiple of {flt.tick_size}")
        )
    return problems


def check_quantity_on_step(
    quantity: Decimal, rules: SymbolRules, field: str = "quantity", *, market: bool = False
) -> list[Violation]:
    """LOT_SIZE (or MARKET_LOT_SIZE when ``market``): within min/max and a whole number of steps."""
    lot = rules.market_lot_size if market and rules.market_lot_size is not None else rules.lot_size
    if lot is None:
        return []
    problems: list[Violation] = []
    if quantity < lot.min_qty or (lot.max_qty and quantity > lot.max_qty):
        problems.append(
            Violation(
                field, Reason.QUANTITY_OUT_OF_RANGE, f"{quantity} outside {lot.min_qty} .. {lot.max_qty}"
            )
        )
    if lot.step_size and quantity % lot.step_size != 0:
        problems.append(
            Violation(field, Reason.QUANTITY_NOT_ON_STEP, f"{quantity} is not a multiple of {lot.step_size}")
        )
    return problems


def check_kline_series(
    klines: Sequence[Kline],
    interval: Interval,
    *,
    symbol: Symbol | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> KlineSeriesReport:
    """A series is sorted by open time, has no duplicates, and every missing candle is reported.

    With ``start_ms``/``end_ms`` the gaps before the first and after the last candle count too
    (a candle is expected for every open time in ``[start_ms, end_ms]``).
    """
    problems: list[Violation] = []
    gaps: list[MissingRange] = []
    previous: int | None = None
    for kline in klines:
        if kline.interval is not interval or (symbol is not None and kline.symbol != symbol):
            problems.append(
                Violation(
                    "series", Reason.WRONG_SERIES, f"{kline.symbol} {kline.interval.value} in the series"
                )
            )
        current = kline.open_time_ms
        if previous is not None:
            if current == previous:
                problems.append(Violation("open_time", Reason.DUPLICATE, f"{current} appears twice"))
            elif current < previous:
                problems.append(Violation("open_time", Reason.UNSORTED, f"{current} comes after {previous}"))
            else:
                _add_gap(gaps, interval, interval.next_open_ms(previous), current - 1)
        previous = current if previous is None else max(previous, current)
    if klines:
        first, last = klines[0].open_time_ms, previous
        assert last is not None  # noqa: S101 - klines is not empty
        if start_ms is not None:
            _add_gap(gaps, interval, start_ms, first - 1)
        if end_ms is not None:
            _add_gap(gaps, interval, interval.next_open_ms(last), end_ms)
    elif start_ms is not None and end_ms is not None:
        _add_gap(gaps, interval, start_ms, end_ms)
    gaps.sort(key=lambda g: g.start_ms)
    return KlineSeriesReport(tuple(problems), tuple(gaps))


def _add_gap(gaps: list[MissingRange], interval: Interval, from_ms: int, to_ms: int) -> None:
    """Record the candles opening in ``[from_ms, to_ms]``, if any."""
    count = interval.count_between(from_ms, to_ms)
    if count:
        first = interval.open_time_ms(from_ms)
        if first < from_ms:
            first = interval.next_open_ms(first)
        last = interval.open_time_ms(to_ms)
        gaps.append(MissingRange(first, last, count))


def label_violations(label: str, violations: Iterable[Violation]) -> list[tuple[str, Violation]]:
    """Pair each violation with a label, for a ``ValidationReport``."""
    return [(label, v) for v in violations]
