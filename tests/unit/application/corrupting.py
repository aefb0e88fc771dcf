"""A broken exchange for tests: the fake with chosen answers rewritten, as a faulty one would send them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from domain import Interval, Kline, PriceQuote, Symbol

__all__ = ["CorruptingMarket", "replace_kline"]


class CorruptingMarket(FakeExchange):
    """The fake exchange with chosen answers rewritten on their way out, as a broken exchange would send them.

    Installed with ``container.fake_exchange.override(...)``, so services still come from the container.
    """

    def __init__(
        self,
        clock: FakeClock,
        *,
        klines: Callable[[list[Kline]], list[Kline]] | None = None,
        quotes: Callable[[list[PriceQuote]], list[PriceQuote]] | None = None,
        has_credentials: bool = True,
    ) -> None:
        super().__init__(clock, seed=7, has_credentials=has_credentials)
        self._corrupt_klines = klines
        self._corrupt_quotes = quotes

    async def get_kline_data(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> list[Kline]:
        answer = await super().get_kline_data(symbol, interval, start_ms, end_ms, limit)
        return self._corrupt_klines(answer) if self._corrupt_klines else answer

    async def get_symbol_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[PriceQuote]:
        answer = await super().get_symbol_tickers(symbols)
        return self._corrupt_quotes(answer) if self._corrupt_quotes else answer


def replace_kline(position: int, **changes: Any) -> Callable[[list[Kline]], list[Kline]]:
    """A corruption that changes fields of the candle at ``position`` of every non-empty page."""

    def corrupt(page: list[Kline]) -> list[Kline]:
        if len(page) > abs(position):
            page = list(page)
            page[position] = attrs.evolve(page[position], **changes)
        return page

    return corrupt
