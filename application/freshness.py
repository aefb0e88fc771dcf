"""Freshness read from storage, and freshness combined from several sources (the newest reading wins).

``StoredDataFreshness`` asks the store for the newest candle of each symbol's configured interval within
``candle_lookback_ms`` and the newest price tick within ``price_lookback_ms``; older data counts as none
(bounded reads keep a health check cheap on a year of candles). ``NewestFreshness`` merges sources, e.g. what
this process has just seen (``DataQualityMetrics``) with what a collector on another machine stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from domain import DataFreshness, Interval, PriceQuote, Symbol
from domain.storage import KlineCoverage
from ports import Clock, FreshnessSource

__all__ = ["DeferredFreshness", "NewestFreshness", "StoredDataFreshness", "StoredSeries"]

_DAY_MS = 86_400_000
_QUARTER_HOUR_MS = 900_000


class StoredSeries(Protocol):
    """The two reads of ``MarketDataStore`` that freshness needs."""

    async def kline_coverage(
        self, symbol: Symbol, interval: Interval, start_ms: int | None = None, end_ms: int | None = None
    ) -> KlineCoverage: ...

    async def load_price_ticks(
        self, symbol: Symbol, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[PriceQuote]: ...


class StoredDataFreshness(FreshnessSource):
    """Freshness of ``symbols`` (when the monitor asks for none in particular) from a market-data store."""

    def __init__(
        self,
        store: StoredSeries,
        clock: Clock,
        symbols: Sequence[Symbol],
        interval: Interval = Interval.MINUTE_1,
        *,
        candle_lookback_ms: int = _DAY_MS,
        price_lookback_ms: int = _QUARTER_HOUR_MS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._symbols = tuple(symbols)
        self._interval = interval
        self._candle_lookback_ms = candle_lookback_ms
        self._price_lookback_ms = price_lookback_ms

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        now_ms = self._clock.now_ms()
        result = []
        for symbol in symbols if symbols is not None else self._symbols:
            coverage = await self._store.kline_coverage(
                symbol, self._interval, now_ms - self._candle_lookback_ms, now_ms
            )
            candle_ms = None
            if coverage.last_open_ms is not None:
                candle_ms = self._interval.next_open_ms(coverage.last_open_ms) - 1
            ticks = await self._store.load_price_ticks(symbol, now_ms - self._price_lookback_ms, now_ms)
            price_ms = max((tick.as_of_ms for tick in ticks), default=None)
            if candle_ms is not None or price_ms is not None:
                result.append(DataFreshness(symbol, price_ms, candle_ms))
        return result


def _newest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class NewestFreshness(FreshnessSource):
    """The newest price and candle time per symbol over every source."""

    def __init__(self, sources: Iterable[FreshnessSource]) -> None:
        self._sources = tuple(sources)

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        merged: dict[Symbol, DataFreshness] = {}
        for source in self._sources:
            for entry in await source.data_freshness(symbols):
                seen = merged.get(entry.symbol)
                if seen is None:
                    merged[entry.symbol] = entry
                    continue
                merged[entry.symbol] = DataFreshness(
                    entry.symbol,
                    _newest(seen.newest_price_ms, entry.newest_price_ms),
                    _newest(seen.newest_candle_ms, entry.newest_candle_ms),
                )
        return [merged[symbol] for symbol in sorted(merged)]


class DeferredFreshness(FreshnessSource):
    """A source built on first use, for one that needs an async open first (a store); built once."""

    def __init__(self, build: Callable[[], Awaitable[FreshnessSource]]) -> None:
        self._build = build
        self._source: FreshnessSource | None = None

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        if self._source is None:
            self._source = await self._build()
        return await self._source.data_freshness(symbols)
