"""Data-quality figures of continuous collection: per symbol and per series, kept while the collector runs.

Per symbol: prices stored, the time of the newest one, prices rejected by reason. Per series (symbol and
interval): candles stored, the close time of the newest stored candle, polls and failed polls, candles
rejected by reason, and gaps: a gap is found when candles that should already have been stored (they
closed before a poll failed, or before the collector started) are missing, and it is repaired once they are
stored. ``CollectorStats`` is also a ``FreshnessSource`` for the health monitor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from domain import DataFreshness, Interval, Symbol
from domain.validators import Reason
from ports import FreshnessSource

__all__ = ["CollectorStats", "SeriesStats", "SymbolFreshness", "SymbolStats"]


def _add(counts: dict[Reason, int], more: Mapping[Reason, int]) -> None:
    for reason, count in more.items():
        if count:
            counts[reason] = counts.get(reason, 0) + count


@attrs.define
class SeriesStats:
    """One symbol and interval."""

    symbol: Symbol
    interval: Interval
    candles_stored: int = 0
    newest_candle_ms: int | None = None
    polls: int = 0
    failures: int = 0
    gaps_found: int = 0
    gaps_repaired: int = 0
    candles_repaired: int = 0
    rejected: dict[Reason, int] = attrs.field(factory=dict)
    last_error: str | None = None

    def count_rejected(self, counts: Mapping[Reason, int]) -> None:
        _add(self.rejected, counts)


@attrs.define
class SymbolStats:
    """Prices of one symbol."""

    symbol: Symbol
    prices_stored: int = 0
    newest_price_ms: int | None = None
    rejected: dict[Reason, int] = attrs.field(factory=dict)

    def count_rejected(self, counts: Mapping[Reason, int]) -> None:
        _add(self.rejected, counts)


@attrs.frozen
class SymbolFreshness:
    """How old the newest price and the newest candle of each interval were at ``now_ms`` (``None``: none)."""

    symbol: Symbol
    price_age_ms: int | None
    candle_age_ms: Mapping[Interval, int | None]


class CollectorStats(FreshnessSource):
    """Every figure of one collector run (see the module docstring)."""

    def __init__(self, symbols: Sequence[Symbol], intervals: Sequence[Interval], started_ms: int = 0) -> None:
        self.started_ms = started_ms
        self.symbols = {symbol: SymbolStats(symbol) for symbol in symbols}
        self.series = {(s, i): SeriesStats(s, i) for s in symbols for i in intervals}
        self.price_polls = 0
        self.price_failures = 0
        self.last_error: str | None = None

    @property
    def prices_stored(self) -> int:
        return sum(stats.prices_stored for stats in self.symbols.values())

    @property
    def candles_stored(self) -> int:
        return sum(stats.candles_stored for stats in self.series.values())

    @property
    def gaps_found(self) -> int:
        return sum(stats.gaps_found for stats in self.series.values())

    @property
    def gaps_repaired(self) -> int:
        return sum(stats.gaps_repaired for stats in self.series.values())

    def freshness(self, now_ms: int) -> list[SymbolFreshness]:
        """The age of the newest price and candle of every symbol at ``now_ms``."""

        def age(ms: int | None) -> int | None:
            return None if ms is None else max(0, now_ms - ms)

        return [
            SymbolFreshness(
                symbol,
                age(stats.newest_price_ms),
                {i: age(s.newest_candle_ms) for (sym, i), s in self.series.items() if sym == symbol},
            )
            for symbol, stats in self.symbols.items()
        ]

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        result = []
        for symbol in symbols if symbols is not None else list(self.symbols):
            stats = self.symbols.get(symbol)
            candles = [s.newest_candle_ms for (sym, _), s in self.series.items() if sym == symbol]
            newest_candle = max((ms for ms in candles if ms is not None), default=None)
            newest_price = stats.newest_price_ms if stats is not None else None
            if newest_price is not None or newest_candle is not None:
                result.append(DataFreshness(symbol, newest_price, newest_candle))
        return result
