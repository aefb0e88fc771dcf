"""The store for more than one machine: PostgreSQL through psycopg 3, natively async.

One writer connection runs every batch as one transaction (batches of this process queue on a lock);
other processes and machines write at the same time through their own connections, the upserts and the
key-ordered inserts keeping them from clashing. Reads use a few separate connections, each read one
REPEATABLE READ snapshot, so they never wait for a writer and never see half a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self, TypeVar

import psycopg
from psycopg import IsolationLevel
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from adapters.postgres import _reads, _writes
from adapters.postgres._errors import first_line, translated
from adapters.postgres._schema import migrate
from domain import (
    STORAGE_POLICY,
    AccountInfo,
    ConfigurationError,
    DataKind,
    Interval,
    InvalidInputError,
    Kline,
    KlineCoverage,
    PriceQuote,
    RejectionCount,
    SaveResult,
    StorageError,
    StorageUnavailableError,
    Symbol,
    Ticker24h,
)
from domain.storage import validate_accounts, validate_klines, validate_quotes, validate_tickers
from domain.validators import MissingRange, Reason, ValidationPolicy
from ports.storage import DEFAULT_CHUNK_SIZE, MarketDataStore

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


class PostgresMarketDataStore(MarketDataStore):
    """``MarketDataStore`` on PostgreSQL. Build it with ``await PostgresMarketDataStore.open(url)``."""

    def __init__(
        self,
        url: str,
        *,
        readers: int = 2,
        connect_timeout_s: int = 10,
        policy: ValidationPolicy = STORAGE_POLICY,
    ) -> None:
        self._location = redact_url(url)
        self._url = url
        self._connect_timeout_s = connect_timeout_s
        self._policy = policy
        self._writer: Conn | None = None
        self._write_lock = asyncio.Lock()
        self._read_slots = asyncio.Semaphore(readers)
        self._idle_readers: list[Conn] = []
        self._series: _reads.SeriesIds = {}
        self._closed = False

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
        store = cls(url, readers=readers, connect_timeout_s=connect_timeout_s, policy=policy)
        try:
            conn = await store._connect()
            try:
                with translated(store.location, "migrating the schema"):
                    await migrate(conn, store.location)
            finally:
                await conn.close()
            await store._writer_connection()
        except BaseException:
            await store.aclose()
            raise
        return store

    @property
    def location(self) -> str:
        return self._location

    # ------------------------------------------------------------------------------------------ plumbing

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

    def _check_open(self) -> None:
        if self._closed:
            msg = f"the store on {self.location} is closed"
            raise StorageError(msg, location=self.location)

    async def _writer_connection(self) -> Conn:
        """The writer connection, reconnected if the last one was lost."""
        if self._writer is None or self._writer.closed:
            conn = await self._connect()
            with translated(self.location, "preparing the staging tables"):
                for statement in _writes.STAGING_TABLES:
                    await conn.execute(statement)
            self._writer = conn
        return self._writer

    async def _write(self, action: str, work: Callable[[Conn], Awaitable[_R]]) -> _R:
        """Run ``work`` in one transaction on the writer connection: all of it is stored, or none."""
        self._check_open()
        async with self._write_lock:
            conn = await self._writer_connection()
            try:
                with translated(self.location, action):
                    async with conn.transaction():
                        return await work(conn)
            except BaseException:
                # A cancelled or failed transaction may leave the session mid-protocol; start afresh.
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.close()
                raise

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

    async def _read(self, action: str, work: Callable[[Conn], Awaitable[_R]]) -> _R:
        async with self._reader(action) as conn:
            return await work(conn)

    # ------------------------------------------------------------------------------------------ klines

    async def save_klines(self, klines: Sequence[Kline], *, now_ms: int) -> SaveResult:
        if len(klines) > _VALIDATE_INLINE:
            batch = await asyncio.to_thread(validate_klines, klines, now_ms, self._policy)
        else:
            batch = validate_klines(klines, now_ms, self._policy)

        async def work(conn: Conn) -> tuple[int, int, _reads.SeriesIds]:
            written = await _writes.write_klines(conn, batch.accepted, self._series)
            await _writes.write_rejections(conn, batch.rejections)
            return written

        stored, updated, created = await self._write("saving candles", work)
        self._series.update(created)  # only now: a rolled-back series id must not be remembered
        return batch.result(stored, updated)

    async def _load(
        self, symbol: Symbol, interval: Interval, start_ms: int | None, end_ms: int | None, limit: int | None
    ) -> list[Kline]:
        async def work(conn: Conn) -> list[Kline]:
            sid = await _reads.series_id(conn, symbol, interval, self._series)
            if sid is None:
                return []
            lo, hi = _bounds(start_ms, end_ms)
            return await _reads.read_klines(conn, sid, symbol, interval, lo, hi, limit)

        return await self._read("reading candles", work)

    async def load_klines(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Kline]:
        return await self._load(symbol, interval, start_ms, end_ms, None)

    async def iter_klines(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[list[Kline]]:
        if chunk_size < 1:
            msg = f"chunk_size must be at least 1, not {chunk_size}"
            raise InvalidInputError(msg)
        cursor = start_ms
        while True:
            chunk = await self._load(symbol, interval, cursor, end_ms, chunk_size)
            if chunk:
                yield chunk
            if len(chunk) < chunk_size:
                return
            cursor = chunk[-1].open_time_ms + 1

    async def kline_coverage(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> KlineCoverage:
        async def work(conn: Conn) -> KlineCoverage:
            sid = await _reads.series_id(conn, symbol, interval, self._series)
            return await _reads.read_coverage(conn, sid, symbol, interval, start_ms, end_ms)

        return await self._read("reading coverage", work)

    async def missing_ranges(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> list[MissingRange]:
        return list((await self.kline_coverage(symbol, interval, start_ms, end_ms)).gaps)

    # ------------------------------------------------------------------------------------------ the rest

    async def save_price_ticks(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> SaveResult:
        batch = validate_quotes(quotes, now_ms, self._policy)
        stored, updated = await self._write(
            "saving prices", lambda c: _save(c, _writes.write_quotes(c, batch.accepted), batch.rejections)
        )
        return batch.result(stored, updated)

    async def load_price_ticks(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[PriceQuote]:
        lo, hi = _bounds(start_ms, end_ms)
        return await self._read("reading prices", lambda c: _reads.read_quotes(c, symbol, lo, hi))

    async def save_tickers_24h(self, tickers: Sequence[Ticker24h], *, now_ms: int) -> SaveResult:
        batch = validate_tickers(tickers, now_ms, self._policy)
        stored, updated = await self._write(
            "saving 24h statistics",
            lambda c: _save(c, _writes.write_tickers(c, batch.accepted), batch.rejections),
        )
        return batch.result(stored, updated)

    async def load_tickers_24h(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Ticker24h]:
        lo, hi = _bounds(start_ms, end_ms)
        return await self._read("reading 24h statistics", lambda c: _reads.read_tickers(c, symbol, lo, hi))

    async def save_account_snapshots(self, accounts: Sequence[AccountInfo], *, now_ms: int) -> SaveResult:
        batch = validate_accounts(accounts, now_ms)
        stored, updated = await self._write(
            "saving account snapshots",
            lambda c: _save(c, _writes.write_accounts(c, batch.accepted), batch.rejections),
        )
        return batch.result(stored, updated)

    async def load_account_snapshots(
        self, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AccountInfo]:
        lo, hi = _bounds(start_ms, end_ms)
        return await self._read("reading account snapshots", lambda c: _reads.read_accounts(c, lo, hi))

    async def record_rejections(
        self,
        kind: DataKind,
        counts: Mapping[Reason, int],
        *,
        now_ms: int,
        symbol: Symbol | None = None,
        interval: Interval | None = None,
        message: str = "",
    ) -> None:
        rows = [
            RejectionCount(kind, symbol, interval, reason, count, now_ms, message)
            for reason, count in counts.items()
            if count > 0
        ]
        await self._write("recording rejected rows", lambda c: _writes.write_rejections(c, rows))

    async def rejection_counts(
        self, kind: DataKind | None = None, symbol: Symbol | None = None, interval: Interval | None = None
    ) -> list[RejectionCount]:
        return await self._read(
            "reading rejection counts", lambda c: _reads.read_rejections(c, kind, symbol, interval)
        )

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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _bounds(start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    return (_reads.MIN_MS if start_ms is None else start_ms, _reads.MAX_MS if end_ms is None else end_ms)


async def _save(
    conn: Conn, written: Awaitable[tuple[int, int]], rejections: Sequence[RejectionCount]
) -> tuple[int, int]:
    counts = await written
    await _writes.write_rejections(conn, rejections)
    return counts
