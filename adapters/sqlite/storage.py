"""The embedded default store: one SQLite file in WAL mode, written by one thread, read by others.

sqlite3 blocks, so nothing runs on the event loop: a single writer thread owns the write connection and
runs every batch as one ``BEGIN IMMEDIATE`` transaction (other processes wait up to the busy timeout for
the lock), while reads go to a small pool of threads with their own connections. Under WAL a reader sees
the last committed state and never waits for the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from adapters.sqlite import _reads, _writes
from adapters.sqlite._errors import translated
from adapters.sqlite._schema import migrate
from domain import (
    STORAGE_POLICY,
    AccountInfo,
    DataKind,
    Interval,
    InvalidInputError,
    Kline,
    KlineCoverage,
    PriceQuote,
    RejectionCount,
    SaveResult,
    StorageError,
    Symbol,
    Ticker24h,
)
from domain.storage import validate_accounts, validate_klines, validate_quotes, validate_tickers
from domain.validators import MissingRange, Reason, ValidationPolicy
from ports.storage import DEFAULT_CHUNK_SIZE, MarketDataStore

__all__ = ["SqliteMarketDataStore"]

_R = TypeVar("_R")


class SqliteMarketDataStore(MarketDataStore):
    """``MarketDataStore`` on an SQLite file. Build it with ``await SqliteMarketDataStore.open(path)``."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5_000,
        readers: int = 2,
        policy: ValidationPolicy = STORAGE_POLICY,
    ) -> None:
        self._path = Path(path).expanduser()
        self._busy_timeout_ms = busy_timeout_ms
        self._policy = policy
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._write_conn: sqlite3.Connection | None = None
        self._read_conns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._series: _reads.SeriesIds = {}
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5_000,
        readers: int = 2,
        policy: ValidationPolicy = STORAGE_POLICY,
    ) -> Self:
        """Create the file and its folder if needed, switch to WAL and migrate the schema to the latest."""
        store = cls(path, busy_timeout_ms=busy_timeout_ms, readers=readers, policy=policy)
        try:
            await store._run(store._writer, store._open_writer)
        except BaseException:
            await store.aclose()
            raise
        return store

    @property
    def location(self) -> str:
        return str(self._path)

    # ------------------------------------------------------------------------------------------ plumbing

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        return conn

    def _open_writer(self) -> None:
        with translated(self.location, "opening the database"):
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = (
                    f"cannot create the folder {self._path.parent} ({exc.strerror}); "
                    "choose another database file with --db or BINANCE_GATEWAY_DB"
                )
                raise StorageError(msg, location=self.location) from exc
            conn = self._connect()
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    msg = (
                        f"{self.location} cannot use write-ahead logging (journal mode stays {mode}); "
                        "put the database on a local disk"
                    )
                    raise StorageError(msg, location=self.location)
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn, self.location)
            except BaseException:
                conn.close()
                raise
            self._write_conn = conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._read_conns.append(conn)
        return conn

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., _R], *args: object) -> _R:
        if self._closed:
            msg = f"the store on {self.location} is closed"
            raise StorageError(msg, location=self.location)
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def _in_transaction(self, action: str, work: Callable[[sqlite3.Connection], _R]) -> _R:
        """Run ``work`` in one write transaction on the writer thread: all of it is stored, or none."""
        conn = self._write_conn
        if conn is None:
            msg = f"the store on {self.location} is not open"
            raise StorageError(msg, location=self.location)
        with translated(self.location, action):
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return result

    def _read(self, action: str, work: Callable[[sqlite3.Connection], _R]) -> _R:
        with translated(self.location, action):
            return work(self._reader())

    # ------------------------------------------------------------------------------------------ klines

    async def save_klines(self, klines: Sequence[Kline], *, now_ms: int) -> SaveResult:
        return await self._run(self._writer, self._save_klines, klines, now_ms)

    def _save_klines(self, klines: Sequence[Kline], now_ms: int) -> SaveResult:
        batch = validate_klines(klines, now_ms, self._policy)

        def work(conn: sqlite3.Connection) -> tuple[int, int, _reads.SeriesIds]:
            stored, updated, created = _writes.write_klines(conn, batch.accepted, self._series)
            _writes.write_rejections(conn, batch.rejections)
            return stored, updated, created

        stored, updated, created = self._in_transaction("saving candles", work)
        self._series.update(created)  # only now: a rolled-back series id must not be remembered
        return batch.result(stored, updated)

    async def load_klines(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Kline]:
        return await self._run(self._readers, self._load_klines, symbol, interval, start_ms, end_ms, -1)

    def _load_klines(
        self, symbol: Symbol, interval: Interval, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[Kline]:
        def work(conn: sqlite3.Connection) -> list[Kline]:
            sid = _reads.series_id(conn, symbol, interval, self._series)
            if sid is None:
                return []
            lo = _reads.MIN_MS if start_ms is None else start_ms
            hi = _reads.MAX_MS if end_ms is None else end_ms
            return _reads.read_klines(conn, sid, symbol, interval, lo, hi, limit)

        return self._read("reading candles", work)

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
            chunk = await self._run(
                self._readers, self._load_klines, symbol, interval, cursor, end_ms, chunk_size
            )
            if chunk:
                yield chunk
            if len(chunk) < chunk_size:
                return
            cursor = chunk[-1].open_time_ms + 1

    async def kline_coverage(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> KlineCoverage:
        def work(conn: sqlite3.Connection) -> KlineCoverage:
            sid = _reads.series_id(conn, symbol, interval, self._series)
            return _reads.read_coverage(conn, sid, symbol, interval, start_ms, end_ms)

        return await self._run(self._readers, self._read, "reading coverage", work)

    async def missing_ranges(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> list[MissingRange]:
        return list((await self.kline_coverage(symbol, interval, start_ms, end_ms)).gaps)

    # ------------------------------------------------------------------------------------------ the rest

    async def save_price_ticks(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> SaveResult:
        def save() -> SaveResult:
            batch = validate_quotes(quotes, now_ms, self._policy)
            stored, updated = self._in_transaction(
                "saving prices",
                lambda conn: _save(conn, _writes.write_quotes, batch.accepted, batch.rejections),
            )
            return batch.result(stored, updated)

        return await self._run(self._writer, save)

    async def load_price_ticks(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[PriceQuote]:
        lo, hi = _bounds(start_ms, end_ms)
        return await self._run(
            self._readers, self._read, "reading prices", lambda c: _reads.read_quotes(c, symbol, lo, hi)
        )

    async def save_tickers_24h(self, tickers: Sequence[Ticker24h], *, now_ms: int) -> SaveResult:
        def save() -> SaveResult:
            batch = validate_tickers(tickers, now_ms, self._policy)
            stored, updated = self._in_transaction(
                "saving 24h statistics",
                lambda conn: _save(conn, _writes.write_tickers, batch.accepted, batch.rejections),
            )
            return batch.result(stored, updated)

        return await self._run(self._writer, save)

    async def load_tickers_24h(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Ticker24h]:
        lo, hi = _bounds(start_ms, end_ms)
        return await self._run(
            self._readers,
            self._read,
            "reading 24h statistics",
            lambda c: _reads.read_tickers(c, symbol, lo, hi),
        )

    async def save_account_snapshots(self, accounts: Sequence[AccountInfo], *, now_ms: int) -> SaveResult:
        def save() -> SaveResult:
            batch = validate_accounts(accounts, now_ms)
            stored, updated = self._in_transaction(
                "saving account snapshots",
                lambda conn: _save(conn, _writes.write_accounts, batch.accepted, batch.rejections),
            )
            return batch.result(stored, updated)

        return await self._run(self._writer, save)

    async def load_account_snapshots(
        self, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AccountInfo]:
        lo, hi = _bounds(start_ms, end_ms)
        return await self._run(
            self._readers, self._read, "reading account snapshots", lambda c: _reads.read_accounts(c, lo, hi)
        )

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
        await self._run(
            self._writer,
            self._in_transaction,
            "recording rejected rows",
            lambda conn: _writes.write_rejections(conn, rows),
        )

    async def rejection_counts(
        self, kind: DataKind | None = None, symbol: Symbol | None = None, interval: Interval | None = None
    ) -> list[RejectionCount]:
        return await self._run(
            self._readers,
            self._read,
            "reading rejection counts",
            lambda c: _reads.read_rejections(c, kind, symbol, interval),
        )

    # ------------------------------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)  # queued batches are written first
        self._readers.shutdown(wait=True)
        with self._lock:
            connections = [*self._read_conns, *([self._write_conn] if self._write_conn else [])]
            self._read_conns.clear()
            self._write_conn = None
        for conn in connections:
            conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _bounds(start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    return (_reads.MIN_MS if start_ms is None else start_ms, _reads.MAX_MS if end_ms is None else end_ms)


def _save(
    conn: sqlite3.Connection,
    write: Callable[[sqlite3.Connection, Sequence[_R]], tuple[int, int]],
    accepted: Sequence[_R],
    rejections: Sequence[RejectionCount],
) -> tuple[int, int]:
    counts = write(conn, accepted)
    _writes.write_rejections(conn, rejections)
    return counts
