"""How SQLite takes and gives the stores' values: decimals as the exact text ``str(Decimal)`` writes.

The candle conversion is the hot path of a backfill. A ``KlinePage`` already holds that text, a column per
field, so its rows are zipped from its columns and no ``Decimal`` or ``Kline`` is made; other candles are
unpacked with one ``attrgetter`` call each. The other rows go through ``adapters._sql.rows``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters._sql.rows import Codec, kline_values, page_rows
from domain import Kline, KlinePage, exact_decimal

__all__ = ["CODEC", "kline_rows"]

# Read back exactly and whatever the reading thread's decimal context: ``domain.exact_decimal``.
CODEC = Codec(decimal_in=str, decimal_out=exact_decimal, flag_in=int)


def kline_rows(series_id: int, klines: Iterable[Kline]) -> list[tuple[Any, ...]]:
    """Rows in ``KLINE_COLUMNS`` order."""
    if isinstance(klines, KlinePage):
        return page_rows(series_id, klines)
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for ot, o, h, lo, c, v, ct, qv, n, tb, tq, ig in map(kline_values, klines):
        append((series_id, ot, str(o), str(h), str(lo), str(c), str(v), ct, str(qv), n, str(tb), str(tq), ig))
    return rows
