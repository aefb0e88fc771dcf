"""Writes inside one open transaction of the writer connection; the caller begins and commits.

Each upsert first reads which keys of the batch's range already exist, so that it can tell new rows from
changed ones: a brand-new range (the backfill case) then takes a plain ``INSERT`` with no conflict clause,
and only an overlapping write pays for ``ON CONFLICT ... DO UPDATE ... WHERE`` the values differ.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from adapters.sqlite import _rows
from adapters.sqlite._reads import SeriesIds, read_account, series_id
from domain import AccountInfo, Interval, Kline, PriceQuote, RejectionCount, Symbol, Ticker24h

__all__ = [
    "write_accounts",
    "write_klines",
    "write_quotes",
    "write_rejections",
    "write_tickers",
]


def _upsert_sql(table: str, columns: str, keys: str) -> tuple[str, str]:
    names = [c.strip() for c in columns.split(",")]
    key_names = {k.strip() for k in keys.split(",")}
    values = [n for n in names if n not in key_names]
    marks = ", ".join("?" * len(names))
    plain = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names are constants
    assign = ", ".join(f"{v} = excluded.{v}" for v in values)
    old = ", ".join(f"{table}.{v}" for v in values)
    new = ", ".join(f"excluded.{v}" for v in values)
    upsert = f"{plain} ON CONFLICT ({keys}) DO UPDATE SET {assign} WHERE ({old}) IS NOT ({new})"
    return plain, upsert


_KLINES = _upsert_sql("klines", _rows.KLINE_COLUMNS, "series_id, open_time_ms")
_QUOTES = _upsert_sql("price_ticks", "symbol, as_of_ms, price", "symbol, as_of_ms")
_TICKERS = _upsert_sql("tickers_24h", _rows.TICKER_COLUMNS, "symbol, close_time_ms")


def _write_group(
    conn: sqlite3.Connection,
    statements: tuple[str, str],
    existing_sql: str,
    group: object,
    keys: Sequence[int],
    rows: list[tuple[Any, ...]],
) -> tuple[int, int]:
    """Upsert one group's ``rows`` (sorted by ``keys``); return (new rows, changed rows)."""
    existing = {row[0] for row in conn.execute(existing_sql, (group, keys[0], keys[-1]))}
    plain, upsert = statements
    if not existing:
        conn.executemany(plain, rows)
        return len(rows), 0
    new = sum(1 for key in keys if key not in existing)
    changed = conn.executemany(upsert, rows).rowcount
    return new, changed - new


def write_klines(
    conn: sqlite3.Connection, klines: Sequence[Kline], known: SeriesIds
) -> tuple[int, int, SeriesIds]:
    """Upsert candles sorted by (symbol, interval, open time); return (new, changed, series created).

    Series created here are returned rather than cached, since a rollback would undo them.
    """
    stored = updated = 0
    created: SeriesIds = {}
    for (symbol, interval), group in _by_series(klines):
        sid = created.get((symbol.value, interval.value)) or series_id(conn, symbol, interval, known)
        if sid is None:
            cursor = conn.execute(
                "INSERT INTO series (symbol, interval) VALUES (?, ?)", (symbol.value, interval.value)
            )
            sid = created[(symbol.value, interval.value)] = int(cursor.lastrowid or 0)
        keys = [k.open_time_ms for k in group]
        new, changed = _write_group(
            conn,
            _KLINES,
            "SELECT open_time_ms FROM klines WHERE series_id = ? AND open_time_ms BETWEEN ? AND ?",
            sid,
            keys,
            _rows.kline_rows(sid, group),
        )
        stored += new
        updated += changed
    return stored, updated, created


def _by_series(klines: Sequence[Kline]) -> Iterable[tuple[tuple[Symbol, Interval], Sequence[Kline]]]:
    if not klines:
        return []
    first, last = klines[0], klines[-1]
    if first.symbol == last.symbol and first.interval is last.interval:
        return [((first.symbol, first.interval), klines)]  # sorted by series, so all one series
    return [(key, list(group)) for key, group in itertools.groupby(klines, lambda k: (k.symbol, k.interval))]


def write_quotes(conn: sqlite3.Connection, quotes: Sequence[PriceQuote]) -> tuple[int, int]:
    stored = updated = 0
    for symbol, group in itertools.groupby(quotes, lambda q: q.symbol.value):
        items = list(group)
        new, changed = _write_group(
            conn,
            _QUOTES,
            "SELECT as_of_ms FROM price_ticks WHERE symbol = ? AND as_of_ms BETWEEN ? AND ?",
            symbol,
            [q.as_of_ms for q in items],
            [_rows.quote_row(q) for q in items],
        )
        stored += new
        updated += changed
    return stored, updated


def write_tickers(conn: sqlite3.Connection, tickers: Sequence[Ticker24h]) -> tuple[int, int]:
    stored = updated = 0
    for symbol, group in itertools.groupby(tickers, lambda t: t.symbol.value):
        items = list(group)
        new, changed = _write_group(
            conn,
            _TICKERS,
            "SELECT close_time_ms FROM tickers_24h WHERE symbol = ? AND close_time_ms BETWEEN ? AND ?",
            symbol,
            [t.close_time_ms for t in items],
            [_rows.ticker_row(t) for t in items],
        )
        stored += new
        updated += changed
    return stored, updated


def write_accounts(conn: sqlite3.Connection, accounts: Sequence[AccountInfo]) -> tuple[int, int]:
    """Snapshots are few and have child rows, so each is compared with what is stored in Python."""
    stored = updated = 0
    for info in accounts:
        row = _rows.account_row(info)
        uid, update_ms = row[0], row[1]
        current = read_account(conn, uid, update_ms)
        if current == info:
            continue
        if current is None:
            stored += 1
        else:
            updated += 1
            conn.execute(
                "DELETE FROM account_balances WHERE uid = ? AND update_time_ms = ?", (uid, update_ms)
            )
        conn.execute(f"INSERT OR REPLACE INTO account_snapshots VALUES ({', '.join('?' * len(row))})", row)  # noqa: S608
        conn.executemany("INSERT INTO account_balances VALUES (?, ?, ?, ?, ?, ?)", _rows.balance_rows(info))
    return stored, updated


def write_rejections(conn: sqlite3.Connection, rejections: Iterable[RejectionCount]) -> None:
    conn.executemany(
        """INSERT INTO rejections (kind, symbol, interval, reason, count, last_seen_ms, last_message)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (kind, symbol, interval, reason) DO UPDATE SET
               count = count + excluded.count,
               last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
               last_message = excluded.last_message""",
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
