"""The store for more than one machine: PostgreSQL through psycopg 3, natively async.

One writer connection runs every batch as one transaction (batches of this process queue on a lock);
other processes and machines write at the same time through their own connections, the upserts and the
key-ordered inserts keeping them from clashing. Reads use a few separate connections, each read one
REPEATABLE READ snapshot, so they never wait for a writer and never see half a batch.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self, TypeVar

import psycopg
from psycopg import IsolationLevel
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from adapters._sql.rows import Row
from adapters._sql.store import Found, SqlMarketDataStore, Statement, Validate
from adapters.postgres import _writes
from adapters.postgres._errors import first_line, translated
from adapters.postgres._schema import migrate
from domain import (
    STORAGE_POLICY,
    ConfigurationError,
    DataKind,
    Interval,
    Kline,
    SaveResult,
    StorageError,
    StorageUnavailableError,
    Symbol,
)
from domain.validators import ValidationPolicy

__all__ = ["PostgresMarketDataStore", "redact_url"]

Conn = psycopg.AsyncConnection[TupleRow]
_R = TypeVar("_R")
#: Connection failures that are the server's answer, not its absence.
_REFUSALS = ("authentication failed", "does not exist", "no pg_hba.conf entry", "permission denied")
#: Batches larger than this are validated off the event loop.
_VALIDATE_INLINE = 2_000


def redact_url(url: str) -> str:
    """The URL as safe to print: user, host, port and database, never the password or other options.

    Raises ``ConfigurationError`` for text that is not a PostgreSQL connection URL (without echoing it).
    """
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        msg = (
            "the database URL is not a valid PostgreSQL URL; "
            "write it as postgresql://user:password@host:5432/database"
        )
        raise ConfigurationError(msg) from None
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "")
    port = f":{parts['port']}" if parts.get("port") else ""
    if host.startswith("/"):  # a unix socket folder
        return f"postgresql://{user}/{parts.get('dbname', '')}?host={host}{port and f'&port={port[1:]}'}"
    return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"


class PostgresMarketDataStore(SqlMarketDataStore):
    """``MarketDataStore`` on PostgreSQL. Build it with ``await PostgresMarketDataStore.open(url)``."""

    _codec = _writes.CODEC

    def __init__(
        self,
        url: str,
        *,
        readers: int = 2,
        connect_timeout_s: int = 10,
        policy: ValidationPolicy = STORAGE_POLICY,
    ) -> None:
        super().__init__(policy)
        self._location = redact_url(url)
        self._url = url
        self._connect_timeout_s = connect_timeout_s
        self._writer: Conn | None = None
        self._write_lock = asyncio.Lock()
        self._read_slots = asyncio.Semaphore(readers)
        self._idle_readers: list[Conn] = []

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        readers: int = 2,
        connect_timeout_s: int = 10,
        policy: ValidationPolicy = STORAGE_POLICY,
    ) -> Self:
        """Connect, migrate the schema to the latest version (under an advisory lock) and get ready."""
        return await cls(url, readers=readers, connect_timeout_s=connect_timeout_s, policy=policy)._opened()

    @property
    def location(self) -> str:
        return self._location

    # ------------------------------------------------------------------------------------------ plumbing

    async def _prepare(self) -> None:
        conn = await self._connect()
        try:
            with translated(self.location, "migrating the schema"):
                await migrate(conn, self.location)
        finally:
            await conn.close()
        await self._writer_connection()

    async def _connect(self) -> Conn:
        try:
            return await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=self._connect_timeout_s
            )
        except psycopg.OperationalError as exc:
            msg = f"cannot connect to {self.location}: {first_line(exc)}"
            if any(refusal in msg for refusal in _REFUSALS):  # retrying cannot help
                raise StorageError(msg, location=self.location) from exc
            raise StorageUnavailableError(msg, location=self.location) from exc
        except psycopg.Error as exc:
            msg = f"cannot connect to {self.location}: {first_line(exc)}"
            raise StorageError(msg, location=self.location) from exc

    async def _writer_connection(self) -> Conn:
        """The writer connection, reconnected if the last one was lost."""
        if self._writer is None or self._writer.closed:
            conn = await self._connect()
            with translated(self.location, "preparing the staging tables"):
                for statement in _writes.STAGING_TABLES:
                    await conn.execute(statement)
            self._writer = conn
        return self._writer

    async def _transaction(self, action: str, work: Callable[[Conn], Awaitable[_R]]) -> _R:
        """Run ``work`` in one transaction on the writer connection: all of it is stored, or none."""
        self._check_open()
        async with self._write_lock:
            conn = await self._writer_connection()
            try:
                with translated(self.location, action):
                    async with conn.transaction():
                        result = await work(conn)
            except BaseException:
                self._series.rollback()
                # A cancelled or failed transaction may leave the session mid-protocol; start afresh.
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.close()
                raise
            self._series.commit()
            return result

    @asynccontextmanager
    async def _reader(self, action: str) -> AsyncIterator[Conn]:
        self._check_open()
        async with self._read_slots:
            conn = self._idle_readers.pop() if self._idle_readers else None
            if conn is None or conn.closed:
                conn = await self._connect()
                await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
                await conn.set_read_only(True)
            try:
                with translated(self.location, action):
                    async with conn.transaction():
                        yield conn
            finally:
                if conn.closed or conn.broken or self._closed:
                    await conn.close()
                else:
                    self._idle_readers.append(conn)

    def _klines_from_rows(self, symbol: Symbol, interval: Interval, rows: Sequence[Row]) -> list[Kline]:
        # psycopg gives NUMERIC as Decimal already: each row is the candle's fields as they are.
        return [Kline(symbol, interval, *row) for row in rows]

    async def _read(self, action: str, statements: Sequence[Statement], build: Callable[[Found], _R]) -> _R:
        async with self._reader(action) as conn:
            found: Found = []
            for sql, params in statements:
                cur = await conn.execute(_writes.pyformat(sql), params)
                found.append(await cur.fetchall())
        return build(found)

    async def _save(self, action: str, kind: DataKind, rows: Sequence[Any], validate: Validate) -> SaveResult:
        self._check_open()
        if len(rows) > _VALIDATE_INLINE:
            batch = await asyncio.to_thread(validate, rows)
        else:
            batch = validate(rows)
        work = functools.partial(_writes.write_batch, kind=kind, batch=batch, series=self._series)
        stored, updated = await self._transaction(action, work)
        return batch.result(stored, updated)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:  # a batch in flight is committed first
            connections = [*self._idle_readers, *([self._writer] if self._writer else [])]
            self._idle_readers.clear()
            self._writer = None
            for conn in connections:
                await conn.close()
