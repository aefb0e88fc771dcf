"""The composition root: the one place that chooses adapters and builds the services.

``config`` is fed with ``adapters.settings.load_config(...)`` through ``config.from_dict``. ``config.adapter``
selects the exchange adapter (``fake`` or ``binance``) behind both ports. Tests swap collaborators with
``.override()`` (for example ``container.clock.override(FakeClock(...))``), never by patching.

Provider names other modules rely on: ``config``, ``clock``, ``fake_exchange``, ``binance_exchange``,
``market_data`` (the selected ``MarketDataPort``), ``account`` (the selected ``AccountPort``),
``market_data_service``, ``account_service``, ``snapshot_service``, ``telemetry`` (a Resource: the
OpenTelemetry SDK set-up; override it with ``adapters.telemetry.testing.in_memory_telemetry()`` in tests),
``log_filters``, ``logging_handler``, ``data_quality``, ``alert_sink``, ``exchange_status``,
``health_monitor``, ``market_data_store`` (the ``MarketDataStore`` that ``config.db`` names, opened on
first use), ``backfill_service``, ``collector``, ``snapshot_store``, ``market_stream`` (the selected
``MarketStreamPort``, a new one per use), ``market_stream_service``, ``stream_feed`` (the collector's
streaming feed factory), ``stream_settings``, ``binance_stream``, ``fake_stream``;
for the Binance adapter ``binance_settings``, ``binance_http``, ``binance_http_lifetime``,
``binance_clock_sync``, ``binance_limiter``, ``binance_retry``, ``binance_telemetry``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from adapters.alerts import FanOutAlertSink, LoggingAlertSink, WebhookAlertSink
from adapters.binance import (
    BinanceRestAdapter,
    BinanceSettings,
    BinanceTelemetry,
    ClockSync,
    RetryPolicy,
    WeightLimiter,
    close_on_shutdown,
    new_http_client,
)
from adapters.binance.secrets import redacting_filter
from adapters.clock import SystemClock
from adapters.memory import FakeExchange
from adapters.memory.streams import FakeMarketStream
from adapters.settings import health_thresholds
from adapters.storage import is_postgres_url, market_data_store_resource
from adapters.streams import BinanceStreamAdapter, StreamSettings, StreamTelemetry
from adapters.telemetry import TelemetrySettings, configure_logging, telemetry_resource
from application import AccountService, MarketDataService, SnapshotService
from application.backfill import BackfillService
from application.collector import Collector
from application.data_quality import DataQualityMetrics, ObservedMarketData
from application.freshness import DeferredFreshness, NewestFreshness, StoredDataFreshness
from application.health import HealthMonitor
from application.snapshot_store import StoredSnapshots
from application.stream_feed import streaming_feed
from application.streaming import MarketStreamService
from domain import parse_symbols
from ports import AlertSink, Clock, ExchangeStatusPort, FreshnessSource

__all__ = ["Container", "OnFirstUse", "start_resources"]


class OnFirstUse(providers.Resource):  # type: ignore[type-arg]
    """A Resource that ``start_resources`` leaves alone: opened when first asked for, closed at shutdown."""


def start_resources(container: containers.Container) -> Awaitable[Any] | None:
    """Start every Resource of ``container`` except the ``OnFirstUse`` ones (``init_resources`` starts all).

    Returns an awaitable when some resource is asynchronous. ``shutdown_resources()`` closes whatever was
    started, by this or by first use.
    """
    pending = [
        started
        for provider in container.traverse(types=[providers.Resource])
        if not isinstance(provider, OnFirstUse)
        and inspect.isawaitable(started := provider.init())
    ]
    return asyncio.gather(*pending) if pending else None


def _stream_settings(binance: BinanceSettings, streams: Mapping[str, Any]) -> StreamSettings:
    """The stream adapter's settings; its URL was checked against the environment with the REST one."""
    return StreamSettings.from_mapping(streams, url=binance.stream_url, ca_bundle=binance.ca_bundle)


def _telemetry_settings(values: Mapping[str, Any]) -> TelemetrySettings:
    return TelemetrySettings(**values)


def _health_freshness(
    quality: DataQualityMetrics,
    store: Callable[[], Any],
    db: str,
    clock: Clock,
    symbols: Sequence[str],
    *,
    enabled: bool,
) -> FreshnessSource:
    """What this process saw, merged with the store's newest data when the store exists and
    ``health.store_freshness`` is on (the store is opened on first use; no database file is created)."""
    if not enabled or (not is_postgres_url(db) and not Path(db).expanduser().exists()):
        return quality

    async def open_stored() -> FreshnessSource:
        opened = store()
        stored = await opened if inspect.isawaitable(opened) else opened
        return StoredDataFreshness(stored, clock, parse_symbols(symbols))

    return NewestFreshness([quality, DeferredFreshness(open_stored)])


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

    # binance: the REST adapter. The pooled HTTP client is a Singleton (building it opens nothing, so a run
    # with the fake adapter never touches the network) and ``binance_http_lifetime`` is the Resource that
    # closes it on shutdown_resources(). Settings are validated when the adapter is first built. Tests
    # override ``binance_http`` (an httpx.AsyncClient over a MockTransport) and ``binance_retry``
    # (``RetryPolicy.instant()``).
    binance_settings = providers.Singleton(BinanceSettings.from_mapping, config.binance)
    binance_http = providers.Singleton(
        new_http_client,
        connect_timeout=config.binance.connect_timeout.as_float(),
        read_timeout=config.binance.read_timeout.as_float(),
        pool_timeout=config.binance.pool_timeout.as_float(),
        ca_bundle=config.binance.ca_bundle,
    )
    binance_http_lifetime = providers.Resource(close_on_shutdown, binance_http)
    binance_clock_sync = providers.Singleton(
        ClockSync, refresh_interval_s=binance_settings.provided.clock_refresh_seconds
    )
    binance_limiter = providers.Singleton(WeightLimiter.synced_to, binance_clock_sync)
    binance_retry = providers.Singleton(
        RetryPolicy.from_settings,
        max_retries=binance_settings.provided.max_retries,
        retry_max_seconds=binance_settings.provided.retry_max_seconds,
    )
    binance_telemetry = providers.Singleton(
        BinanceTelemetry, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    binance_exchange = providers.Singleton(
        BinanceRestAdapter,
        http=binance_http,
        settings=binance_settings,
        limiter=binance_limiter,
        clock=binance_clock_sync,
        retry=binance_retry,
        telemetry=binance_telemetry,
    )

    market_data = providers.Selector(config.adapter, fake=fake_exchange, binance=binance_exchange)
    account = providers.Selector(config.adapter, fake=fake_exchange, binance=binance_exchange)

    # Data-quality figures of this process: every price and candle the services fetch passes through
    # ``observed_market`` and updates the freshness gauges the health check also reads.
    data_quality = providers.Singleton(DataQualityMetrics, clock=clock, meter_provider=meter_provider)
    observed_market = providers.Factory(ObservedMarketData, market=market_data, quality=data_quality)

    # The market-data store named by ``config.db`` (a file: SQLite; a postgresql:// URL: PostgreSQL), a
    # Resource: opened and migrated on first use, closed by shutdown_resources(). Async: ``await`` it.
    # ``OnFirstUse``: ``start_resources`` leaves it closed, so commands that store nothing never open it.
    # Whether an SQLite store writes on the event loop's thread (see ``adapters.sqlite.storage``): a command
    # whose loop does nothing but fetch and store overrides it with ``providers.Object(True)`` (``backfill``).
    store_writes_on_loop = providers.Object(False)
    market_data_store = OnFirstUse(
        market_data_store_resource, db=config.db, write_on_loop=store_writes_on_loop
    )
    market_data_service = providers.Factory(
        MarketDataService,
        market=observed_market,
        clock=clock,
        tracer_provider=tracer_provider,
        store=market_data_store.provider,  # opened on the first ``load_klines_frame``
    )
    account_service = providers.Factory(AccountService, account=account, tracer_provider=tracer_provider)
    # Backfill and collection write into the store, so building them opens it: ``await`` them. Backfill
    # reads history, so it takes the exchange directly; the collector reports to ``data_quality`` itself.
    backfill_service = providers.Factory(
        BackfillService,
        market=market_data,
        store=market_data_store,
        clock=clock,
        tracer_provider=tracer_provider,
    )
    collector = providers.Factory(
        Collector,
        market=market_data,
        store=market_data_store,
        clock=clock,
        quality=data_quality,
        tracer_provider=tracer_provider,
    )
    # Streams: the WebSocket adapter (binance) or the fake exchange's stream (fake), a new one for each
    # command that streams (the service closes it). Each connection's state goes to ``data_quality``, which
    # the health monitor reads as its stream signal. ``stream_feed(symbols=, intervals=)`` is the feed
    # factory that makes ``collect`` stream, with REST polling as its fallback.
    stream_settings = providers.Singleton(_stream_settings, binance=binance_settings, streams=config.streams)
    binance_stream = providers.Factory(
        BinanceStreamAdapter,
        settings=stream_settings,
        clock=clock,
        telemetry=providers.Factory(
            StreamTelemetry, tracer_provider=tracer_provider, meter_provider=meter_provider
        ),
        on_state=data_quality.provided.set_stream_state,
    )
    fake_stream = providers.Factory(FakeMarketStream, clock=clock, seed=config.fake.seed.as_int())
    market_stream = providers.Selector(config.adapter, fake=fake_stream, binance=binance_stream)
    market_stream_service = providers.Factory(
        MarketStreamService,
        stream=market_stream,
        market=market_data,
        clock=clock,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    stream_feed = providers.Factory(
        streaming_feed, service=market_stream_service, market=market_data, tracer_provider=tracer_provider
    )
    # Every snapshot is saved; ``snapshot_store`` opens the store on the first save and keeps the outcome.
    snapshot_store = providers.Singleton(StoredSnapshots, store=market_data_store.provider)
    snapshot_service = providers.Factory(
        SnapshotService,
        market=observed_market,
        account=account,
        clock=clock,
        store=snapshot_store,
        tracer_provider=tracer_provider,
    )

    # Health: alert sinks, and the monitor behind ``health``.
    alert_sink = providers.Singleton(_alert_sink, config.alerts, config.telemetry.service_name)
    # The exchange adapter's own figures (an ``ExchangeStatusPort``); without them the monitor leaves out
    # error rate and weight usage and takes ban and clock offset from its probes.
    exchange_status: providers.Provider[ExchangeStatusPort | None] = providers.Selector(
        config.adapter, fake=providers.Object(None), binance=binance_exchange
    )
    health_freshness = providers.Factory(
        _health_freshness,
        quality=data_quality,
        store=market_data_store.provider,
        db=config.db,
        clock=clock,
        symbols=config.symbols,
        enabled=config.health.store_freshness,
    )
    health_monitor = providers.Factory(
        HealthMonitor,
        market=market_data,
        clock=clock,
        alerts=alert_sink,
        thresholds=providers.Callable(health_thresholds, config.health.thresholds),
        probes=config.health.probes.as_int(),
        exchange_status=exchange_status,
        freshness=health_freshness,
        streams=data_quality,
        tracer_provider=tracer_provider,
    )
