"""The WebSocket feed of continuous collection, with REST polling standing in while the streams are down.

``StreamFeed`` is a ``MarketFeed``: it subscribes the candles of every series and the mini ticker of every
symbol, and hands the ``FeedSink`` (the ``Collector``) each closed candle as it arrives (``since_ms=None``,
a live candle) and the newest price of each symbol once per ``price_every_ms``. Candles the stream missed
are fetched over REST first (``KlineGapRepair``, seeded from ``FeedSink.resume_from`` so a restart
continues where the store ends), so the sink receives every series in order and complete.

When a stream connection is not up for ``fallback_after_s`` (never connected, or lost and not back), the
``fallback`` feed (the ``RestPoller``) runs until every connection is up again; then the repair is moved
past what the poller stored, and streaming continues. A stream the exchange refuses for good (a ban, a
blocked region) leaves the fallback running until ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from opentelemetry import trace

from application.cadence import Cadence
from application.collector import FeedFactory
from application.feed import FeedSink, MarketFeed
from application.rest_poller import RestPoller, Sleep
from application.streaming import MarketStreamService
from domain import (
    DEFAULT_SYMBOLS,
    ConnectionState,
    GatewayError,
    Interval,
    KlineEvent,
    MiniTickerEvent,
    PriceQuote,
    StorageError,
    StreamConnected,
    StreamDisconnected,
    StreamReconnecting,
    StreamTopic,
    Symbol,
    parse_symbols,
)
from ports import MarketDataPort

__all__ = ["StreamFeed", "streaming_feed"]

_log = logging.getLogger("binance_gateway.collect")


class StreamFeed(MarketFeed):
    """Live candles and prices of ``symbols`` x ``intervals`` from ``service``; see the module docstring."""

    def __init__(
        self,
        service: MarketStreamService,
        symbols: Sequence[Symbol],
        intervals: Sequence[Interval],
        now_ms: Callable[[], int],
        *,
        fallback: MarketFeed | None = None,
        fallback_after_s: float = 5.0,
        price_every_ms: int = 1_000,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._service = service
        self._symbols = tuple(symbols)
        self._series = [(symbol, interval) for symbol in self._symbols for interval in intervals]
        self._intervals = tuple(intervals)
        self._now = now_ms
        self._fallback = fallback
        self._fallback_after_s = fallback_after_s
        self._price_every_s = price_every_ms / 1000
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._prices: dict[Symbol, PriceQuote] = {}
        self._states: dict[str, ConnectionState] = {}
        self._fallback_task: asyncio.Task[None] | None = None
        self._fallback_stop = asyncio.Event()
        self._fallback_timer: asyncio.TimerHandle | None = None
        self._sink: FeedSink | None = None
        #: Times the REST fallback was started, and the error that ended streaming for good, if any.
        self.fallbacks = 0
        self.stream_error: GatewayError | None = None

    @property
    def falling_back(self) -> bool:
        """Whether the REST fallback is polling now."""
        return self._fallback_task is not None and not self._fallback_task.done()

    async def run(self, sink: FeedSink, stop: asyncio.Event) -> None:
        self._sink = sink
        self._seed(sink)
        self._arm_fallback()
        consumer = asyncio.ensure_future(self._consume(sink))
        flusher = asyncio.ensure_future(self._flush_every(sink))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if consumer in done and consumer.exception() is not None:
                error = consumer.exception()
                if not isinstance(error, GatewayError) or isinstance(error, StorageError):
                    raise error  # type: ignore[misc]
                self.stream_error = error
                _log.error("streams unavailable (%s); collecting over REST until stopped", error)
                self._start_fallback()
                await stopper
        finally:
            for task in (consumer, flusher, stopper):
                task.cancel()
            await asyncio.gather(consumer, flusher, stopper, return_exceptions=True)
            self._disarm_fallback()
            await self._stop_fallback()
            await self._flush(sink)
            await self._service.close()

    # ------------------------------------------------------------------------------------------ streaming

    def _topics(self) -> list[StreamTopic]:
        topics = [
            topic for interval in self._intervals for topic in StreamTopic.klines(self._symbols, interval)
        ]
        return [*topics, *StreamTopic.mini_tickers(self._symbols)]

    async def _consume(self, sink: FeedSink) -> None:
        async for batch in self._service.batches(self._topics()):
            closed = [e for e in batch if isinstance(e, KlineEvent) and e.is_closed]
            if closed:  # one series: a candle, or a repaired run and the candle that revealed it
                first, last = closed[0], closed[-1]
                now = max(self._now(), last.event_time_ms)
                klines = [event.kline for event in closed]
                await sink.on_klines(first.symbol, first.interval, klines, now_ms=now, since_ms=None)
            for event in batch:
                if isinstance(event, MiniTickerEvent):
                    self._prices[event.symbol] = event.as_quote()
                elif isinstance(event, StreamConnected | StreamDisconnected | StreamReconnecting):
                    await self._on_connection(event)

    async def _flush_every(self, sink: FeedSink) -> None:
        while True:
            await asyncio.sleep(self._price_every_s)
            await self._flush(sink)

    async def _flush(self, sink: FeedSink) -> None:
        if not self._prices:
            return
        quotes = list(self._prices.values())
        self._prices.clear()
        now = max(self._now(), *(quote.as_of_ms for quote in quotes))
        await sink.on_prices(quotes, now_ms=now)

    def _seed(self, sink: FeedSink) -> None:
        for symbol, interval in self._series:
            self._service.repair.advance_to(symbol, interval, sink.resume_from(symbol, interval))

    # ------------------------------------------------------------------------------------------ fallback

    async def _on_connection(self, event: StreamConnected | StreamDisconnected | StreamReconnecting) -> None:
        self._states[event.connection] = event.state
        if all(state is ConnectionState.CONNECTED for state in self._states.values()):
            self._disarm_fallback()
            if self.falling_back or self._fallback_task is not None:
                await self._stop_fallback()
                if self._sink is not None:
                    self._seed(self._sink)  # past whatever the poller stored meanwhile
        else:
            self._arm_fallback()

    def _arm_fallback(self) -> None:
        if self._fallback is None or self._fallback_timer is not None or self.falling_back:
            return
        loop = asyncio.get_running_loop()
        self._fallback_timer = loop.call_later(self._fallback_after_s, self._start_fallback)

    def _disarm_fallback(self) -> None:
        if self._fallback_timer is not None:
            self._fallback_timer.cancel()
            self._fallback_timer = None

    def _start_fallback(self) -> None:
        self._fallback_timer = None
        if self._fallback is None or self.falling_back or self._sink is None:
            return
        self.fallbacks += 1
        _log.warning("streams down for %.1f s; polling over REST meanwhile", self._fallback_after_s)
        self._fallback_stop = asyncio.Event()
        started = time.monotonic()
        self._fallback_task = asyncio.ensure_future(self._fallback.run(self._sink, self._fallback_stop))
        self._fallback_task.add_done_callback(
            lambda _: _log.info("REST fallback ran %.1f s", time.monotonic() - started)
        )

    async def _stop_fallback(self) -> None:
        task, self._fallback_task = self._fallback_task, None
        if task is None:
            return
        self._fallback_stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def streaming_feed(
    service: MarketStreamService,
    market: MarketDataPort,
    symbols: Sequence[str | Symbol] = DEFAULT_SYMBOLS,
    intervals: Sequence[str | Interval] = (Interval.MINUTE_1,),
    *,
    fallback_after_s: float = 5.0,
    sleep: Sleep = asyncio.sleep,
    tracer_provider: trace.TracerProvider | None = None,
) -> FeedFactory:
    """The ``Collector``'s feed factory for streaming: a ``StreamFeed`` with the ``RestPoller`` as fallback.

    Give the same ``symbols`` and ``intervals`` as the collector.
    """
    wanted = parse_symbols(symbols)
    periods = tuple(dict.fromkeys(Interval.parse(i) for i in intervals))

    def build(cadence: Cadence, now_ms: Callable[[], int]) -> MarketFeed:
        poller = RestPoller(
            market, wanted, periods, cadence, now_ms, sleep=sleep, tracer_provider=tracer_provider
        )
        return StreamFeed(
            service,
            wanted,
            periods,
            now_ms,
            fallback=poller,
            fallback_after_s=fallback_after_s,
            tracer_provider=tracer_provider,
        )

    return build
