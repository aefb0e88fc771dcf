"""Kline pages, array -> ``Kline``, by hand rather than through cattrs: a 1000-candle page is the hot path.

A kline is a positional array (see ``domain.Kline`` for the index of each field). ``build_klines`` works a
column at a time so that the per-value work runs in C (``map``, ``zip``, ``str.join``): type checks cost a
join or a set of types per column, decimals are made by ``map``, and ``domain.build_kline_page`` makes the
objects and checks the page against the candle rules, column by column. Any doubt (a wrong type, a
row of another length, text that is not a finite number) sends the page to ``check_rows``, which walks it
row by row and says exactly what is wrong; on a good page both give equal objects (a test holds them to it).
"""

from __future__ import annotations

from decimal import InvalidOperation
from itertools import repeat
from typing import Any

from adapters.binance._converters import kind, to_decimal
from domain import Interval, Kline, Symbol
from domain.kline_page import build_kline_page

__all__ = ["FIRST_OPTIONAL_INDEX", "build_klines", "check_rows"]

# Field name by array index; index 11 ("ignore", unused by Binance) may be absent.
_INTS = ((0, "open_time_ms"), (6, "close_time_ms"), (8, "trade_count"))
_DECIMALS = (
    (1, "open"),
    (2, "high"),
    (3, "low"),
    (4, "close"),
    (5, "volume"),
    (7, "quote_volume"),
    (9, "taker_buy_base_volume"),
    (10, "taker_buy_quote_volume"),
)
_IGNORE = 11
FIRST_OPTIONAL_INDEX = _IGNORE
_NAMES = dict(_INTS + _DECIMALS + ((_IGNORE, "ignore"),))
# Prices repeat among themselves (an open is often a low): they share one cache; each volume column (all
# zeros in a quiet market) has its own.
_DECIMAL_GROUPS = (_DECIMALS[:4], *((item,) for item in _DECIMALS[4:]))
# The cache pays when fewer than about 40% of a page's values are distinct (measured: 155 ns a value made
# directly; through the cache 43 ns at 1% distinct, 88 ns at 25%, 229 ns at 74%). The first rows decide: a
# sample two thirds distinct or less comes from a handful of values (it is nearly all distinct from 150 up).
_SAMPLE_ROWS = 25


def _is_finite_text(column: tuple[Any, ...]) -> bool:
    try:
        text = "".join(column)  # TypeError unless every item is text
    except TypeError:
        return False
    # Every spelling of NaN, sNaN, Inf and Infinity has an n; finite decimal text never does.
    return "n" not in text and "N" not in text


def _decimal_group(columns: list[tuple[Any, ...]]) -> list[list[Any]] | None:
    """The columns as decimals, or None when an item is not finite decimal text.

    Columns that repeat few values (the prices of a quiet or coarse-ticked market, zero volumes) are made
    from a cache of their distinct texts: a dict look-up costs a third of a ``Decimal``. A sample of the
    first rows decides; the result is the same either way (equal text, equal decimal, exactly).
    """
    if not all(map(_is_finite_text, columns)):
        return None
    try:
        sample = set().union(*(column[:_SAMPLE_ROWS] for column in columns))
        if 3 * len(sample) <= 2 * sum(min(len(c), _SAMPLE_ROWS) for c in columns):
            distinct = set().union(*columns)
            cached = dict(zip(distinct, map(to_decimal, distinct), strict=True)).__getitem__
            return [list(map(cached, column)) for column in columns]
        return [list(map(to_decimal, column)) for column in columns]
    except InvalidOperation:
        return None


def _columns(raw: list[Any]) -> dict[str, Any] | None:
    """Field name -> its column (decimals made), or None when a type, a length or a number is off."""
    if set(map(type, raw)) != {list}:
        return None
    lengths = set(map(len, raw))
    if len(lengths) != 1 or min(lengths) < FIRST_OPTIONAL_INDEX:
        return None
    columns = list(zip(*raw, strict=True))
    values: dict[str, Any] = {}
    for index, name in _INTS:
        if set(map(type, columns[index])) != {int}:
            return None
        values[name] = columns[index]
    for group in _DECIMAL_GROUPS:
        decimals = _decimal_group([columns[index] for index, _ in group])
        if decimals is None:
            return None
        values.update(zip((name for _, name in group), decimals, strict=True))
    if len(columns) > _IGNORE:
        if set(map(type, columns[_IGNORE])) != {str}:
            return None
        values["ignore"] = columns[_IGNORE]
    else:
        values["ignore"] = repeat("0", len(raw))
    return values


def build_klines(raw: list[Any], symbol: Symbol, interval: Interval) -> list[Kline] | None:
    """The page as Klines (checked by ``domain.build_kline_page``), or None when any row needs a closer look
    (``check_rows``)."""
    if not raw:
        return []
    values = _columns(raw)
    if values is None:
        return None
    return build_kline_page(values, symbol, interval)


def _row_problems(row: list[Any]) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The fields of one kline array, and (index, what is wrong) for each bad item."""
    fields: dict[str, Any] = {}
    problems: list[tuple[int, str]] = []
    for index, name in _INTS:
        value = row[index]
        if isinstance(value, int) and not isinstance(value, bool):
            fields[name] = value
        else:
            problems.append((index, f"expected an integer, got {kind(value)}"))
    for index, name in _DECIMALS:
        value = row[index]
        if not isinstance(value, str):
            problems.append((index, f"expected a decimal string, got {kind(value)}"))
            continue
        try:
            number = to_decimal(value)
        except InvalidOperation:
            problems.append((index, f"{value[:24]!r} is not a decimal number"))
            continue
        if number.is_finite():
            fields[name] = number
        else:
            problems.append((index, f"{value[:24]!r} is not a finite number"))
    if len(row) > _IGNORE:
        if isinstance(row[_IGNORE], str):
            fields["ignore"] = row[_IGNORE]
        else:
            problems.append((_IGNORE, f"expected text, got {kind(row[_IGNORE])}"))
    return fields, problems


def check_rows(raw: Any, symbol: Symbol, interval: Interval) -> tuple[list[Kline], list[str]]:
    """Row by row: the Klines of the good rows, and a ``<what> @ $[row][item] (field)`` line per problem."""
    if not isinstance(raw, list):
        return [], [f"expected an array of klines, got {kind(raw)} @ $"]
    klines: list[Kline] = []
    problems: list[str] = []
    for number, row in enumerate(raw):
        if not isinstance(row, list):
            problems.append(f"expected a kline array, got {kind(row)} @ $[{number}]")
        elif len(row) < FIRST_OPTIONAL_INDEX:
            problems.append(f"expected at least {FIRST_OPTIONAL_INDEX} items, got {len(row)} @ $[{number}]")
        else:
            fields, bad = _row_problems(row)
            problems.extend(f"{what} @ $[{number}][{index}] ({_NAMES[index]})" for index, what in bad)
            if not bad:
                klines.append(Kline(symbol=symbol, interval=interval, **fields))
    return klines, problems
