"""The SQLite schema as an ordered list of forward migrations, and the function that applies them.

Decimals are stored as TEXT, exactly as ``str(Decimal)`` writes them: exact, any scale, no overflow (a
scaled INTEGER would overflow int64 on the volumes of low-priced coins). Times are INTEGER epoch
milliseconds. Candles are keyed by a small integer series id (one per symbol and interval), which keeps the
rows short; the ``klines_by_symbol`` view joins the names back for people reading the file.
"""

from __future__ import annotations

import sqlite3

from adapters._sql.schema import Migration, check_known, pending

__all__ = ["LATEST_VERSION", "MIGRATIONS", "migrate", "schema_version"]

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "candles keyed by series and open time",
        (
            """CREATE TABLE series (
                id INTEGER PRIMARY KEY,
                symbol TEXT NOT NULL,
                interval TEXT NOT NULL,
                UNIQUE (symbol, interval)
            )""",
            """CREATE TABLE klines (
                series_id INTEGER NOT NULL,
                open_time_ms INTEGER NOT NULL,
                close_time_ms INTEGER NOT NULL,
                open TEXT NOT NULL,
                high TEXT NOT NULL,
                low TEXT NOT NULL,
                close TEXT NOT NULL,
                volume TEXT NOT NULL,
                quote_volume TEXT NOT NULL,
                trade_count INTEGER NOT NULL,
                taker_buy_base_volume TEXT NOT NULL,
                taker_buy_quote_volume TEXT NOT NULL,
                ignore TEXT NOT NULL,
                PRIMARY KEY (series_id, open_time_ms)
            ) WITHOUT ROWID""",
            """CREATE VIEW klines_by_symbol AS
                SELECT s.symbol, s.interval, k.*
                FROM klines AS k JOIN series AS s ON s.id = k.series_id""",
        ),
    ),
    Migration(
        2,
        "price ticks, 24h statistics and account snapshots",
        (
            """CREATE TABLE price_ticks (
                symbol TEXT NOT NULL,
                as_of_ms INTEGER NOT NULL,
                price TEXT NOT NULL,
                PRIMARY KEY (symbol, as_of_ms)
            ) WITHOUT ROWID""",
            """CREATE TABLE tickers_24h (
                symbol TEXT NOT NULL,
                close_time_ms INTEGER NOT NULL,
                open_time_ms INTEGER NOT NULL,
                price_change TEXT NOT NULL,
                price_change_percent TEXT NOT NULL,
                weighted_avg_price TEXT NOT NULL,
                prev_close_price TEXT NOT NULL,
                last_price TEXT NOT NULL,
                last_qty TEXT NOT NULL,
                bid_price TEXT NOT NULL,
                bid_qty TEXT NOT NULL,
                ask_price TEXT NOT NULL,
                ask_qty TEXT NOT NULL,
                open_price TEXT NOT NULL,
                high_price TEXT NOT NULL,
                low_price TEXT NOT NULL,
                volume TEXT NOT NULL,
                quote_volume TEXT NOT NULL,
                first_trade_id INTEGER NOT NULL,
                last_trade_id INTEGER NOT NULL,
                trade_count INTEGER NOT NULL,
                PRIMARY KEY (symbol, close_time_ms)
            ) WITHOUT ROWID""",
            # uid -1 stands for an account the exchange reported without a uid.
            """CREATE TABLE account_snapshots (
                uid INTEGER NOT NULL,
                update_time_ms INTEGER NOT NULL,
                account_type TEXT NOT NULL,
                can_trade INTEGER NOT NULL,
                can_withdraw INTEGER NOT NULL,
                can_deposit INTEGER NOT NULL,
                permissions TEXT NOT NULL,
                maker_commission TEXT NOT NULL,
                taker_commission TEXT NOT NULL,
                buyer_commission TEXT NOT NULL,
                seller_commission TEXT NOT NULL,
                PRIMARY KEY (uid, update_time_ms)
            ) WITHOUT ROWID""",
            """CREATE TABLE account_balances (
                uid INTEGER NOT NULL,
                update_time_ms INTEGER NOT NULL,
                position INTEGER NOT NULL,
                asset TEXT NOT NULL,
                free TEXT NOT NULL,
                locked TEXT NOT NULL,
                PRIMARY KEY (uid, update_time_ms, position)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        3,
        "rejected rows counted by reason",
        (
            # symbol and interval are '' where they do not apply (account snapshots, unknown series).
            """CREATE TABLE rejections (
                kind TEXT NOT NULL,
                symbol TEXT NOT NULL,
                interval TEXT NOT NULL,
                reason TEXT NOT NULL,
                count INTEGER NOT NULL,
                last_seen_ms INTEGER NOT NULL,
                last_message TEXT NOT NULL,
                PRIMARY KEY (kind, symbol, interval, reason)
            ) WITHOUT ROWID""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)"""


def schema_version(conn: sqlite3.Connection) -> int:
    """The version of an open database; 0 for an empty one."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, location: str, target: int = LATEST_VERSION) -> int:
    """Bring the database up to ``target`` in one transaction; return the version it had before.

    Raises ``SchemaVersionError`` (and changes nothing) for a database newer than this code knows. Writers
    in other processes wait on the lock, so two processes opening one new file migrate it once.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        check_known(current, MIGRATIONS, location)
        conn.execute(_VERSION_TABLE)
        for migration in pending(current, target, MIGRATIONS):
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                (migration.version, migration.description),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return current
