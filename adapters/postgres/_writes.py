"""Writes inside one open transaction of the writer connection; the caller begins and commits.

A batch is copied (``COPY``) into a temporary staging table that empties itself at commit, then moved
with one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE`` the values differ. The rows go in key
order, so two collectors upserting overlapping batches lock rows in the same order and cannot deadlock.
``xmax = 0`` in ``RETURNING`` tells a new row from an updated one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from adapters.postgres import _rows
from adapters.postgres._reads import SeriesIds, read_account, series_id
from domain import AccountInfo, Interval, Kline, PriceQuote, RejectionCount, Symbol, Ticker24h

__all__ = [
    "STAGING_TABLES",
    "write_accounts",
    "write_klines",
    "write_quotes",
    "write_rejections",
    "write_tickers",
]

Conn = psycopg.AsyncConnection[TupleRow]

#: Created once per writer connection: session-private, emptied at every commit.
STAGING_TABLES = tuple(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS stage_{table} (LIKE {table}) ON COMMIT DELETE ROWS"
    for table in ("klines", "price_ticks", "tickers_24h")
)


def _upsert_sql(table: str, columns: str, keys: str) -> tuple[str, str]:
    names = [c.strip() for c in columns.split(",")]
    values = [n for n in names if n not in {k.strip() for k in keys.split(",")}]
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


_KLINES = _upsert_sql("klines", _rows.KLINE_COLUMNS, "series_id, open_time_ms")
_QUOTES = _upsert_sql("price_ticks", "symbol, as_of_ms, price", "symbol, as_of_ms")
_TICKERS = _upsert_sql("tickers_24h", _rows.TICKER_COLUMNS, "symbol, close_time_ms")


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


async def write_klines(conn: Conn, klines: Sequence[Kline], known: SeriesIds) -> tuple[int, int, SeriesIds]:
    """Upsert candles sorted by (symbol, interval, open time); return (new, changed, series created)."""
    if not klines:
        return 0, 0, {}
    created: SeriesIds = {}
    rows: list[tuple[Any, ...]] = []
    for (symbol, interval), group in _by_series(klines):
        sid = await series_id(conn, symbol, interval, known)
        if sid is None:
            sid = created[(symbol.value, interval.value)] = await _create_series(conn, symbol, interval)
        rows.extend(_rows.kline_rows(sid, group))
    stored, updated = await _copy_upsert(conn, _KLINES, rows)
    return stored, updated, created


async def _create_series(conn: Conn, symbol: Symbol, interval: Interval) -> int:
    # Another collector may create the same series at the same moment: the insert then waits for it and
    # does nothing, and the select finds its row.
    await conn.execute(
        'INSERT INTO series (symbol, "interval") VALUES (%s, %s) ON CONFLICT DO NOTHING',
        (symbol.value, interval.value),
    )
    cur = await conn.execute(
        'SELECT id FROM series WHERE symbol = %s AND "interval" = %s', (symbol.value, interval.value)
    )
    row = await cur.fetchone()
    if row is None:  # pragma: no cover - the row was inserted or found just above
        msg = f"series {symbol} {interval.value} vanished"
        raise RuntimeError(msg)
    return int(row[0])


def _by_series(klines: Sequence[Kline]) -> Iterable[tuple[tuple[Symbol, Interval], Sequence[Kline]]]:
    first, last = klines[0], klines[-1]
    if first.symbol == last.symbol and first.interval is last.interval:
        return [((first.symbol, first.interval), klines)]  # sorted by series, so all one series
    return [(key, list(group)) for key, group in itertools.groupby(klines, lambda k: (k.symbol, k.interval))]


async def write_quotes(conn: Conn, quotes: Sequence[PriceQuote]) -> tuple[int, int]:
    if not quotes:
        return 0, 0
    return await _copy_upsert(conn, _QUOTES, [(q.symbol.value, q.as_of_ms, q.price) for q in quotes])


async def write_tickers(conn: Conn, tickers: Sequence[Ticker24h]) -> tuple[int, int]:
    if not tickers:
        return 0, 0
    return await _copy_upsert(conn, _TICKERS, [_rows.ticker_row(t) for t in tickers])


async def write_accounts(conn: Conn, accounts: Sequence[AccountInfo]) -> tuple[int, int]:
    """Snapshots are few and have child rows: insert, or lock the stored one and compare in Python."""
    stored = updated = 0
    columns = ", ".join(["%s"] * 11)
    for info in accounts:
        row = _rows.account_row(info)
        uid, update_ms = row[0], row[1]
        cur = await conn.execute(
            f"INSERT INTO account_snapshots VALUES ({columns}) ON CONFLICT DO NOTHING RETURNING 1",  # noqa: S608
            row,
        )
        if await cur.fetchone() is None:
            if await read_account(conn, uid, update_ms, lock=True) == info:
                continue
            updated += 1
            await conn.execute(
                "DELETE FROM account_snapshots WHERE uid = %s AND update_time_ms = %s", (uid, update_ms)
            )
            await conn.execute(
                "DELETE FROM account_balances WHERE uid = %s AND update_time_ms = %s", (uid, update_ms)
            )
            await conn.execute(f"INSERT INTO account_snapshots VALUES ({columns})", row)  # noqa: S608
        else:
            stored += 1
        async with conn.cursor() as bal:
            await bal.executemany(
                "INSERT INTO account_balances VALUES (%s, %s, %s, %s, %s, %s)", _rows.balance_rows(info)
            )
    return stored, updated


async def write_rejections(conn: Conn, rejections: Sequence[RejectionCount]) -> None:
    if not rejections:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO rejections (kind, symbol, "interval", reason, count, last_seen_ms, last_message)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (kind, symbol, "interval", reason) DO UPDATE SET
                   count = rejections.count + EXCLUDED.count,
                   last_seen_ms = greatest(rejections.last_seen_ms, EXCLUDED.last_seen_ms),
                   last_message = EXCLUDED.last_message""",
            [
                (
                    r.kind.value,
                    r.symbol.value if r.symbol is not None else "",
                    r.interval.value if r.interval is not None else "",
                    r.reason.value,
                    r.count,
                    r.last_seen_ms,
                    r.last_message,
                )
                for r in rejections
            ],
        )
