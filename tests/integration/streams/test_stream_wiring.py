"""The composition root wires streams: the adapter chosen, its URL rules, stream state in the health check."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from dependency_injector import providers

from adapters.binance import RetryPolicy
from adapters.container import Container
from adapters.memory.streams import FakeMarketStream
from adapters.settings import load_config
from adapters.streams import BinanceStreamAdapter
from adapters.telemetry.testing import in_memory_telemetry
from domain import ConfigurationError, Status, StreamTopic
from tests.integration.streams.conftest import SYMBOLS, ManualClock, settle
from tests.loopback import LoopbackExchange
from tests.loopback.streams import StreamHub


def _container(environ: dict[str, Any]) -> Container:
    container = Container()
    container.config.from_dict(load_config(environ, env_file=None))
    container.telemetry.override(providers.Object(in_memory_telemetry()))
    container.binance_retry.override(providers.Object(RetryPolicy.instant()))
    return container


def test_the_adapter_setting_selects_the_stream() -> None:
    fake = _container({"BINANCE_GATEWAY_ADAPTER": "fake"})
    binance = _container({"BINANCE_GATEWAY_ADAPTER": "binance"})

    assert isinstance(fake.market_stream(), FakeMarketStream)
    stream = binance.market_stream()
    assert isinstance(stream, BinanceStreamAdapter)
    assert stream.settings.url == "wss://stream.testnet.binance.vision"
    assert binance.market_stream() is not stream  # one per use: the service that opens it closes it


def test_a_production_stream_url_needs_production_chosen_explicitly() -> None:
    container = _container({"BINANCE_STREAM_URL": "wss://stream.binance.com:9443"})

    with pytest.raises(ConfigurationError, match="BINANCE_STREAM_URL points at production"):
        container.market_stream()


def test_stream_settings_come_from_the_environment() -> None:
    container = _container(
        {
            "BINANCE_STREAM_URL": "ws://127.0.0.1:1",
            "BINANCE_STREAM_SILENCE_SECONDS": "7",
            "BINANCE_STREAM_BUFFER": "9",
        }
    )

    settings = container.stream_settings()

    assert (settings.url, settings.silence_timeout_s, settings.buffer_size) == ("ws://127.0.0.1:1", 7.0, 9)


async def test_the_health_check_reports_each_stream_connection(
    exchange: LoopbackExchange, hub: StreamHub, clock: ManualClock
) -> None:
    container = _container(
        {
            "BINANCE_GATEWAY_ADAPTER": "binance",
            "BINANCE_BASE_URL": exchange.base_url,
            "BINANCE_STREAM_URL": hub.url,
        }
    )
    container.clock.override(clock)
    service = container.market_stream_service()
    events = service.events(StreamTopic.trades(SYMBOLS))
    reader = asyncio.ensure_future(anext(events))  # starts the subscription
    await settle(lambda: [c.state.value for c in service.stream.stream_connections()] == ["connected"])

    report = await container.health_monitor().check()
    hub.refuse(503)  # it stays down while the check runs
    await hub.disconnect(abrupt=True)
    await settle(lambda: [c.state.value for c in service.stream.stream_connections()] != ["connected"])
    after = await container.health_monitor().check()
    await service.close()
    await reader
    await container.binance_exchange().aclose()

    signal = report.signal("stream:stream-1")
    assert signal is not None
    assert (signal.status, signal.message) == (Status.OK, "connected: 2 streams")
    lost = after.signal("stream:stream-1")
    assert lost is not None
    assert lost.status in {Status.DOWN, Status.DEGRADED}
    assert "network_error" in lost.message or "reconnecting" in lost.message
