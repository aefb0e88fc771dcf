"""The snapshot's store seam, filled: every snapshot is saved into a ``MarketDataStore``.

``StoredSnapshots`` is what the composition root gives ``SnapshotService`` as its ``store``. The store is
opened on the first save (the command line's ``snapshot`` opens the database only then), and the outcome of
the latest save is kept in ``last`` so that the command line can say what was stored, and where.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from application.snapshot import Snapshot, SnapshotStore
from domain import SaveResult
from ports import MarketDataStore

__all__ = ["SnapshotSaved", "StoredSnapshots"]


@attrs.frozen
class SnapshotSaved:
    """Where a snapshot went and what became of each kind of row (``account`` is ``None`` without one)."""

    location: str
    prices: SaveResult
    tickers_24h: SaveResult
    klines: SaveResult
    account: SaveResult | None


class StoredSnapshots(SnapshotStore):
    """Saves prices, 24h statistics, closed candles and the account of each snapshot, at exchange time.

    ``store`` is a store, or a coroutine function that opens one (called once, on the first save).
    Raises the store's errors (``StorageError`` and its kinds).
    """

    def __init__(self, store: MarketDataStore | Callable[[], Awaitable[MarketDataStore]]) -> None:
        self._store = store if not callable(store) else None
        self._open = store if callable(store) else None
        self.last: SnapshotSaved | None = None

    async def _opened(self) -> MarketDataStore:
        if self._store is None:
            assert self._open is not None  # noqa: S101 - one of the two is always set
            self._store = await self._open()
        return self._store

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        store = await self._opened()
        # The snapshot's time is local; candles close by the exchange's clock.
        now_ms = snapshot.taken_at_ms + round(snapshot.clock.offset_ms)
        prices = await store.save_price_ticks(snapshot.quotes, now_ms=now_ms)
        tickers = await store.save_tickers_24h(snapshot.tickers_24h, now_ms=now_ms)
        klines = await store.save_klines(
            [kline for series in snapshot.klines.values() for kline in series], now_ms=now_ms
        )
        account = None
        if snapshot.account is not None:
            account = await store.save_account_snapshots([snapshot.account], now_ms=now_ms)
        self.last = SnapshotSaved(store.location, prices, tickers, klines, account)
