"""The composition root: the one place that chooses adapters and builds the services.

``config`` is fed with ``adapters.settings.load_config(...)`` through ``config.from_dict``. ``config.adapter``
selects the exchange adapter (``fake`` or ``binance``) behind both ports. Tests swap collaborators with
``.override()`` (for example ``container.clock.override(FakeClock(...))``), never by patching.

Provider names other modules rely on: ``config``, ``clock``, ``fake_exchange``, ``binance_exchange``,
``market_data`` (the selected ``MarketDataPort``), ``account`` (the selected ``AccountPort``),
``market_data_service``, ``account_service``, ``snapshot_service``, ``telemetry`` (a Resource: the
OpenTelemetry SDK set-up; override it with ``adapters.telemetry.testing.in_memory_telemetry()`` in tests),
``log_filters``, ``logging_handler``, ``data_quality``, ``alert_sink``, ``exchange_status``,
``health_monitor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from dependency_injector import containers, providers

from adapters.alerts import FanOutAlertSink, LoggingAlertSink, WebhookAlertSink
from adapters.binance.secrets import redacting_filter
from adapters.clock import SystemClock
from adapters.memory import FakeExchange
from adapters.settings import health_thresholds
from adapters.telemetry import TelemetrySettings, configure_logging, telemetry_resource
from application import AccountService, MarketDataService, SnapshotService
from application.data_quality import DataQualityMetrics
from application.health import HealthMonitor
from domain import ConfigurationError
from ports import AlertSink, ExchangeStatusPort

__all__ = ["Container"]


def _binance_not_wired() -> NoReturn:
    msg = "the binance adapter is not available in this build"
    raise ConfigurationError(msg + "; use --adapter fake (or BINANCE_GATEWAY_ADAPTER=fake)")


def _telemetry_settings(values: Mapping[str, Any]) -> TelemetrySettings:
    return TelemetrySettings(**values)


def _alert_sink(alerts: Mapping[str, Any], service: str) -> AlertSink:
    """Alerts always go to the log; also to the webhook when ``BINANCE_GATEWAY_ALERT_WEBHOOK`` is set."""
    sinks: list[AlertSink] = [LoggingAlertSink()]
    if alerts["webhook_url"]:
        sinks.append(
            WebhookAlertSink(
                alerts["webhook_url"],
                timeout_s=alerts["webhook_timeout"],
                attempts=alerts["webhook_attempts"],
                service=service,
            )
        )
    return FanOutAlertSink(sinks)


class Container(containers.DeclarativeContainer):
    """Everything a run needs, built on first use; ``shutdown_resources()`` closes what was opened."""

    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)

    # The OpenTelemetry SDK, from the OTEL_* settings; flushed and shut down by shutdown_resources(). It
    # becomes the process-wide provider only when something is exported (see adapters.telemetry.setup).
    telemetry_settings = providers.Factory(_telemetry_settings, config.telemetry)
    telemetry = providers.Resource(telemetry_resource, settings=telemetry_settings)
    tracer_provider = telemetry.provided.tracer_provider
    meter_provider = telemetry.provided.meter_provider

    # Every log record passes these filters before it is formatted (the exchange adapter's secret scrubber).
    log_filters = providers.List(providers.Callable(redacting_filter))
    logging_handler = providers.Callable(configure_logging, level=config.log_level, filters=log_filters)

    fake_exchange = providers.Singleton(FakeExchange, clock=clock, seed=config.fake.seed.as_int())

    # binance: wired by adapters/binance
    binance_exchange = providers.Singleton(_binance_not_wired)

    market_data = providers.Selector(config.adapter, fake=fake_exchange, binance=binance_exchange)
    account = providers.Selector(config.adapter, fake=fake_exchange, binance=binance_exchange)

    market_data_service = providers.Factory(MarketDataService, market=market_data, clock=clock)
    account_service = providers.Factory(AccountService, account=account)
    # store: wired by the storage layer (SnapshotService takes an optional ``store``).
    snapshot_service = providers.Factory(SnapshotService, market=market_data, account=account, clock=clock)

    # Health: data-quality figures of this process, alert sinks, and the monitor behind ``health``.
    data_quality = providers.Singleton(DataQualityMetrics, clock=clock, meter_provider=meter_provider)
    alert_sink = providers.Singleton(_alert_sink, config.alerts, config.telemetry.service_name)
    # The exchange adapter's own figures (an ``ExchangeStatusPort``); without them the monitor leaves out
    # error rate and weight usage and takes ban and clock offset from its probes.
    exchange_status: providers.Provider[ExchangeStatusPort | None] = providers.Object(None)
    health_monitor = providers.Factory(
        HealthMonitor,
        market=market_data,
        clock=clock,
        alerts=alert_sink,
        thresholds=providers.Callable(health_thresholds, config.health.thresholds),
        probes=config.health.probes.as_int(),
        exchange_status=exchange_status,
        freshness=data_quality,
        streams=data_quality,
        tracer_provider=tracer_provider,
    )
