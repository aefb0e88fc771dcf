"""``FakeMarketStream``: the market-stream port offline, driven by the fake exchange's market model.

Built from the same seed and catalogue as the ``FakeExchange``, it reads the same deterministic market, so
its events agree with the fake's REST answers: a closed candle on the stream is the candle
``get_kline_data`` returns for that open time, a book ticker is ``get_book_ticker`` at that instant.

Time comes from the clock: every ``tick_ms`` of clock time it emits, per subscribed topic, one book ticker,
one mini ticker, one ticker, the last trade (and aggregate trade) of the tick when there was one, an update
of each open candle every ``kline_every_ms`` and, when a candle boundary passes, the final update of the
candle that closed. It waits with ``sleep`` between ticks: ``asyncio.sleep`` follows the wall clock; a
sleep that advances a ``FakeClock`` runs a day of events in moments.

``disconnect(for_ms)`` plays a lost connection: a ``StreamDisconnected`` event, no events for that long,
then ``StreamReconnecting`` and ``StreamConnected``, so the gap repair can be exercised without a network.
The buffer is bounded: the producer waits for a slow consumer (clock time does not pass for the stream
meanwhile), so nothing is shed and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence

from adapters.memory import quotes
from adapters.memory.catalog import SymbolSpec, default_catalog
from adapters.memory.failures import Sleep
from adapters.memory.market import SymbolMarket
from domain import (
    AggTradeEvent,
    BookTickerEvent,
    ConfigurationError,
    ConnectionState,
    DisconnectReason,
    InvalidSymbolError,
    KlineEvent,
    MiniTickerEvent,
    StreamConnected,
    StreamConnection,
    StreamDisconnected,
    StreamEvent,
    StreamKind,
    StreamReconnecting,
    StreamStats,
    StreamTopic,
    Symbol,
    TickerEvent,
    TradeEvent,
)
from ports import Clock, MarketStreamPort

__all__ = ["FakeMarketStream"]

_CONNECTION = "fake-1"
_END = object()


class FakeMarketStream(MarketStreamPort):
    """Deterministic stream events for the symbols of the fake exchange; see the module docstring."""

    def __init__(
        self,
        clock: Clock,
        seed: int = 7,
        *,
        catalog: Sequence[SymbolSpec] | None = None,
        tick_ms: int = 1_000,
        kline_every_ms: int = 2_000,
        buffer_size: int = 1_000,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if tick_ms < 1 or kline_every_ms < 1:
            msg = "tick_ms and kline_every_ms must be at least 1"
            raise ValueError(msg)
        self._clock = clock
        self._seed = seed
        self._specs = {spec.symbol: spec for spec in (default_catalog() if catalog is None else catalog)}
        self._markets: dict[Symbol, SymbolMarket] = {}
        self._tick_ms = tick_ms
        self._kline_every_ms = kline_every_ms
        self._sleep = sleep
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=buffer_size)
        self._topics: list[StreamTopic] = []
        self._producer: asyncio.Task[None] | None = None
        self._closed = False
        self._state = ConnectionState.DISCONNECTED
        self._detail = "not connected yet"
        self._down_until_ms: int | None = None
        self._down_reason = DisconnectReason.NETWORK_ERROR
        self._last_trade: dict[StreamTopic, int] = {}
        self._update_id = 0
        self._produced = 0
        self._delivered = 0
        self._reconnects: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"FakeMarketStream(seed={self._seed}, topics={len(self._topics)})"

    # ------------------------------------------------------------------------------------------ the port

    async def subscribe(self, topics: Iterable[StreamTopic]) -> None:
        if self._closed:
            msg = "the stream is closed"
            raise ConfigurationError(msg)
        now = self._clock.now_ms()
        for topic in topics:
            if topic in self._topics:
                continue
            spec = self._specs.get(topic.symbol)
            if spec is None or spec.listed_ms > now or not spec.has_market_data:
                msg = f"Invalid symbol {topic.symbol}: the exchange has no stream for it"
                raise InvalidSymbolError(msg, code=-1121, endpoint="/stream")
            self._topics.append(topic)
        if self._producer is None:
            self._producer = asyncio.get_running_loop().create_task(self._produce(), name="fake stream")

    def events(self) -> AsyncIterator[StreamEvent]:
        return self._consume()

    def stream_connections(self) -> Sequence[StreamConnection]:
        return (StreamConnection(_CONNECTION, self._state, self._detail),) if self._producer else ()

    def stats(self) -> StreamStats:
        return StreamStats(
            received=self._produced,
            delivered=self._delivered,
            reconnects=dict(self._reconnects),
            buffered=self._queue.qsize(),
        )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._producer is not None:
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._producer
        self._state, self._detail = ConnectionState.DISCONNECTED, "closed"
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_END)

    # ------------------------------------------------------------------------------------------ faults

    def disconnect(self, for_ms: int, reason: DisconnectReason = DisconnectReason.NETWORK_ERROR) -> None:
        """Lose the connection for ``for_ms`` of clock time from the next tick on."""
        self._down_until_ms = self._clock.now_ms() + for_ms
        self._down_reason = reason

    # ------------------------------------------------------------------------------------------ internals

    async def _consume(self) -> AsyncIterator[StreamEvent]:
        while True:
            if self._closed and self._queue.empty():
                return
            item = await self._queue.get()
            if item is _END:
                return
            self._delivered += 1
            yield item  # type: ignore[misc]

    async def _put(self, event: StreamEvent) -> None:
        self._produced += 1
        await self._queue.put(event)

    async def _produce(self) -> None:
        now = self._clock.now_ms()
        await self._connected(now)
        last = now - now % self._tick_ms - self._tick_ms
        while True:
            now = self._clock.now_ms()
            tick = now - now % self._tick_ms
            for t in range(last + self._tick_ms, tick + 1, self._tick_ms):
                await self._tick(t)
            last = max(last, tick)
            await self._sleep(self._tick_ms / 1000)

    async def _connected(self, at_ms: int) -> None:
        self._state, self._detail = ConnectionState.CONNECTED, f"{len(self._topics)} streams"
        await self._put(StreamConnected(_CONNECTION, at_ms, len(self._topics)))

    async def _tick(self, t: int) -> None:
        if self._down_until_ms is not None:
            if self._state is ConnectionState.CONNECTED:
                reason = self._down_reason
                self._reconnects[reason.value] = self._reconnects.get(reason.value, 0) + 1
                self._state, self._detail = ConnectionState.DISCONNECTED, reason.value
                await self._put(StreamDisconnected(_CONNECTION, t, reason, "scripted by the test"))
            if t < self._down_until_ms:
                return
            self._down_until_ms = None
            self._state = ConnectionState.RECONNECTING
            await self._put(StreamReconnecting(_CONNECTION, t, 1, 0.0, self._down_reason))
            await self._connected(t)
        for topic in list(self._topics):
            for event in self._events(topic, t):
                await self._put(event)

    def _market(self, symbol: Symbol) -> SymbolMarket:
        market = self._markets.get(symbol)
        if market is None:
            market = self._markets[symbol] = SymbolMarket(self._specs[symbol], self._seed)
        return market

    def _events(self, topic: StreamTopic, t: int) -> list[StreamEvent]:
        market = self._market(topic.symbol)
        kind = topic.kind
        if kind is StreamKind.BOOK_TICKER:
            book = quotes.book_ticker(market, t)
            self._update_id += 1
            return [
                BookTickerEvent(
                    book.symbol,
                    self._update_id,
                    book.bid_price,
                    book.bid_qty,
                    book.ask_price,
                    book.ask_qty,
                    t,
                )
            ]
        if kind is StreamKind.MINI_TICKER:
            day = quotes.ticker_24h(market, t)
            return [
                MiniTickerEvent(
                    day.symbol,
                    day.last_price,
                    day.open_price,
                    day.high_price,
                    day.low_price,
                    day.volume,
                    day.quote_volume,
                    t,
                )
            ]
        if kind is StreamKind.TICKER:
            return [TickerEvent(quotes.ticker_24h(market, t), t)]
        if kind in (StreamKind.TRADE, StreamKind.AGG_TRADE):
            return self._trades(topic, market, t)
        return self._klines(topic, market, t)

    def _trades(self, topic: StreamTopic, market: SymbolMarket, t: int) -> list[StreamEvent]:
        """The last trade of the tick, if one happened since the previous tick."""
        (next_id,) = market.activity([t])[1]
        last_id = next_id - 1
        if last_id < 0 or last_id <= self._last_trade.get(topic, -1):
            return []
        self._last_trade[topic] = last_id
        price = quotes.price_quote(market, t).price
        qty = market.spec.trade_qty
        maker = last_id % 2 == 0
        if topic.kind is StreamKind.TRADE:
            return [TradeEvent(topic.symbol, last_id, price, qty, t, t, maker)]
        return [AggTradeEvent(topic.symbol, last_id, price, qty, last_id, last_id, t, t, maker)]

    def _klines(self, topic: StreamTopic, market: SymbolMarket, t: int) -> list[StreamEvent]:
        interval = topic.interval
        if interval is None:  # pragma: no cover - a kline topic always has one (StreamTopic checks)
            return []
        out: list[StreamEvent] = []
        current = interval.open_time_ms(t)
        if current == t and t > market.spec.listed_ms:
            previous = interval.open_time_ms(t - 1)
            (closed,) = quotes.klines(market, interval, [previous], t)
            out.append(KlineEvent(closed, is_closed=True, event_time_ms=t))
        every = min(self._kline_every_ms, interval.duration_ms)
        if (t - current) % every < self._tick_ms:
            (live,) = quotes.klines(market, interval, [current], t)
            out.append(KlineEvent(live, is_closed=False, event_time_ms=t))
        return out
