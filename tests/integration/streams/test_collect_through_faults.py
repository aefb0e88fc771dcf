"""``collect`` over the streams survives every stream fault with a complete, duplicate-free kline series.

Each test runs the collection pipeline (``Collector`` over ``StreamFeed``, REST as gap repair and fallback,
a SQLite store) against the loopback exchange, injects one fault, keeps the market moving, and then checks
the stored series candle by candle against the exchange's own REST series.
"""

from __future__ import annotations

import pytest

from domain import DisconnectReason
from tests.integration.streams.conftest import SYMBOLS, Collection, CollectionFactory, Driver, settle
from tests.loopback import LoopbackExchange
from tests.loopback.streams import StreamHub

pytestmark = pytest.mark.slow


def _klines_requests(exchange: LoopbackExchange) -> int:
    return len(exchange.requests_to("/api/v3/klines"))


async def _warm_up(collection: Collection, driver: Driver, hub: StreamHub) -> int:
    """Start collecting and run two minutes; returns the open time from which the series is checked."""
    await collection.start(hub)
    await driver.run(120)
    await collection.caught_up()
    return collection.live_opens(SYMBOLS[0])[0]


async def test_a_quiet_run_stores_every_candle_from_the_stream_alone(
    collection: Collection, driver: Driver, hub: StreamHub, exchange: LoopbackExchange
) -> None:
    since = await _warm_up(collection, driver, hub)
    before = _klines_requests(exchange)

    await driver.run(180)
    await collection.caught_up()
    await collection.stop()

    assert await collection.assert_complete(since) >= 2 * 4
    assert _klines_requests(exchange) == before  # nothing had to be repaired
    assert collection.stream.stats().reconnects == {}


async def test_an_abrupt_disconnect_is_repaired_over_rest(
    collection: Collection, driver: Driver, hub: StreamHub, exchange: LoopbackExchange
) -> None:
    since = await _warm_up(collection, driver, hub)
    before = _klines_requests(exchange)

    hub.refuse(503)  # the exchange stays unreachable for a while, so candles close unseen
    await hub.disconnect(abrupt=True)
    await driver.run(150)
    hub.refuse(None)
    await driver.until(lambda: len(hub.open_connections) == 1)
    await driver.run(70)
    await collection.caught_up()
    await collection.stop()

    assert await collection.assert_complete(since) > 0
    assert _klines_requests(exchange) > before
    assert collection.stream.stats().reconnects.get(DisconnectReason.NETWORK_ERROR.value) == 1
    assert hub.attempts >= 3  # refused attempts were retried with backoff


async def test_a_silent_stream_is_detected_and_replaced(
    collection: Collection, driver: Driver, hub: StreamHub
) -> None:
    # The pipeline's adapter notices silence after 1 s (see FAST): the stall must outlast it.
    since = await _warm_up(collection, driver, hub)

    assert hub.stall() == 1
    await driver.until(lambda: len(hub.connections) == 2 and len(hub.open_connections) == 1, pause_s=0.01)
    await driver.run(90)
    await collection.caught_up()
    await collection.stop()

    assert await collection.assert_complete(since) > 0
    assert collection.stream.stats().reconnects == {DisconnectReason.SILENCE.value: 1}


async def test_server_pings_are_answered_with_their_payload_and_nothing_is_lost(
    collection: Collection, driver: Driver, hub: StreamHub
) -> None:
    since = await _warm_up(collection, driver, hub)

    for payload in (b"first", b"", b"third"):
        assert await hub.ping(payload) == 1
        await driver.run(20)
    await settle(lambda: len(hub.open_connections[0].pongs) == 3)
    await collection.caught_up()
    await collection.stop()

    assert hub.connections[0].pongs == [b"first", b"", b"third"]
    assert await collection.assert_complete(since) > 0
    assert collection.stream.stats().reconnects == {}
    assert hub.violations == 0


async def test_a_shutdown_notice_hands_over_to_a_new_connection_without_a_gap(
    collection: Collection, driver: Driver, hub: StreamHub, exchange: LoopbackExchange
) -> None:
    since = await _warm_up(collection, driver, hub)
    before = _klines_requests(exchange)

    assert await hub.shutdown_notice() == 1
    await driver.until(lambda: len(hub.connections) == 2 and len(hub.open_connections) == 1)
    await driver.run(90)
    await collection.caught_up()
    await collection.stop()

    assert await collection.assert_complete(since) > 0
    assert _klines_requests(exchange) == before  # the handover missed nothing, so nothing was fetched
    assert collection.stream.stats().reconnects == {DisconnectReason.SERVER_SHUTDOWN.value: 1}


async def test_connections_are_replaced_before_their_lifetime_ends_without_a_gap(
    make_collection: CollectionFactory, driver: Driver, hub: StreamHub, exchange: LoopbackExchange
) -> None:
    # The 24-hour limit, shortened: the server cuts connections at 1.5 s; the client replaces them at 0.7 s.
    hub.lifetime_s = 1.5
    collection = await make_collection(lifetime_s=1.5, rollover_margin_s=0.8, rollover_jitter_s=0.0)
    since = await _warm_up(collection, driver, hub)
    before = _klines_requests(exchange)

    await driver.until(lambda: len(hub.connections) >= 4, pause_s=0.01)
    await driver.run(60)
    await collection.caught_up()
    await collection.stop()

    assert await collection.assert_complete(since) > 0
    assert _klines_requests(exchange) == before
    reasons = collection.stream.stats().reconnects
    assert set(reasons) == {DisconnectReason.LIFETIME.value}
    assert reasons[DisconnectReason.LIFETIME.value] >= 3


async def test_malformed_messages_are_counted_and_the_stream_goes_on(
    collection: Collection, driver: Driver, hub: StreamHub
) -> None:
    since = await _warm_up(collection, driver, hub)

    await hub.send_raw("this is not JSON")
    await hub.send_raw('{"stream":"btcusdt@kline_1m","data":{"e":"kline","s":"BTCUSDT"}}')
    await hub.send_raw(
        '{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","s":"BTCUSDT",'
        '"E":1,"c":1.5,"o":"1","h":"1","l":"1","v":"1","q":"1"}}'
    )
    await hub.send_raw(b"\x00\x01binary")
    await hub.send_raw('{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT"}}')
    await driver.run(90)
    await collection.caught_up()
    await collection.stop()

    stats = collection.stream.stats()
    assert (stats.malformed, stats.unsupported) == (4, 1)
    assert stats.reconnects == {}
    assert await collection.assert_complete(since) > 0
