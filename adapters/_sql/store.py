"""The ``MarketDataStore`` methods whose logic is the same on every SQL database.

A store built on ``SqlMarketDataStore`` supplies the database work only: ``_prepare`` makes the database
ready, ``_read`` runs a few statements in one read snapshot, ``_save`` validates a batch and writes it in
one transaction; plus its ``Codec``, ``location`` and ``aclose``. Everything the port promises about
ranges, chunks, coverage, rejection counts and results is kept here, once.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from adapters._sql import queries
from adapters._sql.rows import (
    Codec,
    Row,
    accounts_from_rows,
    quotes_from_rows,
    rejections_from_rows,
    tickers_from_rows,
)
from domain import (
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
from domain.storage import (
    ValidatedBatch,
    validate_accounts,
    validate_klines,
    validate_quotes,
    validate_tickers,
)
from domain.validators import MissingRange, Reason, ValidationPolicy
from ports.storage import DEFAULT_CHUNK_SIZE, MarketDataStore

__all__ = [
    "MAX_MS",
    "MIN_MS",
    "Found",
    "SeriesIds",
    "SqlMarketDataStore",
    "Statement",
    "Validate",
    "bounds",
]

_R = TypeVar("_R")
_T = TypeVar("_T")

#: A query and its parameters.
Statement = tuple[str, Sequence[object]]
#: What a read found: the rows of each of its statements, in order.
Found = list[Sequence[Row]]
#: How a batch of rows is sorted into rows to store, repeats, open candles and rejects.
Validate = Callable[[Sequence[Any]], ValidatedBatch[Any]]

#: Bounds standing in for an open end of a time range.
MIN_MS = -(2**63)
MAX_MS = 2**63 - 1


def bounds(start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    """An inclusive time range with its open ends closed by ``MIN_MS`` and ``MAX_MS``."""
    return (MIN_MS if start_ms is None else start_ms, MAX_MS if end_ms is None else end_ms)


class SeriesIds:
    """The writer's series ids by (symbol, interval); ids never change, so they are kept once seen.

    An id seen inside a write transaction stays pending until ``commit``: a series created by a batch that
    is rolled back (``rollback``) no longer exists, and its id must not be used again.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], int] = {}
        self._pending: dict[tuple[str, str], int] = {}

    def get(self, symbol: Symbol, interval: Interval) -> int | None:
        key = (symbol.value, interval.value)
        found = self._known.get(key)
        return self._pending.get(key) if found is None else found

    def add(self, symbol: Symbol, interval: Interval, series_id: int) -> None:
        self._pending[(symbol.value, interval.value)] = series_id

    def commit(self) -> None:
        self._known.update(self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()


class SqlMarketDataStore(MarketDataStore):
    """``MarketDataStore`` on an SQL database, less the database work a subclass supplies."""

    _codec: Codec

    def __init__(self, policy: ValidationPolicy) -> None:
        self._policy = policy
        self._series = SeriesIds()  # for the writer only; reads find a series by name
        self._closed = False

    # ------------------------------------------------------------------------------------------ supplied

    @property
    @abc.abstractmethod
    def location(self) -> str: ...

    @abc.abstractmethod
    async def _prepare(self) -> None:
        """Make the database ready: create or migrate the schema, open the writer."""

    @abc.abstractmethod
    async def _read(self, action: str, statements: Sequence[Statement], build: Callable[[Found], _R]) -> _R:
        """Run ``statements`` in one read snapshot and ``build`` the answer from their rows, in order.

        ``build`` runs where the rows arrive; a store that reads on a thread builds there, off the loop.
        """

    @abc.abstractmethod
    async def _save(self, action: str, kind: DataKind, rows: Sequence[Any], validate: Validate) -> SaveResult:
        """``validate`` the rows, write the accepted ones (of ``kind``) and the rejections in one transaction,
        then (not before) ``commit`` the series ids, and say what became of each row."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    def _klines_from_rows(self, symbol: Symbol, interval: Interval, rows: Sequence[Row]) -> list[Kline]:
        """Candles from rows of ``rows.KLINE_SELECT``."""
        d = self._codec.decimal_out
        return [
            Kline(symbol, interval, ot, d(o), d(h), d(lo), d(c), d(v), ct, d(qv), n, d(tb), d(tq), ig)
            for ot, o, h, lo, c, v, ct, qv, n, tb, tq, ig in rows
        ]

    async def _opened(self) -> Self:
        """The store made ready (``_prepare``), or closed again when that fails."""
        try:
            await self._prepare()
        except BaseException:
            await self.aclose()
            raise
        return self

    def _check_open(self) -> None:
        if self._closed:
            msg = f"the store on {self.location} is closed"
            raise StorageError(msg, location=self.location)

    # ------------------------------------------------------------------------------------------ candles

    async def save_klines(self, klines: Sequence[Kline], *, now_ms: int) -> SaveResult:
        return await self._save(
            "saving candles", DataKind.KLINE, klines, lambda rows: validate_klines(rows, now_ms, self._policy)
        )

    async def load_klines(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Kline]:
        return await self._load_klines(symbol, interval, start_ms, end_ms, None)

    async def _load_klines(
        self, symbol: Symbol, interval: Interval, start_ms: int | None, end_ms: int | None, limit: int | None
    ) -> list[Kline]:
        params = (symbol.value, interval.value, *bounds(start_ms, end_ms))
        statement = (queries.KLINES, params) if limit is None else (queries.KLINES_LIMITED, (*params, limit))
        return await self._read(
            "reading candles", [statement], lambda found: self._klines_from_rows(symbol, interval, found[0])
        )

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
            chunk = await self._load_klines(symbol, interval, cursor, end_ms, chunk_size)
            if chunk:
                yield chunk
            if len(chunk) < chunk_size:
                return
            cursor = chunk[-1].open_time_ms + 1

    async def kline_coverage(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> KlineCoverage:
        params = (symbol.value, interval.value, *bounds(start_ms, end_ms))

        def build(found: Found) -> KlineCoverage:
            (count, first, last), holes = found[0][0], found[1]
            steps = [(int(before), int(after)) for before, after in holes]
            return KlineCoverage.from_holes(
                symbol, interval, start_ms, end_ms, int(count), first, last, steps
            )

        return await self._read(
            "reading coverage",
            [(queries.COVERAGE, params), (queries.HOLES, (*params, interval.duration_ms))],
            build,
        )

    async def missing_ranges(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> list[MissingRange]:
        return list((await self.kline_coverage(symbol, interval, start_ms, end_ms)).gaps)

    # ------------------------------------------------------------------------------------------ the rest

    async def save_price_ticks(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> SaveResult:
        return await self._save(
            "saving prices",
            DataKind.PRICE_TICK,
            quotes,
            lambda rows: validate_quotes(rows, now_ms, self._policy),
        )

    async def load_price_ticks(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[PriceQuote]:
        return await self._read(
            "reading prices",
            [(queries.QUOTES, (symbol.value, *bounds(start_ms, end_ms)))],
            lambda found: quotes_from_rows(symbol, found[0], self._codec),
        )

    async def save_tickers_24h(self, tickers: Sequence[Ticker24h], *, now_ms: int) -> SaveResult:
        return await self._save(
            "saving 24h statistics",
            DataKind.TICKER_24H,
            tickers,
            lambda rows: validate_tickers(rows, now_ms, self._policy),
        )

    async def load_tickers_24h(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Ticker24h]:
        return await self._read(
            "reading 24h statistics",
            [(queries.TICKERS, (symbol.value, *bounds(start_ms, end_ms)))],
            lambda found: tickers_from_rows(found[0], self._codec),
        )

    async def save_account_snapshots(self, accounts: Sequence[AccountInfo], *, now_ms: int) -> SaveResult:
        return await self._save(
            "saving account snapshots",
            DataKind.ACCOUNT_SNAPSHOT,
            accounts,
            lambda rows: validate_accounts(rows, now_ms),
        )

    async def load_account_snapshots(
        self, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AccountInfo]:
        params = bounds(start_ms, end_ms)
        return await self._read(
            "reading account snapshots",
            [(queries.ACCOUNTS, params), (queries.BALANCES, params)],
            lambda found: accounts_from_rows(found[0], found[1], self._codec),
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
        rejections = tuple(
            RejectionCount(kind, symbol, interval, reason, count, now_ms, message)
            for reason, count in counts.items()
            if count > 0
        )
        nothing: tuple[Any, ...] = ()
        await self._save(
            "recording rejected rows", kind, nothing, lambda _: ValidatedBatch(nothing, 0, 0, rejections)
        )

    async def rejection_counts(
        self, kind: DataKind | None = None, symbol: Symbol | None = None, interval: Interval | None = None
    ) -> list[RejectionCount]:
        wanted = (
            kind.value if kind else None,
            symbol.value if symbol else None,
            interval.value if interval else None,
        )
        return await self._read(
            "reading rejection counts",
            [(queries.REJECTIONS, [value for value in wanted for _ in range(2)])],
            lambda found: rejections_from_rows(found[0]),
        )

    # ------------------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
