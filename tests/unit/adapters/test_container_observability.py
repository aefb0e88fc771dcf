"""The container builds telemetry, logging, alert sinks and the health monitor from the configuration."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from adapters.alerts import FanOutAlertSink, LoggingAlertSink, WebhookAlertSink
from adapters.container import Container
from adapters.settings import load_config
from adapters.telemetry import TelemetryHandle
from domain import Symbol


def _container(environ: dict[str, str]) -> Container:
    container = Container()
    container.config.from_dict(load_config({"BINANCE_GATEWAY_ADAPTER": "fake", **environ}, env_file=None))
    return container


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_the_telemetry_resource_builds_sdk_providers_and_shuts_them_down() -> None:
    container = _container({"OTEL_SERVICE_NAME": "gw-test"})

    handle = container.telemetry()
    assert isinstance(handle, TelemetryHandle)
    assert isinstance(handle.tracer_provider, TracerProvider)
    assert handle.tracer_provider.resource.attributes["service.name"] == "gw-test"
    assert container.tracer_provider() is handle.tracer_provider
    container.shutdown_resources()


def test_log_records_pass_the_secret_scrubber_before_they_are_formatted() -> None:
    container = _container({"BINANCE_GATEWAY_LOG_LEVEL": "DEBUG"})
    handler = container.logging_handler()
    out = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)

    logging.getLogger("adapters.binance.client").debug("GET /api/v3/account?timestamp=1&signature=abcdef0123")

    line = json.loads(out.getvalue())
    assert line["message"] == "GET /api/v3/account?timestamp=1&signature=***"
    assert line["level"] == "debug"


def test_alerts_go_to_the_log_and_to_the_webhook_only_when_one_is_configured() -> None:
    plain = _container({}).alert_sink()
    with_hook = _container({"BINANCE_GATEWAY_ALERT_WEBHOOK": "https://hooks.example.com/T0KEN"}).alert_sink()

    assert isinstance(plain, FanOutAlertSink)
    assert [type(s) for s in plain.sinks] == [LoggingAlertSink]
    assert isinstance(with_hook, FanOutAlertSink)
    assert [type(s) for s in with_hook.sinks] == [LoggingAlertSink, WebhookAlertSink]
    assert with_hook.sinks[1].target == "https://hooks.example.com"  # type: ignore[attr-defined]


async def test_prices_fetched_by_the_services_feed_the_freshness_figures() -> None:
    container = _container({})
    btc = Symbol("BTCUSDT")

    quotes = await container.market_data_service().fetch_quotes([btc])

    (fresh,) = await container.data_quality().data_freshness()
    assert fresh.symbol == btc
    assert fresh.newest_price_ms == quotes[0].as_of_ms
