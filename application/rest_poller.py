"""The REST feed of continuous collection: polls prices and candles at the cadence the budget allows.

Each cycle asks for the prices of every symbol in one ``get_symbol_tickers`` call when they are due, and
for the candles of each due series from the first one not stored yet (``FeedSink.resume_from``), so a poll
after a disconnect fetches everything missed, up to one page. A series of interval ``I`` is due just after
each of its candles closes (plus ``settle_ms``), or every stretched period when the budget is tight (see
``application.cadence``). Up to ``concurrency`` requests are in flight at once; the exchange adapter's
weight limiter still decides when each one is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from opentelemetry import trace

from application._concurrency import task_group
from application.cadence import Cadence
from application.feed import FeedSink, MarketFeed
from domain import GatewayError, Interval, StorageError, Symbol
from ports import MAX_KLINE_LIMIT, MarketDataPort

__all__ = ["RestPoller"]

Sleep = Callable[[float], Awaitable[None]]


class RestPoller(MarketFeed):
    """Polls ``symbols`` x ``intervals`` through ``market`` at ``cadence``; ``now_ms`` gives exchange time."""

    def __init__(  # noqa: PLR0913 - collaborators, then tuning knobs with defaults
        self,
        market: MarketDataPort,
        symbols: Sequence[Symbol],
        intervals: Sequence[Interval],
        cadence: Cadence,
        now_ms: Callable[[], int],
        *,
        sleep: Sleep = asyncio.sleep,
        concurrency: int = 8,
        settle_ms: int = 250,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._market = market
        self._symbols = tuple(symbols)
        self._series = [(symbol, interval) for symbol in self._symbols for interval in intervals]
        self._cadence = cadence
        self._now = now_ms
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._settle_ms = settle_ms
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        #: Completed cycles (a cycle is one round of the requests that were due).
        self.cycles = 0

    async def run(self, sink: FeedSink, stop: asyncio.Event) -> None:
        start = self._now()
        next_prices = start
        next_poll = dict.fromkeys(self._series, start)
        while not stop.is_set():
            now = self._now()
            prices_due = now >= next_prices
            due = [key for key, when in next_poll.items() if now >= when]
            with self._tracer.start_as_current_span("RestPoller.cycle") as span:
                span.set_attributes({"poll.prices": prices_due, "poll.series": len(due)})
                async with task_group() as group:
                    if prices_due:
                        group.create_task(self._prices(sink))
                    for symbol, interval in due:
                        group.create_task(self._klines(sink, symbol, interval))
            self.cycles += 1
            if prices_due:
                next_prices = max(next_prices + self._cadence.price_every_ms, now)
            for key in due:
                next_poll[key] = self._next_poll(key[1], now)
            wake = min([next_prices, *next_poll.values()])
            delay_ms = wake - self._now()
            if delay_ms > 0 and not stop.is_set():
                await self._wait(delay_ms / 1000, stop)

    def _next_poll(self, interval: Interval, now: int) -> int:
        """Just after the close of the candle open one period (less one candle) from now: every poll brings
        at least one new closed candle, and with an unstretched period it comes as soon as a candle closes."""
        target = now + self._cadence.kline_every_ms[interval] - interval.duration_ms
        return interval.next_open_ms(interval.open_time_ms(target)) + self._settle_ms

    async def _prices(self, sink: FeedSink) -> None:
        async with self._slots:
            try:
                quotes = await self._market.get_symbol_tickers(self._symbols)
            except StorageError:
                raise
            except GatewayError as error:
                sink.on_failure(error)
                return
        await sink.on_prices(quotes, now_ms=self._now())

    async def _klines(self, sink: FeedSink, symbol: Symbol, interval: Interval) -> None:
        since = sink.resume_from(symbol, interval)
        async with self._slots:
            try:
                page = await self._market.get_kline_data(
                    symbol, interval, start_ms=since, limit=MAX_KLINE_LIMIT
                )
            except StorageError:
                raise
            except GatewayError as error:
                sink.on_failure(error, symbol, interval)
                return
        await sink.on_klines(symbol, interval, page, now_ms=self._now(), since_ms=since)

    async def _wait(self, seconds: float, stop: asyncio.Event) -> None:
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
