"""Reads on any connection; several statements that must agree run in one read transaction."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from adapters.sqlite import _rows
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

SeriesIds = dict[tuple[str, str], int]

#: Bounds standing in for an open end of a time range.
MIN_MS = -(2**63)
MAX_MS = 2**63 - 1


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: every statement inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def series_id(conn: sqlite3.Connection, symbol: Symbol, interval: Interval, known: SeriesIds) -> int | None:
    """The id of a series, looked up in ``known`` first; ``None`` when the series has never been stored."""
    key = (symbol.value, interval.value)
    found = known.get(key)
    if found is None:
        row = conn.execute("SELECT id FROM series WHERE symbol = ? AND interval = ?", key).fetchone()
        if row is not None:
            found = known[key] = int(row[0])
    return found


def read_klines(
    conn: sqlite3.Connection,
    sid: int,
    symbol: Symbol,
    interval: Interval,
    start_ms: int,
    end_ms: int,
    limit: int,
) -> list[Kline]:
    rows = conn.execute(
        f"SELECT {_rows.KLINE_SELECT} FROM klines "  # noqa: S608 - a constant column list
        "WHERE series_id = ? AND open_time_ms BETWEEN ? AND ? ORDER BY open_time_ms LIMIT ?",
        (sid, start_ms, end_ms, limit),
    ).fetchall()
    return _rows.klines_from_rows(symbol, interval, rows)


def read_coverage(
    conn: sqlite3.Connection,
    sid: int | None,
    symbol: Symbol,
    interval: Interval,
    start_ms: int | None,
    end_ms: int | None,
) -> KlineCoverage:
    count, first, last, holes = 0, None, None, []
    if sid is not None:
        lo, hi = MIN_MS if start_ms is None else start_ms, MAX_MS if end_ms is None else end_ms
        with snapshot(conn):
            count, first, last = conn.execute(
                "SELECT count(*), min(open_time_ms), max(open_time_ms) FROM klines "
                "WHERE series_id = ? AND open_time_ms BETWEEN ? AND ?",
                (sid, lo, hi),
            ).fetchone()
            # Consecutive candles are exactly one interval apart (a calendar month at most 31 days, the
            # nominal length), so any larger step is a hole.
            holes = conn.execute(
                """SELECT previous, open_time_ms FROM (
                       SELECT open_time_ms, lag(open_time_ms) OVER (ORDER BY open_time_ms) AS previous
                       FROM klines WHERE series_id = ? AND open_time_ms BETWEEN ? AND ?)
                   WHERE open_time_ms - previous > ? ORDER BY open_time_ms""",
                (sid, lo, hi, interval.duration_ms),
            ).fetchall()
    return KlineCoverage.from_holes(symbol, interval, start_ms, end_ms, count, first, last, holes)


def read_quotes(conn: sqlite3.Connection, symbol: Symbol, start_ms: int, end_ms: int) -> list[PriceQuote]:
    rows = conn.execute(
        "SELECT as_of_ms, price FROM price_ticks "
        "WHERE symbol = ? AND as_of_ms BETWEEN ? AND ? ORDER BY as_of_ms",
        (symbol.value, start_ms, end_ms),
    ).fetchall()
    return [PriceQuote(symbol, Decimal(price), as_of) for as_of, price in rows]


def read_tickers(conn: sqlite3.Connection, symbol: Symbol, start_ms: int, end_ms: int) -> list[Ticker24h]:
    rows = conn.execute(
        f"SELECT {_rows.TICKER_COLUMNS} FROM tickers_24h "  # noqa: S608 - a constant column list
        "WHERE symbol = ? AND close_time_ms BETWEEN ? AND ? ORDER BY close_time_ms",
        (symbol.value, start_ms, end_ms),
    ).fetchall()
    return [_rows.ticker_from_row(row) for row in rows]


def read_account(conn: sqlite3.Connection, uid: int, update_ms: int) -> AccountInfo | None:
    row = conn.execute(
        "SELECT * FROM account_snapshots WHERE uid = ? AND update_time_ms = ?", (uid, update_ms)
    ).fetchone()
    if row is None:
        return None
    balances = conn.execute(
        "SELECT asset, free, locked FROM account_balances "
        "WHERE uid = ? AND update_time_ms = ? ORDER BY position",
        (uid, update_ms),
    ).fetchall()
    return _rows.account_from_rows(row, balances)


def read_accounts(conn: sqlite3.Connection, start_ms: int, end_ms: int) -> list[AccountInfo]:
    with snapshot(conn):
        snapshots = conn.execute(
            "SELECT * FROM account_snapshots "
            "WHERE update_time_ms BETWEEN ? AND ? ORDER BY update_time_ms, uid",
            (start_ms, end_ms),
        ).fetchall()
        balances = conn.execute(
            "SELECT update_time_ms, uid, asset, free, locked FROM account_balances "
            "WHERE update_time_ms BETWEEN ? AND ? ORDER BY update_time_ms, uid, position",
            (start_ms, end_ms),
        ).fetchall()
    by_key = {
        key: [row[2:] for row in group] for key, group in itertools.groupby(balances, lambda r: (r[0], r[1]))
    }
    return [_rows.account_from_rows(row, by_key.get((row[1], row[0]), [])) for row in snapshots]


def read_rejections(
    conn: sqlite3.Connection, kind: DataKind | None, symbol: Symbol | None, interval: Interval | None
) -> list[RejectionCount]:
    clauses, params = [], []
    for column, value in (
        ("kind", kind.value if kind else None),
        ("symbol", symbol.value if symbol else None),
        ("interval", interval.value if interval else None),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        "SELECT kind, symbol, interval, reason, count, last_seen_ms, last_message FROM rejections "  # noqa: S608
        f"{where} ORDER BY kind, symbol, interval, reason",
        params,
    ).fetchall()
    return [
        RejectionCount(
            DataKind(kind_text),
            Symbol(symbol_text) if symbol_text else None,
            Interval(interval_text) if interval_text else None,
            Reason(reason),
            count,
            seen,
            message,
        )
        for kind_text, symbol_text, interval_text, reason, count, seen, message in rows
    ]
