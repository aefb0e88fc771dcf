"""How SQLite takes and gives the stores' values: decimals as the exact text ``str(Decimal)`` writes.

The candle conversion is the hot path of a backfill, so it unpacks each candle with one ``attrgetter``
call and builds plain tuples for ``executemany``; the other rows go through ``adapters._sql.rows``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from adapters._sql.rows import Codec, kline_values
from domain import Kline

__all__ = ["CODEC", "kline_rows"]

CODEC = Codec(decimal_in=str, decimal_out=Decimal, flag_in=int)


def kline_rows(series_id: int, klines: Iterable[Kline]) -> list[tuple[Any, ...]]:
    """Rows in ``KLINE_COLUMNS`` order."""
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for ot, o, h, lo, c, v, ct, qv, n, tb, tq, ig in map(kline_values, klines):
        append((series_id, ot, str(o), str(h), str(lo), str(c), str(v), ct, str(qv), n, str(tb), str(tq), ig))
    return rows
