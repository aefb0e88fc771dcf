"""The market-data store port: validated candles, prices, 24h statistics and account snapshots that last."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Protocol

from domain import (
    AccountInfo,
    DataKind,
    Interval,
    Kline,
    KlineCoverage,
    PriceQuote,
    RejectionCount,
    SaveResult,
    Symbol,
    Ticker24h,
)
from domain.validators import MissingRange, Reason

__all__ = ["DEFAULT_CHUNK_SIZE", "MarketDataStore"]

#: Candles per chunk of ``iter_klines``: small enough to keep memory flat, large enough to amortise a query.
DEFAULT_CHUNK_SIZE = 10_000


class MarketDataStore(Protocol):
    """Durable market data. Every method except ``location`` is a coroutine.

    Guarantees: only rows that pass ``domain.validators`` are stored; rejected rows are counted by
    ``Reason`` (in the returned ``SaveResult`` and in the store, see ``rejection_counts``), never silently
    dropped; a candle whose close time is not before ``now_ms`` is never stored; every ``save_*`` call is
    one transaction, so a failure stores none of its rows; saving is an idempotent upsert keyed by
    (symbol, interval, open time) for candles, (symbol, time) for prices and 24h statistics and
    (uid, update time) for account snapshots, the later write winning; readers see only committed batches
    and are not blocked by a writer. Time ranges are inclusive open times in epoch milliseconds; ``None``
    leaves that end open.

    Errors (all from ``domain.errors``), common to every method:

    - ``StorageUnavailableError`` (retryable): the database is locked past the busy timeout, the server
      is unreachable or the connection was lost; the batch being written was not stored.
    - ``StorageError``: any other failure of the database (unwritable file, failed write); nothing of the
      batch was stored.

    Opening a store (each adapter's ``open``) also raises ``ConfigurationError`` for a malformed URL,
    ``StorageError`` for a file or folder that cannot be used, ``StorageUnavailableError`` for a server
    that cannot be reached and ``SchemaVersionError`` for a database written by a newer binance-gateway.
    """

    @property
    def location(self) -> str:
        """Where the data lives: a file path, or a URL without its password. Safe to print."""
        ...

    async def save_klines(self, klines: Sequence[Kline], *, now_ms: int) -> SaveResult:
        """Validate with ``check_kline`` at ``now_ms`` (exchange time) and upsert the closed candles.

        Candles still open at ``now_ms`` are counted as ``not_closed`` and not stored. The batch may mix
        series and order; repeats of a key within it keep the last.
        """
        ...

    async def load_klines(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Kline]:
        """Stored candles of one series opening in ``[start_ms, end_ms]``, oldest first."""
        ...

    def iter_klines(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[list[Kline]]:
        """Like ``load_klines`` in chunks of at most ``chunk_size`` candles, so a year never sits in memory.

        Each chunk is read in its own short transaction; a write that lands between chunks may show up in
        a later chunk, never twice.
        """
        ...

    async def kline_coverage(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> KlineCoverage:
        """Count, first and last open time of the stored candles in the range, and the gaps."""
        ...

    async def missing_ranges(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> list[MissingRange]:
        """Every run of candles opening in ``[start_ms, end_ms]`` that is not stored: the backfill plan."""
        ...

    async def save_price_ticks(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> SaveResult:
        """Validate with ``check_quote`` (no staleness bound: history is kept) and upsert."""
        ...

    async def load_price_ticks(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[PriceQuote]:
        """Stored prices of one symbol with ``as_of_ms`` in the range, oldest first."""
        ...

    async def save_tickers_24h(self, tickers: Sequence[Ticker24h], *, now_ms: int) -> SaveResult:
        """Validate with ``check_ticker`` (no staleness bound) and upsert, keyed by close time."""
        ...

    async def load_tickers_24h(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Ticker24h]:
        """Stored 24h statistics of one symbol with ``close_time_ms`` in the range, oldest first."""
        ...

    async def save_account_snapshots(self, accounts: Sequence[AccountInfo], *, now_ms: int) -> SaveResult:
        """Validate every balance with ``check_balance`` and upsert; a bad balance rejects the snapshot."""
        ...

    async def load_account_snapshots(
        self, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AccountInfo]:
        """Stored snapshots with ``update_time_ms`` in the range, oldest first, balances as saved."""
        ...

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
        """Add rows rejected before they reached the store (e.g. unparseable) to the kept counts."""
        ...

    async def rejection_counts(
        self,
        kind: DataKind | None = None,
        symbol: Symbol | None = None,
        interval: Interval | None = None,
    ) -> list[RejectionCount]:
        """Rejected rows counted by kind, series and reason since the database was created."""
        ...

    async def aclose(self) -> None:
        """Finish pending work and release files and connections; calling it twice is harmless."""
        ...
