"""What a market-data store reports back, and how a batch is sorted into stored, skipped and rejected rows.

The storage adapters share this logic so that every store accepts, skips and rejects exactly the same rows:
only data that passes ``domain.validators`` is stored; a candle still open at ``now_ms`` is never stored as
final; rejected rows are counted by ``Reason``, never silently dropped.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Generic, TypeVar

import attrs

from domain.account import AccountInfo
from domain.intervals import Interval
from domain.kline_page import KlinePage
from domain.market import Kline, PriceQuote, Ticker24h
from domain.symbols import Symbol
from domain.validators import (
    MissingRange,
    Reason,
    ValidationPolicy,
    Violation,
    check_balance,
    check_kline,
    check_quote,
    check_ticker,
)

__all__ = [
    "KLINE_FIELDS",
    "STORAGE_POLICY",
    "DataKind",
    "KlineCoverage",
    "RejectionCount",
    "SaveResult",
    "ValidatedBatch",
    "validate_accounts",
    "validate_klines",
    "validate_quotes",
    "validate_tickers",
]

T = TypeVar("T")
_Timed = TypeVar("_Timed", PriceQuote, Ticker24h)  # rows keyed by symbol and a time

#: ``Kline``'s fields in declaration order; the stores name their candle columns after them.
KLINE_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Kline))

#: History is stored whatever its age, so staleness is not checked; the future bound still applies.
STORAGE_POLICY = ValidationPolicy(max_future_ms=1_000, max_age_ms=None)


class DataKind(enum.Enum):
    """The kinds of rows a store keeps; rejection counts are kept per kind."""

    KLINE = "kline"
    PRICE_TICK = "price_tick"
    TICKER_24H = "ticker_24h"
    ACCOUNT_SNAPSHOT = "account_snapshot"


def _frozen_counts(counts: Mapping[Reason, int]) -> Mapping[Reason, int]:
    return MappingProxyType({reason: counts[reason] for reason in sorted(counts, key=lambda r: r.value)})


@attrs.frozen
class SaveResult:
    """The fate of every row handed to a ``save_*`` call; the counts add up to the rows received.

    ``stored``: new rows. ``updated``: rows already stored under the same key with other values (the later
    write wins). ``duplicates``: rows identical to what was stored, or repeated within the batch.
    ``not_closed``: valid candles still open at ``now_ms``, not stored. ``rejected_by_reason``: rows that
    failed validation, each counted once under its first violation.
    """

    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    not_closed: int = 0
    rejected_by_reason: Mapping[Reason, int] = attrs.field(factory=dict, converter=_frozen_counts, hash=False)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def received(self) -> int:
        return self.stored + self.updated + self.duplicates + self.not_closed + self.rejected

    def __add__(self, other: SaveResult) -> SaveResult:
        counts = dict(self.rejected_by_reason)
        for reason, count in other.rejected_by_reason.items():
            counts[reason] = counts.get(reason, 0) + count
        return SaveResult(
            stored=self.stored + other.stored,
            updated=self.updated + other.updated,
            duplicates=self.duplicates + other.duplicates,
            not_closed=self.not_closed + other.not_closed,
            rejected_by_reason=counts,
        )


@attrs.frozen
class RejectionCount:
    """How many rows of one kind (and series) were rejected for one reason, and the latest such message."""

    kind: DataKind
    symbol: Symbol | None
    interval: Interval | None
    reason: Reason
    count: int
    last_seen_ms: int
    last_message: str


@attrs.frozen
class KlineCoverage:
    """What a store holds of one series: first and last open time, how many candles, and what is missing.

    With ``start_ms``/``end_ms`` the gaps cover the whole requested range (before the first and after the
    last stored candle too); without them only the holes between the first and the last stored candle.
    """

    symbol: Symbol
    interval: Interval
    start_ms: int | None
    end_ms: int | None
    count: int
    first_open_ms: int | None
    last_open_ms: int | None
    gaps: tuple[MissingRange, ...]

    @property
    def missing_count(self) -> int:
        return sum(gap.count for gap in self.gaps)

    @property
    def expected(self) -> int:
        return self.count + self.missing_count

    @property
    def complete(self) -> bool:
        return not self.gaps

    @classmethod
    def from_holes(
        cls,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None,
        end_ms: int | None,
        count: int,
        first_open_ms: int | None,
        last_open_ms: int | None,
        holes: Iterable[tuple[int, int]],
    ) -> KlineCoverage:
        """Build the coverage from stored figures and ``holes``: pairs of consecutive stored open times
        further apart than one candle."""
        gaps: list[MissingRange] = []
        if first_open_ms is None or last_open_ms is None:
            if start_ms is not None and end_ms is not None:
                gaps.extend(_missing(interval, start_ms, end_ms))
            return cls(symbol, interval, start_ms, end_ms, 0, None, None, tuple(gaps))
        if start_ms is not None:
            gaps.extend(_missing(interval, start_ms, first_open_ms - 1))
        for before, after in holes:
            gaps.extend(_missing(interval, interval.next_open_ms(before), after - 1))
        if end_ms is not None:
            gaps.extend(_missing(interval, interval.next_open_ms(last_open_ms), end_ms))
        return cls(symbol, interval, start_ms, end_ms, count, first_open_ms, last_open_ms, tuple(gaps))


def _missing(interval: Interval, from_ms: int, to_ms: int) -> list[MissingRange]:
    """The candles opening in ``[from_ms, to_ms]`` as one range, or nothing when there are none."""
    count = interval.count_between(from_ms, to_ms)
    if not count:
        return []
    first = interval.open_time_ms(from_ms)
    if first < from_ms:
        first = interval.next_open_ms(first)
    return [MissingRange(first, interval.open_time_ms(to_ms), count)]


@attrs.frozen
class ValidatedBatch(Generic[T]):
    """A batch sorted into rows to store (one per key, in key order), duplicates, open candles and rejects."""

    accepted: Sequence[T]
    duplicates: int
    not_closed: int
    rejections: tuple[RejectionCount, ...]

    def result(self, stored: int, updated: int) -> SaveResult:
        """The ``SaveResult`` once the store says how many accepted rows were new or changed."""
        counts: dict[Reason, int] = {}
        for rejection in self.rejections:
            counts[rejection.reason] = counts.get(rejection.reason, 0) + rejection.count
        return SaveResult(
            stored=stored,
            updated=updated,
            duplicates=self.duplicates + len(self.accepted) - stored - updated,
            not_closed=self.not_closed,
            rejected_by_reason=counts,
        )


class _Rejections:
    """Counts rejected rows per (symbol, interval, reason), keeping the latest message."""

    def __init__(self, kind: DataKind, now_ms: int) -> None:
        self._kind = kind
        self._now_ms = now_ms
        self._counts: dict[tuple[Symbol | None, Interval | None, Reason], list[int | str]] = {}

    def add(self, symbol: Symbol | None, interval: Interval | None, violations: Sequence[Violation]) -> None:
        first = violations[0]
        key = (symbol, interval, first.reason)
        entry = self._counts.setdefault(key, [0, ""])
        entry[0] = int(entry[0]) + 1
        entry[1] = str(first)

    def freeze(self) -> tuple[RejectionCount, ...]:
        return tuple(
            RejectionCount(self._kind, symbol, interval, reason, int(count), self._now_ms, str(message))
            for (symbol, interval, reason), (count, message) in self._counts.items()
        )


def _dedupe(rows: list[T], key: Callable[[T], tuple[Hashable, ...]]) -> tuple[tuple[T, ...], int]:
    """One row per key, the last one winning, in key order; and how many repeats were dropped."""
    unique = {key(row): row for row in rows}
    ordered = tuple(unique[k] for k in sorted(unique))
    return ordered, len(rows) - len(ordered)


_KLINE_FIELDS = operator.attrgetter(*KLINE_FIELDS[:-1])  # all but ``ignore``, which is not checked


def validate_klines(
    klines: Iterable[Kline], now_ms: int, policy: ValidationPolicy = STORAGE_POLICY
) -> ValidatedBatch[Kline]:
    """Sort candles into closed valid ones to store, still-open ones, repeats and rejects.

    This is the hot path of a backfill. The common case (well formed, fixed-length interval) is checked
    inline; anything else goes through ``check_kline``, so the reasons are exactly its reasons. The inline
    test accepts only what ``check_kline`` accepts: every price lies between a positive low and a finite
    high, every volume is finite and not negative, and the times are aligned and not in the future.

    A ``KlinePage`` whose candles were checked as it was built (``KlinePage.split_closed``) needs only the
    checks that depend on ``now_ms``, at its ends: its candles are not looked at one by one again.
    """
    if isinstance(klines, KlinePage):
        split = klines.split_closed(now_ms, policy.max_future_ms)
        if split is not None:
            closed, still_open = split
            return ValidatedBatch(closed, 0, still_open, ())
    accepted: list[Kline] = []
    rejections = _Rejections(DataKind.KLINE, now_ms)
    not_closed = 0
    ordered = True
    latest_open = now_ms + policy.max_future_ms
    last_symbol: Symbol | None = None
    last_interval: Interval | None = None
    last_open = 0
    duration: int | None = None
    duration_of: Interval | None = None
    for kline in klines:
        symbol, interval, open_ms, o, h, lo, c, v, close_ms, qv, n, tb, tq = _KLINE_FIELDS(kline)
        if interval is not duration_of:
            duration_of, duration = interval, None if interval in _CALENDAR else interval.duration_ms
        try:
            plain = bool(
                duration is not None
                and open_ms % duration == 0
                and close_ms == open_ms + duration - 1
                and open_ms <= latest_open
                and lo > 0
                and h.is_finite()
                and lo <= o <= h
                and lo <= c <= h
                and n >= 0
                and v >= 0
                and qv >= 0
                and tb >= 0
                and tq >= 0
                and v.is_finite()
                and qv.is_finite()
                and tb.is_finite()
                and tq.is_finite()
            )
        except ArithmeticError:  # a NaN was compared; check_kline names it
            plain = False
        if not plain:
            violations = check_kline(kline, now_ms, policy)
            if violations:
                rejections.add(symbol, interval, violations)
                continue
        if close_ms >= now_ms:
            not_closed += 1
            continue
        if ordered and last_symbol is not None:
            ordered = (
                open_ms > last_open
                and interval is last_interval
                and (symbol is last_symbol or symbol == last_symbol)
            )
        last_symbol, last_interval, last_open = symbol, interval, open_ms
        accepted.append(kline)
    if ordered:
        return ValidatedBatch(tuple(accepted), 0, not_closed, rejections.freeze())
    unique, repeats = _dedupe(accepted, lambda k: (k.symbol.value, k.interval.value, k.open_time_ms))
    return ValidatedBatch(unique, repeats, not_closed, rejections.freeze())


_CALENDAR = frozenset({Interval.WEEK_1, Interval.MONTH_1})  # not a fixed multiple of an epoch-aligned length


def _validate(
    kind: DataKind,
    rows: Iterable[T],
    check: Callable[[T], list[Violation]],
    series: Callable[[T], Symbol | None],
    key: Callable[[T], tuple[Hashable, ...]],
    now_ms: int,
) -> ValidatedBatch[T]:
    accepted: list[T] = []
    rejections = _Rejections(kind, now_ms)
    for row in rows:
        violations = check(row)
        if violations:
            rejections.add(series(row), None, violations)
        else:
            accepted.append(row)
    unique, repeats = _dedupe(accepted, key)
    return ValidatedBatch(unique, repeats, 0, rejections.freeze())


def validate_quotes(
    quotes: Iterable[PriceQuote], now_ms: int, policy: ValidationPolicy = STORAGE_POLICY
) -> ValidatedBatch[PriceQuote]:
    """Price ticks keyed by (symbol, as_of_ms)."""
    return _validate_timed(DataKind.PRICE_TICK, quotes, check_quote, "as_of_ms", now_ms, policy)


def validate_tickers(
    tickers: Iterable[Ticker24h], now_ms: int, policy: ValidationPolicy = STORAGE_POLICY
) -> ValidatedBatch[Ticker24h]:
    """24-hour statistics keyed by (symbol, close_time_ms)."""
    return _validate_timed(DataKind.TICKER_24H, tickers, check_ticker, "close_time_ms", now_ms, policy)


def _validate_timed(
    kind: DataKind,
    rows: Iterable[_Timed],
    check: Callable[[_Timed, int, ValidationPolicy], list[Violation]],
    time_field: str,
    now_ms: int,
    policy: ValidationPolicy,
) -> ValidatedBatch[_Timed]:
    """Rows of one symbol each, keyed by (symbol, ``time_field``)."""
    return _validate(
        kind,
        rows,
        lambda row: check(row, now_ms, policy),
        operator.attrgetter("symbol"),
        operator.attrgetter("symbol.value", time_field),
        now_ms,
    )


def _check_account(info: AccountInfo) -> list[Violation]:
    return [violation for balance in info.balances for violation in check_balance(balance)]


def validate_accounts(accounts: Iterable[AccountInfo], now_ms: int) -> ValidatedBatch[AccountInfo]:
    """Account snapshots keyed by (uid, update_time_ms); one bad balance rejects the whole snapshot."""
    return _validate(
        DataKind.ACCOUNT_SNAPSHOT,
        accounts,
        _check_account,
        lambda _: None,
        lambda a: (a.uid if a.uid is not None else -1, a.update_time_ms),
        now_ms,
    )
