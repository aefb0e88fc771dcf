"""The statements both SQL stores run, written once in the portable subset of SQLite's and PostgreSQL's SQL.

Parameters are ``?`` placeholders (PostgreSQL's store turns them into ``%s``); ``"interval"`` is quoted,
since it is a keyword in PostgreSQL. Candle reads find the series by name in a scalar subquery, so a read
needs no series id of its own and finds nothing (not an error) for a series never stored.
"""

from __future__ import annotations

from adapters._sql.rows import KLINE_SELECT, REJECTION_COLUMNS, TICKER_COLUMNS

__all__ = [
    "ACCOUNT",
    "ACCOUNTS",
    "ACCOUNT_BALANCES",
    "BALANCES",
    "COVERAGE",
    "DELETE_BALANCES",
    "HOLES",
    "INSERT_BALANCE",
    "KLINES",
    "KLINES_LIMITED",
    "QUOTES",
    "REJECTIONS",
    "SERIES_ID",
    "TICKERS",
    "UPSERT_REJECTION",
    "value_columns",
]

SERIES_ID = 'SELECT id FROM series WHERE symbol = ? AND "interval" = ?'

# Every candle query takes (symbol, interval, first open time, last open time) first.
_SERIES_RANGE = f"series_id = ({SERIES_ID}) AND open_time_ms BETWEEN ? AND ?"

KLINES = f"SELECT {KLINE_SELECT} FROM klines WHERE {_SERIES_RANGE} ORDER BY open_time_ms"  # noqa: S608
#: ``KLINES`` with one more parameter: how many candles at most.
KLINES_LIMITED = f"{KLINES} LIMIT ?"

COVERAGE = f"SELECT count(*), min(open_time_ms), max(open_time_ms) FROM klines WHERE {_SERIES_RANGE}"  # noqa: S608
# Consecutive candles are exactly one interval apart (a calendar month at most 31 days, the nominal length),
# so a larger step (the last parameter) is a hole.
HOLES = f"""SELECT previous, open_time_ms FROM (
        SELECT open_time_ms, lag(open_time_ms) OVER (ORDER BY open_time_ms) AS previous
        FROM klines WHERE {_SERIES_RANGE}) AS steps
    WHERE open_time_ms - previous > ? ORDER BY open_time_ms"""  # noqa: S608

QUOTES = (
    "SELECT as_of_ms, price FROM price_ticks WHERE symbol = ? AND as_of_ms BETWEEN ? AND ? ORDER BY as_of_ms"
)
TICKERS = (
    f"SELECT {TICKER_COLUMNS} FROM tickers_24h "  # noqa: S608
    "WHERE symbol = ? AND close_time_ms BETWEEN ? AND ? ORDER BY close_time_ms"
)

ACCOUNT = "SELECT * FROM account_snapshots WHERE uid = ? AND update_time_ms = ?"
ACCOUNT_BALANCES = (
    "SELECT asset, free, locked FROM account_balances WHERE uid = ? AND update_time_ms = ? ORDER BY position"
)
ACCOUNTS = "SELECT * FROM account_snapshots WHERE update_time_ms BETWEEN ? AND ? ORDER BY update_time_ms, uid"
BALANCES = (
    "SELECT update_time_ms, uid, asset, free, locked FROM account_balances "
    "WHERE update_time_ms BETWEEN ? AND ? ORDER BY update_time_ms, uid, position"
)
DELETE_BALANCES = "DELETE FROM account_balances WHERE uid = ? AND update_time_ms = ?"
INSERT_BALANCE = "INSERT INTO account_balances VALUES (?, ?, ?, ?, ?, ?)"

#: Takes (kind, kind, symbol, symbol, interval, interval); a ``None`` pair matches every value.
REJECTIONS = f"""SELECT {REJECTION_COLUMNS} FROM rejections
    WHERE (CAST(? AS TEXT) IS NULL OR kind = ?)
      AND (CAST(? AS TEXT) IS NULL OR symbol = ?)
      AND (CAST(? AS TEXT) IS NULL OR "interval" = ?)
    ORDER BY kind, symbol, "interval", reason"""  # noqa: S608
UPSERT_REJECTION = f"""INSERT INTO rejections ({REJECTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (kind, symbol, "interval", reason) DO UPDATE SET
        count = rejections.count + excluded.count,
        last_seen_ms = CASE WHEN excluded.last_seen_ms > rejections.last_seen_ms
                            THEN excluded.last_seen_ms ELSE rejections.last_seen_ms END,
        last_message = excluded.last_message"""  # noqa: S608


def value_columns(columns: str, keys: str) -> list[str]:
    """The names in ``columns`` (comma-separated) that are not in ``keys``: what an upsert may change."""
    key_names = {k.strip() for k in keys.split(",")}
    return [name for name in (c.strip() for c in columns.split(",")) if name not in key_names]
