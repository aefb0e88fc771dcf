"""Kline pages, array -> ``Kline``, by hand rather than through cattrs: a 1000-candle page is the hot path.

A kline is a positional array (see ``domain.Kline`` for the index of each field). ``build_klines`` turns the
rows into columns (``zip``) and hands them to ``domain.build_kline_page``, which proves the page valid a
column at a time and keeps it as columns: no ``Decimal`` or ``Kline`` is made until someone reads one. Any
doubt (a wrong type, a row of another length, text outside the plain decimal form, a broken candle rule)
sends the page to ``check_rows``, which walks it row by row and says exactly what is wrong; on a good page
both give equal candles (a test holds them to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import InvalidOperation
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
_FIELDS = tuple(_NAMES.items())


def build_klines(raw: list[Any], symbol: Symbol, interval: Interval) -> Sequence[Kline] | None:
    """The page as a ``domain.KlinePage``, or None when any row needs a closer look (``check_rows``)."""
    if not raw:
        return []
    try:
        # Rows of other lengths stop zip; a row that is not an array gives columns of the wrong types,
        # which build_kline_page refuses.
        columns = list(zip(*raw, strict=True))
    except (TypeError, ValueError):
        return None
    if len(columns) < FIRST_OPTIONAL_INDEX:
        return None
    if len(columns) == _IGNORE:
        columns.append(("0",) * len(raw))
    return build_kline_page({name: columns[index] for index, name in _FIELDS}, symbol, interval)


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
