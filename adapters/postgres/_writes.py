"""Writes inside one open transaction of the writer connection; the caller begins and commits.

A batch is copied (``COPY``) into a temporary staging table that empties itself at commit, then moved
with one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE`` the values differ. The rows go in key
order, so two collectors upserting overlapping batches lock rows in the same order and cannot deadlock.
``xmax = 0`` in ``RETURNING`` tells a new row from an updated one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import TupleRow

from adapters._sql import queries
from adapters._sql.rows import (
    KLINE_COLUMNS,
    QUOTE_COLUMNS,
    TICKER_COLUMNS,
    Codec,
    account_from_rows,
    account_row,
    balance_rows,
    by_series,
    kline_values,
    page_rows,
    quote_row,
    rejection_row,
    ticker_row,
)
from adapters._sql.store import SeriesIds
from domain import (
    AccountInfo,
    DataKind,
    Interval,
    Kline,
    KlinePage,
    PriceQuote,
    RejectionCount,
    Symbol,
    Ticker24h,
)
from domain.storage import ValidatedBatch

__all__ = [
    "CODEC",
    "STAGING_TABLES",
    "pyformat",
    "write_accounts",
    "write_batch",
    "write_klines",
    "write_quotes",
    "write_rejections",
    "write_tickers",
]

Conn = psycopg.AsyncConnection[TupleRow]
_V = TypeVar("_V")


def _same(value: _V) -> _V:
    return value


#: psycopg moves ``Decimal`` to and from ``NUMERIC``, and ``bool`` to ``BOOLEAN``, itself.
CODEC = Codec(decimal_in=_same, decimal_out=_same, flag_in=_same)


@functools.cache
def pyformat(sql: str) -> str:
    """A shared statement (``?`` placeholders) as psycopg takes it (``%s``)."""
    return sql.replace("?", "%s")


#: Created once per writer connection: session-private, emptied at every commit.
STAGING_TABLES = tuple(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS stage_{table} (LIKE {table}) ON COMMIT DELETE ROWS"
    for table in ("klines", "price_ticks", "tickers_24h")
)


async def write_batch(
    conn: Conn, *, kind: DataKind, batch: ValidatedBatch[Any], series: SeriesIds
) -> tuple[int, int]:
    """Upsert the batch's accepted rows (of ``kind``) and add its rejections; return (new, changed)."""
    rows = batch.accepted
    match kind:
        case DataKind.KLINE:
            counts = await write_klines(conn, rows, series)
        case DataKind.PRICE_TICK:
            counts = await write_quotes(conn, rows)
        case DataKind.TICKER_24H:
            counts = await write_tickers(conn, rows)
        case DataKind.ACCOUNT_SNAPSHOT:
            counts = await write_accounts(conn, rows)
    await write_rejections(conn, batch.rejections)
    return counts


def _upsert_sql(table: str, columns: str, keys: str) -> tuple[str, str]:
    values = queries.value_columns(columns, keys)
    copy = f"COPY stage_{table} ({columns}) FROM STDIN"
    assign = ", ".join(f"{v} = EXCLUDED.{v}" for v in values)
    old = ", ".join(f"{table}.{v}" for v in values)
    new = ", ".join(f"EXCLUDED.{v}" for v in values)
    upsert = (
        f"WITH written AS (INSERT INTO {table} ({columns}) "  # noqa: S608 - names are constants
        f"SELECT {columns} FROM stage_{table} ORDER BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {assign} WHERE ({old}) IS DISTINCT FROM ({new}) "
        "RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"
    )
    return copy, upsert


_KLINES = _upsert_sql("klines", KLINE_COLUMNS, "series_id, open_time_ms")
_QUOTES = _upsert_sql("price_ticks", QUOTE_COLUMNS, "symbol, as_of_ms")
_TICKERS = _upsert_sql("tickers_24h", TICKER_COLUMNS, "symbol, close_time_ms")


async def _copy_upsert(
    conn: Conn, statements: tuple[str, str], rows: Iterable[Sequence[Any]]
) -> tuple[int, int]:
    copy_sql, upsert_sql = statements
    async with conn.cursor() as cur:
        async with cur.copy(copy_sql) as copy:
            for row in rows:
                await copy.write_row(row)
        await cur.execute(upsert_sql)
        counts = await cur.fetchone()
    return (int(counts[0]), int(counts[1])) if counts is not None else (0, 0)


async def write_klines(conn: Conn, klines: Sequence[Kline], series: SeriesIds) -> tuple[int, int]:
    """Upsert candles sorted by (symbol, interval, open time); return (new, changed)."""
    if not klines:
        return 0, 0
    rows: list[tuple[Any, ...]] = []
    for (symbol, interval), group in by_series(klines):
        sid = series.get(symbol, interval)
        if sid is None:
            sid = await _series_id(conn, symbol, interval)
            series.add(symbol, interval, sid)
        if isinstance(group, KlinePage):  # its text goes to NUMERIC as it is: no decimal is made
            rows += page_rows(sid, group)
        else:
            rows.extend((sid, *values) for values in map(kline_values, group))
    return await _copy_upsert(conn, _KLINES, rows)


async def _series_id(conn: Conn, symbol: Symbol, interval: Interval) -> int:
    """The series' id, the series created if it is new.

    Another collector may create the same series at the same moment: the insert then waits for it and does
    nothing, and the select finds its row.
    """
    key = (symbol.value, interval.value)
    await conn.execute('INSERT INTO series (symbol, "interval") VALUES (%s, %s) ON CONFLICT DO NOTHING', key)
    cur = await conn.execute(pyformat(queries.SERIES_ID), key)
    row = await cur.fetchone()
    if row is None:  # pragma: no cover - the row was inserted or found just above
        msg = f"series {symbol} {interval.value} vanished"
        raise RuntimeError(msg)
    return int(row[0])


async def write_quotes(conn: Conn, quotes: Sequence[PriceQuote]) -> tuple[int, int]:
    if not quotes:
        return 0, 0
    return await _copy_upsert(conn, _QUOTES, [quote_row(q, CODEC) for q in quotes])


async def write_tickers(conn: Conn, tickers: Sequence[Ticker24h]) -> tuple[int, int]:
    if not tickers:
        return 0, 0
    return await _copy_upsert(conn, _TICKERS, [ticker_row(t, CODEC) for t in tickers])


async def write_accounts(conn: Conn, accounts: Sequence[AccountInfo]) -> tuple[int, int]:
    """Snapshots are few and have child rows: insert, or lock the stored one and compare in Python."""
    stored = updated = 0
    columns = ", ".join(["%s"] * 11)
    for info in accounts:
        row = account_row(info, CODEC)
        key = row[:2]  # (uid, update time)
        cur = await conn.execute(
            f"INSERT INTO account_snapshots VALUES ({columns}) ON CONFLICT DO NOTHING RETURNING 1",  # noqa: S608
            row,
        )
        if await cur.fetchone() is None:
            if await _stored_account(conn, key) == info:
                continue
            updated += 1
            await conn.execute("DELETE FROM account_snapshots WHERE uid = %s AND update_time_ms = %s", key)
            await conn.execute(pyformat(queries.DELETE_BALANCES), key)
            await conn.execute(f"INSERT INTO account_snapshots VALUES ({columns})", row)  # noqa: S608
        else:
            stored += 1
        async with conn.cursor() as bal:
            await bal.executemany(pyformat(queries.INSERT_BALANCE), balance_rows(info, CODEC))
    return stored, updated


async def _stored_account(conn: Conn, key: Sequence[int]) -> AccountInfo:
    """The snapshot stored under ``key`` (uid, update time), locked until the transaction ends."""
    cur = await conn.execute(pyformat(queries.ACCOUNT) + " FOR UPDATE", key)
    row = await cur.fetchone()
    if row is None:  # pragma: no cover - the insert just above found it
        msg = f"account snapshot {key} vanished"
        raise RuntimeError(msg)
    cur = await conn.execute(pyformat(queries.ACCOUNT_BALANCES), key)
    return account_from_rows(row, await cur.fetchall(), CODEC)


async def write_rejections(conn: Conn, rejections: Iterable[RejectionCount]) -> None:
    rows = [rejection_row(r) for r in rejections]
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(pyformat(queries.UPSERT_REJECTION), rows)
