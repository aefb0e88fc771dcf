"""Reads on any connection; the reader connections run each read in one REPEATABLE READ snapshot."""

from __future__ import annotations

import itertools

import psycopg
from psycopg.rows import TupleRow

from adapters.postgres import _rows
from domain import (
    AccountInfo,
    DataKind,
    Interval,
    Kline,
    KlineCoverage,
    PriceQuote,
    RejectionCount,
    Symbol,
    Ticker24h,
)
from domain.validators import Reason

__all__ = [
    "MAX_MS",
    "MIN_MS",
    "SeriesIds",
    "read_account",
    "read_accounts",
    "read_coverage",
    "read_klines",
    "read_quotes",
    "read_rejections",
    "read_tickers",
    "series_id",
]

Conn = psycopg.AsyncConnection[TupleRow]
SeriesIds = dict[tuple[str, str], int]

#: Bounds standing in for an open end of a time range.
MIN_MS = -(2**63)
MAX_MS = 2**63 - 1


async def series_id(conn: Conn, symbol: Symbol, interval: Interval, known: SeriesIds) -> int | None:
    """The id of a series, looked up in ``known`` first; ``None`` when the series has never been stored.

    Ids found here are committed (or this connection's own), and ids never change, so they are cached.
    """
    key = (symbol.value, interval.value)
    found = known.get(key)
    if found is None:
        cur = await conn.execute('SELECT id FROM series WHERE symbol = %s AND "interval" = %s', key)
        row = await cur.fetchone()
        if row is not None:
            found = known[key] = int(row[0])
    return found


async def read_klines(
    conn: Conn, sid: int, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int, limit: int | None
) -> list[Kline]:
    cur = await conn.execute(
        f"SELECT {_rows.KLINE_SELECT} FROM klines "  # noqa: S608 - a constant column list
        "WHERE series_id = %s AND open_time_ms BETWEEN %s AND %s ORDER BY open_time_ms LIMIT %s",
        (sid, start_ms, end_ms, limit),
    )
    return _rows.klines_from_rows(symbol, interval, await cur.fetchall())


async def read_coverage(
    conn: Conn, sid: int | None, symbol: Symbol, interval: Interval, start_ms: int | None, end_ms: int | None
) -> KlineCoverage:
    count, first, last, holes = 0, None, None, []
    if sid is not None:
        lo, hi = MIN_MS if start_ms is None else start_ms, MAX_MS if end_ms is None else end_ms
        cur = await conn.execute(
            "SELECT count(*), min(open_time_ms), max(open_time_ms) FROM klines "
            "WHERE series_id = %s AND open_time_ms BETWEEN %s AND %s",
            (sid, lo, hi),
        )
        figures = await cur.fetchone()
        if figures is not None:
            count, first, last = figures
        # Consecutive candles are exactly one interval apart (a calendar month at most 31 days, the
        # nominal length), so any larger step is a hole.
        cur = await conn.execute(
            """SELECT previous, open_time_ms FROM (
                   SELECT open_time_ms, lag(open_time_ms) OVER (ORDER BY open_time_ms) AS previous
                   FROM klines WHERE series_id = %s AND open_time_ms BETWEEN %s AND %s) AS steps
               WHERE open_time_ms - previous > %s ORDER BY open_time_ms""",
            (sid, lo, hi, interval.duration_ms),
        )
        holes = [(int(a), int(b)) for a, b in await cur.fetchall()]
    return KlineCoverage.from_holes(symbol, interval, start_ms, end_ms, int(count), first, last, holes)


async def read_quotes(conn: Conn, symbol: Symbol, start_ms: int, end_ms: int) -> list[PriceQuote]:
    cur = await conn.execute(
        "SELECT price, as_of_ms FROM price_ticks "
        "WHERE symbol = %s AND as_of_ms BETWEEN %s AND %s ORDER BY as_of_ms",
        (symbol.value, start_ms, end_ms),
    )
    return [PriceQuote(symbol, price, as_of) for price, as_of in await cur.fetchall()]


async def read_tickers(conn: Conn, symbol: Symbol, start_ms: int, end_ms: int) -> list[Ticker24h]:
    cur = await conn.execute(
        f"SELECT {_rows.TICKER_COLUMNS} FROM tickers_24h "  # noqa: S608 - a constant column list
        "WHERE symbol = %s AND close_time_ms BETWEEN %s AND %s ORDER BY close_time_ms",
        (symbol.value, start_ms, end_ms),
    )
    return [_rows.ticker_from_row(row) for row in await cur.fetchall()]


_SNAPSHOT = "SELECT * FROM account_snapshots WHERE uid = %s AND update_time_ms = %s"
_LOCKED_SNAPSHOT = _SNAPSHOT + " FOR UPDATE"


async def read_account(conn: Conn, uid: int, update_ms: int, *, lock: bool = False) -> AccountInfo | None:
    cur = await conn.execute(
        _LOCKED_SNAPSHOT if lock else _SNAPSHOT,
        (uid, update_ms),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    cur = await conn.execute(
        "SELECT asset, free, locked FROM account_balances "
        "WHERE uid = %s AND update_time_ms = %s ORDER BY position",
        (uid, update_ms),
    )
    return _rows.account_from_rows(row, await cur.fetchall())


async def read_accounts(conn: Conn, start_ms: int, end_ms: int) -> list[AccountInfo]:
    cur = await conn.execute(
        "SELECT * FROM account_snapshots WHERE update_time_ms BETWEEN %s AND %s ORDER BY update_time_ms, uid",
        (start_ms, end_ms),
    )
    snapshots = await cur.fetchall()
    cur = await conn.execute(
        "SELECT update_time_ms, uid, asset, free, locked FROM account_balances "
        "WHERE update_time_ms BETWEEN %s AND %s ORDER BY update_time_ms, uid, position",
        (start_ms, end_ms),
    )
    balances = await cur.fetchall()
    by_key = {
        key: [row[2:] for row in group] for key, group in itertools.groupby(balances, lambda r: (r[0], r[1]))
    }
    return [_rows.account_from_rows(row, by_key.get((row[1], row[0]), [])) for row in snapshots]


async def read_rejections(
    conn: Conn, kind: DataKind | None, symbol: Symbol | None, interval: Interval | None
) -> list[RejectionCount]:
    cur = await conn.execute(
        """SELECT kind, symbol, "interval", reason, count, last_seen_ms, last_message FROM rejections
           WHERE (%(kind)s::text IS NULL OR kind = %(kind)s)
             AND (%(symbol)s::text IS NULL OR symbol = %(symbol)s)
             AND (%(interval)s::text IS NULL OR "interval" = %(interval)s)
           ORDER BY kind, symbol, "interval", reason""",
        {
            "kind": kind.value if kind else None,
            "symbol": symbol.value if symbol else None,
            "interval": interval.value if interval else None,
        },
    )
    return [
        RejectionCount(
            DataKind(kind_text),
            Symbol(symbol_text) if symbol_text else None,
            Interval(interval_text) if interval_text else None,
            Reason(reason),
            int(count),
            int(seen),
            message,
        )
        for kind_text, symbol_text, interval_text, reason, count, seen, message in await cur.fetchall()
    ]
