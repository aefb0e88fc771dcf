"""The embedded default store: one SQLite file in WAL mode, written by one thread, read by others.

sqlite3 blocks, so by default no database call runs on the event loop: a single writer thread owns the write
connection and runs every batch as one ``BEGIN IMMEDIATE`` transaction (other processes wait up to the busy
timeout for the lock), while reads go to a small pool of threads with their own connections, which also
turn the rows into domain objects. Under WAL a reader sees the last committed state and never waits for the
writer. What is not SQLite's own (validation, ranges, results) is ``adapters._sql``'s.

``write_on_loop=True`` runs the writes on the event loop's own thread instead, for a bulk job that has
nothing else on its loop (the ``backfill`` command): the loop then waits out each write (about 2.5 ms for a
page of 1,000 candles; up to the busy timeout while another process holds the write lock), and in exchange
the writes and the loop's own work never run on two threads at once, which costs less CPU and, on a machine
of few cores, less time as well (docs/benchmarks.md). Writes stay one at a time either way: the loop runs
one thing at a time.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self, TypeVar

from adapters._sql.store import Found, SqlMarketDataStore, Statement, Validate
from adapters.sqlite import _writes
from adapters.sqlite._errors import translated
from adapters.sqlite._rows import CODEC
from adapters.sqlite._schema import migrate
from domain import STORAGE_POLICY, DataKind, SaveResult, StorageError
from domain.validators import ValidationPolicy

__all__ = ["SqliteMarketDataStore"]

_R = TypeVar("_R")


class SqliteMarketDataStore(SqlMarketDataStore):
    """``MarketDataStore`` on an SQLite file. Build it with ``await SqliteMarketDataStore.open(path)``."""

    _codec = CODEC

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5_000,
        readers: int = 2,
        policy: ValidationPolicy = STORAGE_POLICY,
        write_on_loop: bool = False,
    ) -> None:
        super().__init__(policy)
        self._write_on_loop = write_on_loop
        self._path = Path(path).expanduser()
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._write_conn: sqlite3.Connection | None = None
        self._read_conns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5_000,
        readers: int = 2,
        policy: ValidationPolicy = STORAGE_POLICY,
        write_on_loop: bool = False,
    ) -> Self:
        """Create the file and its folder if needed, switch to WAL and migrate the schema to the latest.
        ``write_on_loop``: see the module docstring."""
        store = cls(
            path, busy_timeout_ms=busy_timeout_ms, readers=readers, policy=policy, write_on_loop=write_on_loop
        )
        return await store._opened()

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

    async def _prepare(self) -> None:
        await self._run(self._writer, self._open_writer)

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
        self._check_open()
        if pool is self._writer and self._write_on_loop:
            return fn(*args)
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
                self._series.rollback()
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._series.commit()
        return result

    async def _read(self, action: str, statements: Sequence[Statement], build: Callable[[Found], _R]) -> _R:
        return await self._run(self._readers, self._read_now, action, statements, build)

    def _read_now(self, action: str, statements: Sequence[Statement], build: Callable[[Found], _R]) -> _R:
        with translated(self.location, action):
            conn = self._reader()
            found: Found
            if len(statements) == 1:
                found = [conn.execute(*statements[0]).fetchall()]
            else:
                conn.execute("BEGIN")  # one snapshot for all of them
                try:
                    found = [conn.execute(sql, params).fetchall() for sql, params in statements]
                finally:
                    conn.execute("COMMIT")
        return build(found)

    async def _save(self, action: str, kind: DataKind, rows: Sequence[Any], validate: Validate) -> SaveResult:
        return await self._run(self._writer, self._save_now, action, kind, rows, validate)

    def _save_now(self, action: str, kind: DataKind, rows: Sequence[Any], validate: Validate) -> SaveResult:
        batch = validate(rows)  # here, on the writer thread: never on the event loop
        work = functools.partial(_writes.write_batch, kind=kind, batch=batch, series=self._series)
        stored, updated = self._in_transaction(action, work)
        return batch.result(stored, updated)

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
