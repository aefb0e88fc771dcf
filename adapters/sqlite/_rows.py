"""How SQLite takes and gives the stores' values: decimals as the exact text ``str(Decimal)`` writes.

The candle conversion is the hot path of a backfill. A ``KlinePage`` already holds that text, a column per
field, so its columns are laid straight into the statement's parameters and no ``Decimal``, ``Kline`` or
row is made; other candles are unpacked with one ``attrgetter`` call each. The other rows go through
``adapters._sql.rows``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from adapters._sql.rows import KLINE_COLUMNS, Codec, kline_values, page_columns
from domain import Kline, KlinePage, exact_decimal

__all__ = ["CODEC", "kline_params"]

# Read back exactly and whatever the reading thread's decimal context: ``domain.exact_decimal``.
CODEC = Codec(decimal_in=str, decimal_out=exact_decimal, flag_in=int)


def kline_params(series_id: int, klines: Iterable[Kline]) -> list[Any]:
    """The candles' rows in ``KLINE_COLUMNS`` order, one after another in one list: the parameters of a
    statement that inserts many rows. A page's columns are laid into it at a stride, with no row made."""
    if isinstance(klines, KlinePage):
        params: list[Any] = [None] * (len(klines) * _WIDTH)
        for offset, column in enumerate(page_columns(series_id, klines)):
            params[offset::_WIDTH] = column
        return params
    return list(itertools.chain.from_iterable(_rows(series_id, klines)))


_WIDTH = len(KLINE_COLUMNS.split(","))


def _rows(series_id: int, klines: Iterable[Kline]) -> Iterable[tuple[Any, ...]]:
    for ot, o, h, lo, c, v, ct, qv, n, tb, tq, ig in map(kline_values, klines):
        yield (series_id, ot, str(o), str(h), str(lo), str(c), str(v), ct, str(qv), n, str(tb), str(tq), ig)
