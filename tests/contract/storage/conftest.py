"""Backends for the storage contract suite: every test runs on SQLite and on a throwaway PostgreSQL server.

A ``Backend`` opens stores on a fresh database and reaches behind the store with a raw connection of its
own, for what a contract test must arrange from outside: an older schema, a newer one, a write left
uncommitted, a fault injected into the database in the middle of a batch.
"""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.postgres import PostgresMarketDataStore
from adapters.postgres import _schema as pg_schema
from adapters.sqlite import SqliteMarketDataStore
from adapters.sqlite import _schema as sqlite_schema
from ports.storage import MarketDataStore
from tests.contract.storage._pg_server import PostgresServer

#: Tables holding data; ``reset`` empties them between hypothesis examples (series ids stay valid).
DATA_TABLES = ("klines", "price_ticks", "tickers_24h", "account_snapshots", "account_balances", "rejections")


class Backend(abc.ABC):
    name: str

    @abc.abstractmethod
    async def open(self, **options: Any) -> MarketDataStore: ...

    @abc.abstractmethod
    async def create_at_version(self, version: int) -> None:
        """Create the schema of an older release: migrations up to ``version`` only."""

    @abc.abstractmethod
    def set_schema_version(self, version: int) -> None:
        """Pretend a newer release wrote the database."""

    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def fail_inserts_at(self, open_time_ms: int) -> None:
        """Make the database refuse any candle opening at ``open_time_ms``, as a constraint would."""

    @abc.abstractmethod
    def insert_raw_candles(self, symbol: str, interval: str, open_times_ms: list[int]) -> None:
        """Candles written straight into the version-1 tables (every value 1), committed."""

    @abc.abstractmethod
    def hold_uncommitted_candle(self, symbol: str, interval: str, open_time_ms: int) -> Any:
        """A context manager: a candle inserted in a transaction that stays open until it exits."""

    @abc.abstractmethod
    def reset(self) -> None: ...


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, path: Path, *, write_on_loop: bool = False) -> None:
        self.path = path
        self.write_on_loop = write_on_loop

    async def open(self, **options: Any) -> MarketDataStore:
        options = {"write_on_loop": self.write_on_loop} | options
        return await SqliteMarketDataStore.open(self.path, **options)

    @contextmanager
    def _raw(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    async def create_at_version(self, version: int) -> None:
        with self._raw() as conn:
            sqlite_schema.migrate(conn, str(self.path), target=version)

    def set_schema_version(self, version: int) -> None:
        with self._raw() as conn:
            conn.execute("INSERT INTO schema_version (version, description) VALUES (?, 'future')", (version,))

    def schema_version(self) -> int:
        with self._raw() as conn:
            return sqlite_schema.schema_version(conn)

    def fail_inserts_at(self, open_time_ms: int) -> None:
        with self._raw() as conn:
            conn.execute(
                f"""CREATE TRIGGER injected_fault BEFORE INSERT ON klines
                    WHEN NEW.open_time_ms = {int(open_time_ms)}
                    BEGIN SELECT RAISE(ABORT, 'injected fault'); END"""
            )

    def insert_raw_candles(self, symbol: str, interval: str, open_times_ms: list[int]) -> None:
        with self._raw() as conn:
            conn.execute("INSERT INTO series (symbol, interval) VALUES (?, ?)", (symbol, interval))
            conn.executemany(
                "INSERT INTO klines SELECT id, ?, ?, '1', '1', '1', '1', '1', '1', 1, '1', '1', '0' "
                "FROM series WHERE symbol = ? AND interval = ?",
                [(ms, ms + 59_999, symbol, interval) for ms in open_times_ms],
            )

    @contextmanager
    def hold_uncommitted_candle(self, symbol: str, interval: str, open_time_ms: int) -> Iterator[None]:
        with self._raw() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO klines SELECT id, ?, ?, '1', '1', '1', '1', '1', '1', 1, '1', '1', '0' "
                "FROM series WHERE symbol = ? AND interval = ?",
                (open_time_ms, open_time_ms + 59_999, symbol, interval),
            )
            try:
                yield
            finally:
                conn.execute("ROLLBACK")

    def reset(self) -> None:
        with self._raw() as conn:
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self, **options: Any) -> MarketDataStore:
        return await PostgresMarketDataStore.open(self.url, **options)

    @contextmanager
    def _raw(self) -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            yield conn

    def drop_everything(self) -> None:
        with self._raw() as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")

    async def create_at_version(self, version: int) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await pg_schema.migrate(conn, self.url, target=version)

    def set_schema_version(self, version: int) -> None:
        with self._raw() as conn:
            conn.execute(
                "INSERT INTO schema_version (version, description) VALUES (%s, 'future')", (version,)
            )

    def schema_version(self) -> int:
        with self._raw() as conn:
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            return int(row[0]) if row else 0

    def fail_inserts_at(self, open_time_ms: int) -> None:
        with self._raw() as conn:
            conn.execute(
                """CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"""
            )
            conn.execute(
                f"""CREATE TRIGGER injected_fault BEFORE INSERT ON klines FOR EACH ROW
                    WHEN (NEW.open_time_ms = {int(open_time_ms)}) EXECUTE FUNCTION injected_fault()"""
            )

    def insert_raw_candles(self, symbol: str, interval: str, open_times_ms: list[int]) -> None:
        with self._raw() as conn:
            conn.execute('INSERT INTO series (symbol, "interval") VALUES (%s, %s)', (symbol, interval))
            conn.cursor().executemany(
                "INSERT INTO klines SELECT id, %s, %s, 1, 1, 1, 1, 1, 1, 1, 1, 1, '0' "
                'FROM series WHERE symbol = %s AND "interval" = %s',
                [(ms, ms + 59_999, symbol, interval) for ms in open_times_ms],
            )

    @contextmanager
    def hold_uncommitted_candle(self, symbol: str, interval: str, open_time_ms: int) -> Iterator[None]:
        with psycopg.connect(self.url) as conn:  # not autocommit: the insert stays in an open transaction
            conn.execute(
                "INSERT INTO klines SELECT id, %s, %s, 1, 1, 1, 1, 1, 1, 1, 1, 1, '0' "
                'FROM series WHERE symbol = %s AND "interval" = %s',
                (open_time_ms, open_time_ms + 59_999, symbol, interval),
            )
            try:
                yield
            finally:
                conn.rollback()

    def reset(self) -> None:
        with self._raw() as conn:
            conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)}")


# "sqlite-on-loop": the same store writing on the event loop's thread, as the backfill command opens it.
@pytest.fixture(params=["sqlite", "sqlite-on-loop", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param.startswith("sqlite"):
        on_loop = request.param == "sqlite-on-loop"
        return SqliteBackend(tmp_path / "market-data.sqlite3", write_on_loop=on_loop)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    postgres = PostgresBackend(server.url)
    postgres.drop_everything()
    return postgres


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[MarketDataStore]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.aclose()
