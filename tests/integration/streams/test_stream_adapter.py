"""``BinanceStreamAdapter`` against the loopback stream endpoint: what the port promises, event by event.

The loopback server sends one trade per server second (trade id = the second) and book tickers whose update
ids are the second times 1000 plus a counter, so a lost or repeated event shows as a hole or a repeat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from adapters.streams import StreamTelemetry
from adapters.telemetry.testing import in_memory_telemetry
from domain import (
    BookTickerEvent,
    ConnectionState,
    DisconnectReason,
    InvalidRequestError,
    IPBannedError,
    KlineEvent,
    RateLimitError,
    StreamConnected,
    StreamDisconnected,
    StreamEvent,
    StreamReconnecting,
    StreamTopic,
    Symbol,
    TradeEvent,
)
from tests.integration.streams.conftest import MINUTE, SYMBOLS, Driver, StreamFactory, settle
from tests.loopback.streams import StreamHub

pytestmark = pytest.mark.slow


class Consumer:
    """Reads an adapter's events into a list in the background."""

    def __init__(self, events: AsyncIterator[StreamEvent]) -> None:
        self.events: list[StreamEvent] = []
        self.error: BaseException | None = None
        self._source = events
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            async for event in self._source:
                self.events.append(event)
        except Exception as exc:  # recorded for the test to check
            self.error = exc

    def of(self, kind: type) -> list[StreamEvent]:
        return [event for event in self.events if isinstance(event, kind)]

    def trade_ids(self, symbol: Symbol) -> list[int]:
        return [e.trade_id for e in self.events if isinstance(e, TradeEvent) and e.symbol == symbol]


def _topics() -> list[StreamTopic]:
    return [
        *StreamTopic.trades(SYMBOLS),
        *StreamTopic.book_tickers(SYMBOLS),
        *StreamTopic.klines(SYMBOLS, MINUTE),
    ]


def _consecutive(values: list[int]) -> bool:
    return values == list(range(values[0], values[0] + len(values)))


async def test_a_shutdown_notice_switches_connections_without_losing_or_repeating_an_event(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    adapter = make_stream()
    await adapter.subscribe(_topics())
    consumer = Consumer(adapter.events())
    await hub.wait_for(lambda: len(hub.open_connections) == 1)
    await driver.run(30)

    await hub.shutdown_notice()
    await driver.until(lambda: len(hub.connections) == 2 and len(hub.open_connections) == 1)
    await driver.run(30)
    await settle(
        lambda: len(consumer.trade_ids(SYMBOLS[0])) >= 60 and len(consumer.trade_ids(SYMBOLS[1])) >= 60
    )

    for symbol in SYMBOLS:
        assert _consecutive(consumer.trade_ids(symbol))
        books = [
            e.update_id for e in consumer.events if isinstance(e, BookTickerEvent) and e.symbol == symbol
        ]
        assert books == sorted(set(books))
    assert consumer.of(StreamDisconnected) == []
    handovers = [e for e in consumer.of(StreamConnected) if isinstance(e, StreamConnected) and e.handover]
    assert len(handovers) == 1
    (reconnecting,) = consumer.of(StreamReconnecting)
    assert isinstance(reconnecting, StreamReconnecting)
    assert reconnecting.reason is DisconnectReason.SERVER_SHUTDOWN
    assert adapter.stats().duplicates > 0  # both connections delivered the overlap; each event went out once


async def test_rollover_before_the_lifetime_limit_loses_nothing_across_several_switches(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    hub.lifetime_s = 1.0
    adapter = make_stream(lifetime_s=1.0, rollover_margin_s=0.6, rollover_jitter_s=0.0)
    await adapter.subscribe(_topics())
    consumer = Consumer(adapter.events())
    await hub.wait_for(lambda: len(hub.open_connections) == 1)

    await driver.until(lambda: len(hub.connections) >= 4, pause_s=0.01)
    await driver.run(5)
    await settle(lambda: len(consumer.trade_ids(SYMBOLS[1])) >= len(consumer.trade_ids(SYMBOLS[0])) > 0)

    for symbol in SYMBOLS:
        assert _consecutive(consumer.trade_ids(symbol))
    assert consumer.of(StreamDisconnected) == []
    assert adapter.stats().reconnects[DisconnectReason.LIFETIME.value] >= 3
    assert all(conn.closed for conn in hub.connections[:-1])  # each replaced connection was closed by us


async def test_an_abrupt_disconnect_is_reported_then_reconnected(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    states: list[tuple[str, ConnectionState]] = []
    adapter = make_stream(on_state=lambda name, state, _detail: states.append((name, state)))
    await adapter.subscribe(_topics())
    consumer = Consumer(adapter.events())
    await hub.wait_for(lambda: len(hub.open_connections) == 1)
    await driver.run(5)

    await hub.disconnect(abrupt=True)
    await driver.until(lambda: len(hub.connections) == 2 and len(hub.open_connections) == 1)
    await driver.run(5)
    await settle(lambda: len(consumer.of(StreamConnected)) == 2)

    (lost,) = consumer.of(StreamDisconnected)
    assert isinstance(lost, StreamDisconnected)
    assert lost.reason is DisconnectReason.NETWORK_ERROR
    assert [state for _, state in states][:2] == [ConnectionState.CONNECTED, ConnectionState.DISCONNECTED]
    assert states[-1] == ("stream-1", ConnectionState.CONNECTED)
    assert [c.state for c in adapter.stream_connections()] == [ConnectionState.CONNECTED]


async def test_streams_beyond_the_url_are_subscribed_in_paced_batches_under_five_messages_a_second(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    symbols = [Symbol(s) for s in ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT")]
    topics = [*StreamTopic.trades(symbols), *StreamTopic.book_tickers(symbols)]
    adapter = make_stream(max_url_length=64, subscribe_batch=2)  # one stream fits in the URL
    started = time.monotonic()
    await adapter.subscribe(topics)
    consumer = Consumer(adapter.events())
    await settle(lambda: bool(hub.open_connections) and len(hub.open_connections[0].streams) == 10)
    await settle(lambda: len(consumer.of(StreamConnected)) == 1)
    elapsed = time.monotonic() - started

    conn = hub.open_connections[0]
    requests = conn.control
    assert [r["method"] for r in requests] == ["SUBSCRIBE"] * len(requests)
    assert all(len(r["params"]) <= 2 for r in requests)
    by_message = sum(len(r["params"]) for r in requests)
    assert by_message >= 7  # one or two fit in the URL
    assert len(requests) == -(-by_message // 2)  # 2 a message
    assert elapsed >= (len(requests) - 1) / 4  # paced at 4 a second
    assert hub.violations == 0
    await driver.run(3)
    await settle(
        lambda: {e.symbol for e in consumer.of(TradeEvent) if isinstance(e, TradeEvent)} == set(symbols)
    )


async def test_topics_are_spread_over_connections_of_at_most_the_stream_limit(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    adapter = make_stream(max_streams_per_connection=4)
    await adapter.subscribe(_topics())  # 6 streams
    await adapter.subscribe(
        StreamTopic.book_tickers([Symbol("BNBUSDT"), Symbol("SOLUSDT"), Symbol("XRPUSDT")])
    )
    consumer = Consumer(adapter.events())
    await hub.wait_for(lambda: len(hub.open_connections) == 3)
    await driver.run(3)
    await settle(
        lambda: len({e.symbol for e in consumer.of(BookTickerEvent) if isinstance(e, BookTickerEvent)}) == 5
    )

    assert sorted(len(conn.streams) for conn in hub.open_connections) == [1, 4, 4]
    assert [c.name for c in adapter.stream_connections()] == ["stream-1", "stream-2", "stream-3"]


async def test_an_unknown_stream_is_a_permanent_error_from_the_iterator(
    make_stream: StreamFactory, hub: StreamHub
) -> None:
    adapter = make_stream()
    await adapter.subscribe(StreamTopic.trades([Symbol("NOPEUSDT")]))
    consumer = Consumer(adapter.events())
    await asyncio.wait_for(consumer.task, 5)

    assert isinstance(consumer.error, InvalidRequestError)
    assert consumer.error.http_status == 400
    assert hub.attempts == 1  # not retried


async def test_a_subscription_refused_while_connecting_is_a_permanent_error(
    make_stream: StreamFactory, hub: StreamHub
) -> None:
    symbols = [Symbol(s) for s in ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "NOPEUSDT")]
    adapter = make_stream(max_url_length=100)  # the unknown stream does not fit: it goes by SUBSCRIBE
    await adapter.subscribe(StreamTopic.trades(symbols))
    consumer = Consumer(adapter.events())
    await asyncio.wait_for(consumer.task, 5)

    assert isinstance(consumer.error, InvalidRequestError)
    assert "nopeusdt@trade" in str(consumer.error)
    assert hub.attempts == 1


async def test_a_subscription_refused_on_a_live_connection_raises_from_subscribe(
    make_stream: StreamFactory, hub: StreamHub
) -> None:
    adapter = make_stream()
    await adapter.subscribe(StreamTopic.trades(SYMBOLS))
    await settle(lambda: [c.state for c in adapter.stream_connections()] == [ConnectionState.CONNECTED])

    with pytest.raises(InvalidRequestError, match="nopeusdt@trade"):
        await adapter.subscribe(StreamTopic.trades([Symbol("NOPEUSDT")]))
    assert len(hub.open_connections) == 1  # the connection carries on with what it has


async def test_a_ban_stops_the_stream_with_the_ban_error(make_stream: StreamFactory, hub: StreamHub) -> None:
    hub.refuse(418, {"Retry-After": "120"})
    adapter = make_stream()
    await adapter.subscribe(StreamTopic.trades(SYMBOLS))
    consumer = Consumer(adapter.events())
    await asyncio.wait_for(consumer.task, 5)

    assert isinstance(consumer.error, IPBannedError)
    assert hub.attempts == 1


async def test_rate_limited_connects_wait_at_least_retry_after(
    make_stream: StreamFactory, hub: StreamHub
) -> None:
    hub.refuse(429, {"Retry-After": "0.3"})
    adapter = make_stream()
    await adapter.subscribe(StreamTopic.trades(SYMBOLS))
    consumer = Consumer(adapter.events())
    await settle(lambda: hub.attempts >= 1)
    await asyncio.sleep(0.2)
    assert hub.attempts == 1
    hub.refuse(None)
    await settle(lambda: len(hub.open_connections) == 1)

    (waiting,) = consumer.of(StreamReconnecting)
    assert isinstance(waiting, StreamReconnecting)
    assert waiting.delay_s >= 0.3
    assert waiting.reason is DisconnectReason.CONNECT_FAILED
    assert not isinstance(consumer.error, RateLimitError)


async def test_connection_attempts_never_exceed_the_budget(
    make_stream: StreamFactory, hub: StreamHub
) -> None:
    hub.refuse(503)
    adapter = make_stream(
        max_connect_attempts=3, attempt_window_s=0.6, reconnect_base_s=0.0, reconnect_max_s=0.0
    )
    await adapter.subscribe(StreamTopic.trades(SYMBOLS))
    consumer = Consumer(adapter.events())
    await asyncio.sleep(0.45)
    within_window = hub.attempts
    await settle(lambda: hub.attempts >= 5)

    assert within_window == 3
    assert consumer.error is None  # 503 is worth retrying


async def test_a_slow_consumer_sheds_intermediate_book_tickers_but_keeps_every_closed_candle(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    hub.book_updates = 20
    adapter = make_stream(buffer_size=50)
    await adapter.subscribe([*StreamTopic.book_tickers(SYMBOLS), *StreamTopic.klines(SYMBOLS, MINUTE)])
    await hub.wait_for(lambda: len(hub.open_connections) == 1)
    await driver.run(25)  # nobody reads: 2 x 20 book tickers a second pile up (no candle closes yet)
    sent = hub.open_connections[0].sent
    await settle(lambda: adapter.stats().received == sent)  # latest-wins updates never hold the reader

    stats = adapter.stats()
    assert stats.buffered <= 50 + 4  # the capacity, and one waiting slot per latest-wins stream
    assert stats.shed["bookTicker"] > 800
    assert "kline" in stats.shed  # open-candle updates are latest-wins too
    consumer = Consumer(adapter.events())
    await driver.run(70)
    await settle(lambda: adapter.stats().received == hub.open_connections[0].sent)
    await settle(lambda: adapter.stats().buffered == 0)

    newest = (driver.source() // 1000) * 1000 + 19
    for symbol in SYMBOLS:
        closed = [
            e for e in consumer.events if isinstance(e, KlineEvent) and e.is_closed and e.symbol == symbol
        ]
        assert [e.open_time_ms % 3_600_000 for e in closed] == [0, 60_000]  # 00:00 and 00:01, both kept
        books = [e for e in consumer.events if isinstance(e, BookTickerEvent) and e.symbol == symbol]
        assert books[-1].update_id == newest  # the newest update survives
    final = adapter.stats()
    assert final.delivered + sum(final.shed.values()) == final.received + 1  # + the connected event


async def test_a_slow_consumer_holds_back_the_socket_rather_than_lose_a_trade(
    make_stream: StreamFactory, driver: Driver, hub: StreamHub
) -> None:
    adapter = make_stream(buffer_size=20)
    await adapter.subscribe(_topics())
    await hub.wait_for(lambda: len(hub.open_connections) == 1)
    await driver.run(60)
    await asyncio.sleep(0.1)

    sent = hub.open_connections[0].sent
    assert adapter.stats().received < sent  # the reader stopped: trades are never dropped
    assert adapter.stats().buffered <= 20 + 4 + 1
    consumer = Consumer(adapter.events())
    await settle(lambda: len(consumer.trade_ids(SYMBOLS[1])) >= 60)
    for symbol in SYMBOLS:
        assert _consecutive(consumer.trade_ids(symbol))
    assert adapter.stats().received == sent


async def test_pings_pongs_and_telemetry(make_stream: StreamFactory, driver: Driver, hub: StreamHub) -> None:
    telemetry = in_memory_telemetry()
    adapter = make_stream(
        telemetry=StreamTelemetry(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        ),
        lag_sample_every=1,
    )
    await adapter.subscribe(_topics())
    consumer = Consumer(adapter.events())
    await hub.wait_for(lambda: len(hub.open_connections) == 1)
    await hub.ping(b"are you there")
    await driver.run(5)
    await settle(lambda: hub.open_connections[0].pongs == [b"are you there"])
    await settle(lambda: len(consumer.trade_ids(SYMBOLS[0])) >= 5)

    points = {(p.name, tuple(sorted(p.attributes.items()))): p for p in telemetry.metric_points()}
    assert points[("binance.stream.connects", (("outcome", "success"),))].value == 1
    assert points[("binance.stream.events", (("kind", "trade"),))].value >= 10
    assert points[("binance.stream.lag", (("kind", "trade"),))].value >= 1
    assert points[("binance.stream.connections", (("state", "connected"),))].value == 1
    (span,) = telemetry.spans_named("MarketStreamPort.connect")
    assert span.attributes is not None
    assert span.attributes["stream.count"] == 6
    assert "?" not in str(span.attributes["server.address"])
