"""Kline pages built a column at a time and checked once, column by column: the hot path of history and
backfills.

``build_kline_page`` makes the ``Kline`` objects of a page from its columns (one sequence per field) and
returns them as a ``KlinePage``: a list that keeps the columns until someone asks whether the page passes
the rules of ``domain.validators.check_kline`` that do not depend on the time of the check. That check
(``columns_pass``) runs once, on the columns, with C-level loops (``map``, ``min``, ``all``) instead of one
Python call per candle; a caller that never asks (one that only parses) never pays for it. A page that
passes holds candles of one series in strictly increasing open time, each passing those rules, so later
steps (the market-data service, a store) need only the checks that depend on "now" (``open_times_within``,
``split_closed``), which look at the first and the last candle. A page that fails is validated by the
reference validators, which report exactly what is wrong.

The certificate is kept honest: ``KlinePage.intact()`` is true only while the list holds exactly the
objects that were built, so a page changed after it was built is validated in full again.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import islice, repeat
from typing import Any

import attrs

from domain.intervals import Interval
from domain.market import Kline
from domain.symbols import Symbol

__all__ = ["PRICE_FIELDS", "VOLUME_FIELDS", "KlinePage", "build_kline_page", "columns_pass"]

#: The fields ``check_kline`` requires to be positive, and those it requires to be finite and not negative.
PRICE_FIELDS = ("open", "high", "low", "close")
VOLUME_FIELDS = ("volume", "quote_volume", "taker_buy_base_volume", "taker_buy_quote_volume")

_ZERO = Decimal(0)
_drain: deque[object] = deque(maxlen=0)  # extend() runs an iterator to its end and keeps nothing
_new = object.__new__
_le = operator.le
_is = operator.is_


class KlinePage(list[Kline]):
    """Candles of ``symbol`` and ``interval`` built by ``build_kline_page``; use it as the list it is.

    ``is_checked_series`` says whether the candles (still) pass ``check_kline``'s rules but the future bound
    (see ``open_times_within``) with strictly increasing open times; the check runs on the first call."""

    __slots__ = ("_built", "_columns", "_passed", "interval", "symbol")

    def __init__(
        self,
        klines: Sequence[Kline],
        columns: Mapping[str, Sequence[Any]],
        symbol: Symbol,
        interval: Interval,
    ) -> None:
        super().__init__(klines)
        self._built = tuple(klines)
        self._columns: Mapping[str, Sequence[Any]] | None = columns
        self._passed: bool | None = None
        self.symbol = symbol
        self.interval = interval

    def intact(self) -> bool:
        """Whether the list still holds exactly the candles that were built (Klines are frozen)."""
        built = self._built
        return len(self) == len(built) and all(map(_is, self, built))

    def _passes(self) -> bool:
        if self._passed is None:
            assert self._columns is not None  # noqa: S101 - dropped only once the answer is known
            self._passed = columns_pass(self._columns, self.interval)
            self._columns = None
        return self._passed

    def is_checked_series(self, symbol: Symbol, interval: Interval) -> bool:
        """Whether these are unchanged candles of ``symbol`` and ``interval`` that pass the check."""
        return self.interval is interval and self.symbol == symbol and self.intact() and self._passes()

    def open_times_within(self, first_ms: int | None, last_ms: int | None) -> bool:
        """Whether every candle opens in ``[first_ms, last_ms]`` (``None``: unbounded): the first and
        the last one say it, as open times increase."""
        if not self:
            return True
        return (first_ms is None or self[0].open_time_ms >= first_ms) and (
            last_ms is None or self[-1].open_time_ms <= last_ms
        )

    def split_closed(self, now_ms: int, max_future_ms: int) -> tuple[tuple[Kline, ...], int] | None:
        """For a store: the candles closed before ``now_ms`` (all valid, one per key, in key order) and the
        number still open; ``None`` when a candle opens after ``now_ms + max_future_ms`` or the page was
        changed since its check (validate it in full then)."""
        if not (self.intact() and self._passes() and self.open_times_within(None, now_ms + max_future_ms)):
            return None
        # Close times increase with open times, so the closed candles are a prefix of the page.
        closed = bisect_left(self, now_ms, key=_close_time)
        return self._built[:closed], len(self) - closed


_close_time: Callable[[Kline], int] = operator.attrgetter("close_time_ms")


def _slot_setters() -> dict[str, Callable[[Kline, Any], None]] | None:
    """The slot descriptors of Kline, or None when filling slots directly would skip something ``__init__``
    does (a validator, a converter, a post-init hook)."""
    fields = attrs.fields(Kline)
    plain = all(f.init and f.validator is None and f.converter is None for f in fields)
    hooks = hasattr(Kline, "__attrs_post_init__") or hasattr(Kline, "__attrs_pre_init__")
    if not plain or hooks or "__slots__" not in vars(Kline):
        return None
    return {f.name: vars(Kline)[f.name].__set__ for f in fields}


_SETTERS = _slot_setters()
_FIELD_NAMES = tuple(f.name for f in attrs.fields(Kline))
_COLUMN_NAMES = frozenset(_FIELD_NAMES) - {"symbol", "interval"}


def _make(
    columns: Mapping[str, Iterable[Any]], symbol: Symbol, interval: Interval, count: int
) -> list[Kline]:
    values = {**columns, "symbol": repeat(symbol, count), "interval": repeat(interval, count)}
    if _SETTERS is None:
        return list(map(Kline, *(values[name] for name in _FIELD_NAMES)))
    klines: list[Kline] = list(map(_new, repeat(Kline, count)))
    for name, setter in _SETTERS.items():
        _drain.extend(map(setter, klines, values[name]))
    return klines


def columns_pass(columns: Mapping[str, Sequence[Any]], interval: Interval) -> bool:
    """Whether every candle of the columns passes ``check_kline``'s rules but the future bound, and the open
    times strictly increase. The rules, as ``check_kline`` words them: prices finite and positive, volumes
    finite and not negative, ``low <= open, close <= high``, a trade count not negative, the close after the
    open and both on the interval's grid. Integers and decimals only; anything else is a fail."""
    if not columns["open_time_ms"]:
        return True
    return _values_pass(columns) and _times_pass(columns["open_time_ms"], columns["close_time_ms"], interval)


def _values_pass(columns: Mapping[str, Sequence[Any]]) -> bool:
    try:
        lows, highs = columns["low"], columns["high"]
        # low <= open, close <= high with a positive low and a finite high: every price finite, positive.
        prices = (
            min(lows) > _ZERO
            and all(map(Decimal.is_finite, highs))
            and all(map(_le, lows, columns["open"]))
            and all(map(_le, columns["open"], highs))
            and all(map(_le, lows, columns["close"]))
            and all(map(_le, columns["close"], highs))
        )
        volumes = prices and all(
            min(columns[name]) >= _ZERO and all(map(Decimal.is_finite, columns[name]))
            for name in VOLUME_FIELDS
        )
    except (ArithmeticError, TypeError):  # a NaN was compared, or a value is no decimal
        return False
    return volumes and min(columns["trade_count"]) >= 0


def _times_pass(opens_ms: Sequence[int], closes_ms: Sequence[int], interval: Interval) -> bool:
    """Open times strictly increasing (no duplicate, nothing out of order), each candle on the grid."""
    if interval.is_calendar or interval is Interval.WEEK_1:
        return _increasing(opens_ms) and all(
            interval.is_aligned(open_ms) and close_ms == interval.close_time_ms(open_ms)
            for open_ms, close_ms in zip(opens_ms, closes_ms, strict=True)
        )
    duration = interval.duration_ms
    first = opens_ms[0]
    if _same(opens_ms, range(first, first + duration * len(opens_ms), duration)) and not first % duration:
        # No gap, the usual page: increasing and on the grid; the close times must follow.
        return _same(closes_ms, range(first + duration - 1, first + duration * len(closes_ms), duration))
    return (
        _increasing(opens_ms)
        and not any(map(operator.mod, opens_ms, repeat(duration)))
        and all(map(operator.eq, closes_ms, map(operator.add, opens_ms, repeat(duration - 1))))
    )


def _increasing(values: Sequence[int]) -> bool:
    return all(map(operator.lt, values, islice(values, 1, None)))


def _same(values: Sequence[int], expected: range) -> bool:
    """Whether ``values`` are the numbers of ``expected``, in order (a C-level comparison of lists)."""
    return len(values) == len(expected) and list(values) == list(expected)


def build_kline_page(columns: Mapping[str, Sequence[Any]], symbol: Symbol, interval: Interval) -> KlinePage:
    """The candles of ``columns`` (field name -> one value per candle, every field of ``Kline`` but
    ``symbol`` and ``interval``, equally long, of the field's type; ``ignore`` may be any iterable) as
    ``Kline`` objects in a ``KlinePage``. The page keeps the columns (not ``ignore``) for its check: do not
    change them afterwards."""
    if set(columns) != _COLUMN_NAMES:
        msg = f"kline columns must be exactly {sorted(_COLUMN_NAMES)}"
        raise ValueError(msg)
    count = len(columns["open_time_ms"])
    klines = _make(columns, symbol, interval, count)
    kept = {name: column for name, column in columns.items() if name != "ignore"}
    return KlinePage(klines, kept, symbol, interval)
