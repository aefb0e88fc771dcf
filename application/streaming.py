"""Real-time market data with no gaps: the stream's events, with missed candles fetched over REST.

The stream port delivers what the exchange pushes while a connection is up. ``KlineGapRepair`` makes the
kline series complete on top of it, on one rule: *a kline event for the candle opening at ``t`` means every
candle before ``t`` has closed*, so any of them not yet delivered was missed (the connection was down, a
message was lost, or the process restarted) and is fetched over REST (``MarketDataPort.get_kline_data``),
then delivered, in order, before the event itself. The rule needs no clock: the exchange's own event says
where the series stands. A candle delivered once is never delivered again (overlaps are dropped).

A REST failure leaves the series where it was: the candle is fetched again at the next event after
``retry_after_s``, and closed candles arriving meanwhile are held back (they come with that fetch), so
the delivered series never has a hole. ``advance_to`` seeds a series from storage, so a restart also
repairs what closed while the process was stopped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from opentelemetry import metrics, trace

from domain import GatewayError, Interval, Kline, KlineEvent, StreamEvent, StreamTopic, Symbol
from ports import MAX_KLINE_LIMIT, Clock, MarketDataPort, MarketStreamPort

if TYPE_CHECKING:
    from domain import StreamStats

__all__ = ["KlineGapRepair", "MarketStreamService"]

_Series = tuple[Symbol, Interval]


class KlineGapRepair:
    """Keeps every kline series seen complete and free of repeats; see the module docstring."""

    def __init__(
        self,
        market: MarketDataPort,
        clock: Clock,
        *,
        retry_after_s: float = 5.0,
        max_candles: int = 100_000,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._market = market
        self._clock = clock
        self._retry_after_s = retry_after_s
        self._max_candles = max_candles
        self._next: dict[_Series, int] = {}
        self._retry_at: dict[_Series, float] = {}
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(__name__, meter_provider=meter_provider)
        self._repaired_counter = meter.create_counter(
            "binance_gateway.stream.candles_repaired",
            unit="{candle}",
            description="Closed candles the stream missed, fetched over REST",
        )
        #: Closed candles fetched over REST, duplicates dropped, failed repairs: since the start.
        self.repaired = 0
        self.duplicates = 0
        self.failures = 0

    def advance_to(self, symbol: Symbol, interval: Interval, next_open_ms: int) -> None:
        """Candles opening before ``next_open_ms`` are held elsewhere (stored): deliver from there on.

        Only ever moves a series forward; a series not started yet starts there.
        """
        key = (symbol, interval)
        current = self._next.get(key)
        self._next[key] = next_open_ms if current is None else max(current, next_open_ms)

    def next_open_ms(self, symbol: Symbol, interval: Interval) -> int | None:
        """The open time of the next closed candle the series expects, if it has started."""
        return self._next.get((symbol, interval))

    async def process(self, event: StreamEvent) -> list[StreamEvent]:
        """The events to deliver for ``event``: fetched candles first, then the event (unless a repeat)."""
        if not isinstance(event, KlineEvent):
            return [event]
        key = (event.symbol, event.interval)
        interval, start = event.interval, event.open_time_ms
        expected = self._next.get(key)
        if expected is None:
            self._next[key] = interval.next_open_ms(start) if event.is_closed else start
            return [event]
        if start < expected:
            self.duplicates += event.is_closed
            return []
        out: list[StreamEvent] = []
        if start > expected:
            fetched = await self._fill(key, expected, start, event.event_time_ms)
            if fetched is None:
                return [] if event.is_closed else [event]
            out.extend(fetched)
            self._next[key] = start
        if event.is_closed:
            self._next[key] = interval.next_open_ms(start)
        out.append(event)
        return out

    async def _fill(self, key: _Series, start_ms: int, before_ms: int, at_ms: int) -> list[KlineEvent] | None:
        """Closed candles opening in ``[start_ms, before_ms)``; ``None`` when the exchange could not say."""
        if self._clock.monotonic() < self._retry_at.get(key, float("-inf")):
            return None
        symbol, interval = key
        with self._tracer.start_as_current_span("KlineGapRepair.fill") as span:
            span.set_attributes({"symbol": str(symbol), "kline.interval": interval.value})
            try:
                klines = await self._fetch(symbol, interval, start_ms, before_ms - 1)
            except GatewayError as exc:
                self.failures += 1
                self._retry_at[key] = self._clock.monotonic() + self._retry_after_s
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__name__)
                return None
            span.set_attribute("kline.count", len(klines))
        self._retry_at.pop(key, None)
        self.repaired += len(klines)
        if klines:
            self._repaired_counter.add(len(klines), {"symbol": str(symbol), "interval": interval.value})
        return [KlineEvent(kline, is_closed=True, event_time_ms=at_ms, repaired=True) for kline in klines]

    async def _fetch(self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int) -> list[Kline]:
        klines: list[Kline] = []
        cursor = start_ms
        while cursor <= end_ms and len(klines) < self._max_candles:
            page = await self._market.get_kline_data(
                symbol, interval, start_ms=cursor, end_ms=end_ms, limit=MAX_KLINE_LIMIT
            )
            page = [kline for kline in page if cursor <= kline.open_time_ms <= end_ms]
            if not page:
                break
            klines.extend(page)
            cursor = interval.next_open_ms(page[-1].open_time_ms)
        return klines


class MarketStreamService:
    """Subscribes topics on a ``MarketStreamPort`` and yields its events with the kline series repaired.

    One service serves one consumer (the stream port has one iterator). Spans and the repair counter go
    through the OpenTelemetry API (``tracer_provider`` / ``meter_provider`` default to the global ones).
    """

    def __init__(
        self,
        stream: MarketStreamPort,
        market: MarketDataPort,
        clock: Clock,
        *,
        repair: KlineGapRepair | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._stream = stream
        self.repair = repair or KlineGapRepair(
            market, clock, tracer_provider=tracer_provider, meter_provider=meter_provider
        )

    @property
    def stream(self) -> MarketStreamPort:
        return self._stream

    async def events(self, topics: Iterable[StreamTopic]) -> AsyncIterator[StreamEvent]:
        """Subscribe ``topics`` and yield every event, missed candles included, until the stream closes."""
        repair = self.repair
        await self._stream.subscribe(topics)
        async for event in self._stream.events():
            if event.__class__ is not KlineEvent:  # the common case, without a coroutine per event
                yield event
                continue
            for item in await repair.process(event):
                yield item

    async def batches(self, topics: Iterable[StreamTopic]) -> AsyncIterator[list[StreamEvent]]:
        """Like ``events``, one list per event received: the candles fetched for it, then the event itself
        (an empty list for a repeat), so a consumer can store a repaired run in one go."""
        repair = self.repair
        await self._stream.subscribe(topics)
        async for event in self._stream.events():
            yield [event] if event.__class__ is not KlineEvent else await repair.process(event)

    def stats(self) -> StreamStats:
        return self._stream.stats()

    async def close(self) -> None:
        await self._stream.close()
