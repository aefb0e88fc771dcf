"""Candles straight from storage as a pandas DataFrame, read in chunks (columns: ``application.frames``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from application._time_range import Moment, to_ms
from application.frames import klines_to_frame
from domain import Interval, InvalidInputError, Symbol
from ports import DEFAULT_CHUNK_SIZE, MarketDataStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StoreSource", "StoredKlines", "load_klines_frame"]

#: A store, or a coroutine function that opens one (the composition root's store provider).
StoreSource = MarketDataStore | Callable[[], Awaitable[MarketDataStore]]


async def load_klines_frame(
    store: MarketDataStore,
    symbol: Symbol,
    interval: Interval,
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    as_float: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """The stored candles opening in ``[start_ms, end_ms]`` (``None``: open end), one row per candle.

    Each chunk becomes a frame as it is read, so only the frame (not a list of ``Kline`` objects as well)
    holds the whole range; the frame is empty, with the same columns, when nothing is stored.
    """
    import pandas as pd  # noqa: PLC0415 - pandas loads on first use, as in application.frames

    frames = [
        klines_to_frame(chunk, symbol, interval, as_float=as_float)
        async for chunk in store.iter_klines(symbol, interval, start_ms, end_ms, chunk_size=chunk_size)
    ]
    frame = pd.concat(frames) if len(frames) > 1 else (frames[0] if frames else None)
    if frame is None:
        frame = klines_to_frame([], symbol, interval, as_float=as_float)
    frame.attrs["symbol"] = str(symbol)
    frame.attrs["interval"] = interval.value
    return frame


class StoredKlines:
    """Frames from a store that is opened on first use (``source``: see ``StoreSource``)."""

    def __init__(self, source: StoreSource) -> None:
        self._store = None if callable(source) else source
        self._open = source if callable(source) else None

    async def store(self) -> MarketDataStore:
        if self._store is None:
            assert self._open is not None  # noqa: S101 - one of the two is always set
            self._store = await self._open()
        return self._store

    async def frame(
        self,
        symbol: Symbol,
        interval: Interval,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        as_float: bool = False,
    ) -> pd.DataFrame:
        """Stored candles opening from ``start`` to ``end`` (inclusive; datetimes or epoch ms)."""
        start_ms = None if start is None else to_ms(start, "start")
        end_ms = None if end is None else to_ms(end, "end")
        if start_ms is not None and end_ms is not None and start_ms > end_ms:
            msg = f"start {start_ms} is after end {end_ms}"
            raise InvalidInputError(msg)
        store = await self.store()
        return await load_klines_frame(store, symbol, interval, start_ms, end_ms, as_float=as_float)
