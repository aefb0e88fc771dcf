"""Writing stored candles to CSV or Parquet in chunks, so that a year of candles never sits in memory.

Both files have the columns of ``application.frames`` in that order: ``open_time``, ``open``, ``high``,
``low``, ``close``, ``volume``, ``close_time``, ``quote_volume``, ``trade_count``, ``taker_buy_base_volume``,
``taker_buy_quote_volume``. Prices and volumes are written as exact decimal text (``"64000.01000000"``,
fixed-point, never exponent notation): a Parquet ``decimal128`` needs one precision and scale for the whole
column, which the volumes of low-priced coins can overflow, and a float would not be exact. Read them back
with ``Decimal(text)`` (or ``pd.to_numeric`` when floats are good enough).

- CSV: times are ISO-8601 UTC with milliseconds (``2025-01-01T00:00:00.000Z``); a header row first.
- Parquet: times are ``timestamp[ms, UTC]``, ``trade_count`` is ``int64``, decimals are ``string``; one row
  group per chunk; the file's metadata holds ``symbol`` and ``interval``.

The file is written under a temporary name next to the target and renamed at the end, so a failed export
never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.cli._output import decimal_text, iso
from domain import Interval, Kline, Symbol

__all__ = ["COLUMNS", "EXPORT_SUFFIXES", "write_klines"]

COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trade_count",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)
EXPORT_SUFFIXES = (".csv", ".parquet")

_TIME = pa.timestamp("ms", tz="UTC")
_SCHEMA = pa.schema(
    [
        (name, _TIME if name.endswith("_time") else pa.int64() if name == "trade_count" else pa.string())
        for name in COLUMNS
    ]
)


def _csv_row(k: Kline) -> tuple[str | int, ...]:
    return (
        iso(k.open_time_ms),
        decimal_text(k.open),
        decimal_text(k.high),
        decimal_text(k.low),
        decimal_text(k.close),
        decimal_text(k.volume),
        iso(k.close_time_ms),
        decimal_text(k.quote_volume),
        k.trade_count,
        decimal_text(k.taker_buy_base_volume),
        decimal_text(k.taker_buy_quote_volume),
    )


def _table(chunk: list[Kline]) -> pa.Table:
    columns: list[pa.Array[Any]] = []
    for name in COLUMNS:
        field = f"{name}_ms" if name.endswith("_time") else name
        values = [getattr(k, field) for k in chunk]
        if name.endswith("_time"):
            columns.append(pa.array(values, type=pa.int64()).cast(_TIME))
        elif name == "trade_count":
            columns.append(pa.array(values, type=pa.int64()))
        else:
            columns.append(pa.array([decimal_text(v) for v in values], type=pa.string()))
    return pa.Table.from_arrays(columns, schema=_SCHEMA)


async def _write_csv(chunks: AsyncIterator[list[Kline]], path: Path) -> int:
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        async for chunk in chunks:
            writer.writerows(_csv_row(k) for k in chunk)
            written += len(chunk)
    return written


async def _write_parquet(
    chunks: AsyncIterator[list[Kline]], path: Path, symbol: Symbol, interval: Interval
) -> int:
    written = 0
    metadata = {b"symbol": str(symbol).encode(), b"interval": interval.value.encode()}
    with pq.ParquetWriter(path, _SCHEMA.with_metadata(metadata)) as writer:
        async for chunk in chunks:
            writer.write_table(_table(chunk))
            written += len(chunk)
    return written


async def write_klines(
    chunks: AsyncIterator[list[Kline]], out: Path, symbol: Symbol, interval: Interval
) -> int:
    """Write every chunk to ``out`` (``.csv`` or ``.parquet``); returns how many candles were written.

    Raises ``OSError`` when the file cannot be written; nothing is left at ``out`` then.
    """
    partial = out.with_name(f".{out.name}.partial")
    try:
        if out.suffix.lower() == ".csv":
            written = await _write_csv(chunks, partial)
        else:
            written = await _write_parquet(chunks, partial, symbol, interval)
        partial.replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return written
