"""A page of candles of one series, kept as columns and proved valid once: the hot path of backfills.

``build_kline_page`` takes a page as columns (one sequence per field of ``Kline`` but the symbol and
interval; decimals as their text, as an exchange sends them) and returns a ``KlinePage`` only when it can
prove, a column at a time with C-level loops (``map``, ``min``, ``str.join``, ``bytes.translate``), that
every candle passes ``domain.validators.check_kline``'s rules but the future bound and that the open times
strictly increase. When it cannot (a rule is broken, or a value is not in the plain decimal form
``0|[1-9][0-9]*`` with an optional ``.`` and digits), it returns ``None`` and the caller validates the rows
one by one with the reference validators, which say exactly what is wrong. So a ``KlinePage`` always holds
valid candles of its series; later steps (the market-data service, a store) need only the checks that depend
on "now" (``open_times_within``, ``split_closed``), which look at the first and the last candle.

How the price rules are proved exactly. When the four price columns are all of one shape, as an
exchange writes them (every price with as many digits before the point, and after it, as the others: say
``56823.30000000``), their texts compare as their values do, digit by digit from the left, so the rules are
checked on the text itself. Otherwise they are checked with binary floats, and rounding a decimal to the
nearest float never swaps two values (``a < b`` gives ``float(a) <= float(b)``). A strict
float answer is therefore the exact one; only a tie can hide an order, and when the equal floats are no
more than the equal texts (which are equal values), there is none; otherwise the tied pairs are compared as
``Decimal``. Volumes and prices in plain form have no sign, so they are finite and not negative.

A page is an immutable ``Sequence[Kline]``. It keeps each decimal as the text ``str(Decimal)`` writes for it
(``texts``), makes ``Decimal`` values a column at a time when first asked (``decimals``), and ``Kline``
objects only when candles are asked for: a store that writes the text, or a consumer that reads one column,
pays for nothing else.
"""

from __future__ import annotations

import operator
import re
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import chain, compress, islice, repeat
from typing import Any, Final, final, overload

import attrs

from domain.decimals import exact_decimal
from domain.intervals import Interval
from domain.market import Kline
from domain.symbols import Symbol

__all__ = ["DECIMAL_FIELDS", "PRICE_FIELDS", "VOLUME_FIELDS", "KlinePage", "build_kline_page"]

#: The fields ``check_kline`` requires to be positive, and those it requires to be finite and not negative.
PRICE_FIELDS: Final = ("open", "high", "low", "close")
VOLUME_FIELDS: Final = ("volume", "quote_volume", "taker_buy_base_volume", "taker_buy_quote_volume")
DECIMAL_FIELDS: Final = (*PRICE_FIELDS, *VOLUME_FIELDS)
_INT_FIELDS = ("open_time_ms", "close_time_ms", "trade_count")
_FIELD_NAMES = tuple(f.name for f in attrs.fields(Kline))
_COLUMN_NAMES = frozenset(_FIELD_NAMES) - {"symbol", "interval"}


_drain: deque[object] = deque(maxlen=0)  # extend() runs an iterator to its end and keeps nothing
_new = object.__new__
_le = operator.le
_eq = operator.eq
_DIGITS = b"0123456789"
# Plain text of a value under 1e-6 (zero included): ``str(Decimal)`` writes it with an exponent instead.
_TINY = b",0.000000"
_LEADING_ZERO = re.compile(rb",0[0-9]").search
_ZERO_FIRST = re.compile(rb",0(?:[0-9]|\.000000)").search  # a leading zero, or a value under 1e-6
# Each point and comma as the byte 1, the rest as 0: two marks side by side are a point next to a comma.
_MARKS = bytes(1 if byte in b",." else 0 for byte in range(256))
# In a comma-wrapped text, the index of the point of a first value that has one digit before it.
_ONE_DIGIT_POINT = 2


@final
class KlinePage(Sequence[Kline]):
    """Valid candles of ``symbol`` and ``interval``, in strictly increasing open time, kept as columns.

    Made by ``build_kline_page`` (or sliced from a page); use it as the read-only sequence of ``Kline`` it
    is. ``decimals(name)`` and ``texts(name)`` give one field of every candle without making a ``Kline``.
    """

    __slots__ = ("_columns", "_decimals", "_klines", "interval", "symbol")

    symbol: Symbol
    interval: Interval

    def __init__(self, symbol: Symbol, interval: Interval, columns: Mapping[str, tuple[Any, ...]]) -> None:
        """Use ``build_kline_page``: the columns are taken as proved valid."""
        self.symbol = symbol
        self.interval = interval
        self._columns = columns
        self._decimals: dict[str, tuple[Decimal, ...]] = {}
        self._klines: tuple[Kline, ...] | None = None

    # -------------------------------------------------------------------------------------- sequence

    def __len__(self) -> int:
        return len(self._columns["open_time_ms"])

    @overload
    def __getitem__(self, index: int) -> Kline: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Kline]: ...
    def __getitem__(self, index: int | slice) -> Kline | Sequence[Kline]:
        if isinstance(index, slice):
            if index.step not in (None, 1):
                return self.klines()[index]
            return KlinePage(
                self.symbol, self.interval, {name: column[index] for name, column in self._columns.items()}
            )
        if self._klines is not None:
            return self._klines[index]
        columns = self._columns
        index = range(len(self))[index]  # IndexError as a list gives it; negative indexes count from the end
        values = {name: columns[name][index] for name in _INT_FIELDS}
        values["ignore"] = columns["ignore"][index]
        values.update((name, self._decimal(name, index)) for name in DECIMAL_FIELDS)
        return Kline(symbol=self.symbol, interval=self.interval, **values)

    def __iter__(self) -> Iterator[Kline]:
        return iter(self.klines())

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (a list, a tuple, a page) of equal candles, in the same order."""
        if isinstance(other, KlinePage):
            if self is other:
                return True
            if self.symbol != other.symbol or self.interval is not other.interval or len(self) != len(other):
                return False
        elif not isinstance(other, list | tuple):
            return NotImplemented
        return list(self.klines()) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are not hashable

    def __repr__(self) -> str:
        return f"KlinePage({self.symbol.value} {self.interval.value}, {len(self)} candles)"

    # --------------------------------------------------------------------------------------- columns

    @property
    def open_times_ms(self) -> tuple[int, ...]:
        return self._columns["open_time_ms"]

    @property
    def close_times_ms(self) -> tuple[int, ...]:
        return self._columns["close_time_ms"]

    @property
    def trade_counts(self) -> tuple[int, ...]:
        return self._columns["trade_count"]

    @property
    def ignores(self) -> tuple[str, ...]:
        return self._columns["ignore"]

    def texts(self, name: str) -> tuple[str, ...]:
        """The decimal field ``name`` of every candle, each as the text ``str()`` writes for its value."""
        if name not in DECIMAL_FIELDS:
            msg = f"{name!r} is not one of the decimal fields {DECIMAL_FIELDS}"
            raise KeyError(msg)
        return self._columns[name]

    def decimals(self, name: str) -> tuple[Decimal, ...]:
        """The decimal field ``name`` of every candle as ``Decimal`` (made once, on the first call)."""
        made = self._decimals.get(name)
        if made is None:
            made = self._decimals[name] = tuple(map(exact_decimal, self.texts(name)))
        return made

    def _decimal(self, name: str, index: int) -> Decimal:
        made = self._decimals.get(name)
        return made[index] if made is not None else exact_decimal(self._columns[name][index])

    def klines(self) -> tuple[Kline, ...]:
        """Every candle as a ``Kline`` (made once, on the first call)."""
        if self._klines is None:
            self._klines = tuple(_make(self, len(self)))
        return self._klines

    # ---------------------------------------------------------------------------- checks on "now"

    def is_series(self, symbol: Symbol, interval: Interval) -> bool:
        """Whether these are candles of ``symbol`` and ``interval``."""
        return self.interval is interval and self.symbol == symbol

    def open_times_within(self, first_ms: int | None, last_ms: int | None) -> bool:
        """Whether every candle opens in ``[first_ms, last_ms]`` (``None``: unbounded): the first and
        the last one say it, as open times increase."""
        opens = self.open_times_ms
        if not opens:
            return True
        return (first_ms is None or opens[0] >= first_ms) and (last_ms is None or opens[-1] <= last_ms)

    def split_closed(self, now_ms: int, max_future_ms: int) -> tuple[KlinePage, int] | None:
        """For a store: the candles closed before ``now_ms`` (a prefix of the page, as close times increase)
        and the number still open; ``None`` when a candle opens after ``now_ms + max_future_ms`` (validate
        the candles one by one then, to reject it)."""
        if not self.open_times_within(None, now_ms + max_future_ms):
            return None
        closed = bisect_left(self.close_times_ms, now_ms)
        prefix = self if closed == len(self) else self[:closed]
        assert isinstance(prefix, KlinePage)  # noqa: S101 - a slice of step 1 is a page
        return prefix, len(self) - closed


# ------------------------------------------------------------------------------------ making candles


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


def _make(page: KlinePage, count: int) -> list[Kline]:
    values: dict[str, Iterable[Any]] = {
        name: page._columns[name] for name in (*_INT_FIELDS, "ignore")
    }
    values.update((name, page.decimals(name)) for name in DECIMAL_FIELDS)
    values["symbol"] = repeat(page.symbol, count)
    values["interval"] = repeat(page.interval, count)
    if _SETTERS is None:
        return list(map(Kline, *(values[name] for name in _FIELD_NAMES)))
    klines: list[Kline] = list(map(_new, repeat(Kline, count)))
    for name, setter in _SETTERS.items():
        _drain.extend(map(setter, klines, values[name]))
    return klines


# -------------------------------------------------------------------------------------------- proving


def _check_plain(column: Sequence[Any]) -> bool | None:
    """Whether any value is under 1e-6, when every value is text in the plain decimal form ``0|[1-9][0-9]*``
    with an optional ``.`` and digits after it; otherwise None. When the column is not one point per value
    (a whole number among them), it is left to the reference checks: None."""
    try:
        text = ",".join(column)  # TypeError unless every item is text
    except TypeError:
        return None
    if not text.isascii():
        return None
    raw = text.encode()
    # What is left without the digits: one point per value, each between two commas (no empty value).
    marks = raw.translate(None, _DIGITS)
    if marks != b".," * (len(column) - 1) + b".":
        return None
    wrapped = b"," + raw + b","
    # No point first or last in a value: no point next to a comma (bytes as one big integer, 1 per mark).
    marked = int.from_bytes(wrapped.translate(_MARKS), "big")
    if marked & (marked >> 8):
        return None
    # A value that begins with 0 goes on with its point; one search finds that and the values under 1e-6.
    if _ZERO_FIRST(wrapped) is None:
        return False
    return None if _LEADING_ZERO(wrapped) else _TINY in wrapped


def _as_written(column: tuple[str, ...], *, tiny: bool) -> tuple[str, ...]:
    """The plain texts as ``str(Decimal)`` writes them: the same, but for values under 1e-6 (an exponent),
    when there are any (``tiny``)."""
    if not tiny:
        return column
    return tuple(str(exact_decimal(text)) if text.startswith("0.000000") else text for text in column)


def _ordered(low: Sequence[str], high: Sequence[str], low_f: list[float], high_f: list[float]) -> bool:
    """Whether ``low[i] <= high[i]`` for every i, exactly (see the module's note on floats)."""
    if not all(map(_le, low_f, high_f)):
        return False
    # Equal texts are equal floats; when there are as many equal floats, those are all the ties.
    if sum(map(_eq, low_f, high_f)) == sum(map(_eq, low, high)):
        return True
    ties = compress(range(len(low)), map(_eq, low_f, high_f))
    return all(exact_decimal(low[i]) <= exact_decimal(high[i]) for i in ties)


def _prices_pass(texts: Mapping[str, tuple[str, ...]]) -> bool:
    """low <= open, close <= high with a positive low: every price positive (plain text is finite)."""
    floats = {name: list(map(float, texts[name])) for name in PRICE_FIELDS}
    low, high = texts["low"], texts["high"]
    return (
        min(floats["low"]) > 0
        and _ordered(low, texts["open"], floats["low"], floats["open"])
        and _ordered(texts["open"], high, floats["open"], floats["high"])
        and _ordered(low, texts["close"], floats["low"], floats["close"])
        and _ordered(texts["close"], high, floats["close"], floats["high"])
    )


def _one_shape(columns: Sequence[Sequence[Any]], count: int) -> int | None:
    """When every value of ``columns`` (``count`` each) is plain text of one shape (as many digits before the
    point, and after it, as every other), the number of digits before the point; otherwise None.

    Texts of one shape in plain form compare as their values do: digit by digit from the left, as text does.
    So do the columns' strings, which ``str`` compares by code point. The checks read the joined bytes at a
    stride: a comma after every value, the point at the same place in each, and no leading zero."""
    try:
        text = ",".join(chain.from_iterable(columns))  # TypeError unless every item is text
    except TypeError:
        return None
    if not text.isascii():
        return None
    wrapped = b"," + text.encode() + b","
    total = count * len(columns)
    width = wrapped.find(b",", 1)  # one value and its comma
    point = wrapped.find(b".", 1, width)  # where the first value has its point (-1: none)
    if (
        point < _ONE_DIGIT_POINT  # no point, or a point first
        or point == width - 1  # a point last
        or len(wrapped) != total * width + 1
        or wrapped[::width] != b"," * (total + 1)
        or wrapped[point::width] != b"." * total
        # Digits elsewhere, so one point per value, and no value that starts with 0 before a whole part.
        or wrapped.translate(None, _DIGITS) != b"," + b".," * total
        or (point > _ONE_DIGIT_POINT and b"0" in wrapped[1::width])
    ):
        return None
    return point - 1


def _one_shape_prices_pass(texts: Mapping[str, tuple[str, ...]], whole_digits: int) -> bool:
    """low <= open, close <= high with a positive low, for prices of one shape: compared as text."""
    low, high = texts["low"], texts["high"]
    # A whole part of two digits or more starts with 1-9; one digit is positive unless the text is zero.
    positive = whole_digits > 1 or min(low).strip("0.") != ""
    return (
        positive
        and all(map(_le, low, texts["open"]))
        and all(map(_le, texts["open"], high))
        and all(map(_le, low, texts["close"]))
        and all(map(_le, texts["close"], high))
    )


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


def build_kline_page(
    columns: Mapping[str, Sequence[Any]], symbol: Symbol, interval: Interval
) -> KlinePage | None:
    """The candles of ``columns`` as a ``KlinePage``, or None when they cannot be proved valid (see the
    module's note): validate them one by one then.

    ``columns`` maps every field of ``Kline`` but ``symbol`` and ``interval`` to one value per candle, all
    equally long: ``int`` for the times and the trade count, text for the decimals and ``ignore``. The page
    keeps tuples of them; a tuple given is kept as it is, so do not change what it holds.
    """
    if set(columns) != _COLUMN_NAMES:
        msg = f"kline columns must be exactly {sorted(_COLUMN_NAMES)}"
        raise ValueError(msg)
    kept = {name: tuple(column) for name, column in columns.items()}
    count = len(kept["open_time_ms"])
    if any(len(column) != count for column in kept.values()):
        msg = "kline columns must be equally long"
        raise ValueError(msg)
    if not count:
        return KlinePage(symbol, interval, kept)
    if any(set(map(type, kept[name])) != {int} for name in _INT_FIELDS) or set(map(type, kept["ignore"])) != {
        str
    }:
        return None
    plain = {name: kept[name] for name in DECIMAL_FIELDS}
    whole_digits = _one_shape([plain[name] for name in PRICE_FIELDS], count)
    for name in DECIMAL_FIELDS if whole_digits is None else VOLUME_FIELDS:
        tiny = _check_plain(plain[name])
        if tiny is None:
            return None
        kept[name] = _as_written(plain[name], tiny=tiny)
    if whole_digits == 1:  # a price under 1e-6 is written with an exponent; the least one says if any is
        for name in PRICE_FIELDS:
            kept[name] = _as_written(plain[name], tiny=min(plain[name]).startswith("0.000000"))
    passes = (
        min(kept["trade_count"]) >= 0
        and _times_pass(kept["open_time_ms"], kept["close_time_ms"], interval)
        and (_prices_pass(plain) if whole_digits is None else _one_shape_prices_pass(plain, whole_digits))
    )
    return KlinePage(symbol, interval, kept) if passes else None
