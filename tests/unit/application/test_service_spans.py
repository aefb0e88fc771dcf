"""Each service call opens one span named ``<service>.<method>``, through the container's tracer provider."""

from __future__ import annotations

from adapters.container import Container
from adapters.telemetry.testing import InMemoryTelemetry
from application import AccountService, MarketDataService, SnapshotService
from tests.unit.application.conftest import MINUTE_MS, NOW_MS


async def test_market_data_calls_are_traced_with_their_figures(
    container: Container, telemetry: InMemoryTelemetry
) -> None:
    service = container.market_data_service()
    assert isinstance(service, MarketDataService)
    start_ms = NOW_MS - NOW_MS % MINUTE_MS - 1_500 * MINUTE_MS

    await service.fetch_current_prices(["BTCUSDT", "ETHUSDT"])
    await service.fetch_historical_klines("BTCUSDT", "1m", start_ms, start_ms + 1_499 * MINUTE_MS)

    (prices,) = telemetry.spans_named("MarketDataService.fetch_quotes")
    assert prices.attributes is not None
    assert prices.attributes["symbols.count"] == 2
    (history,) = telemetry.spans_named("MarketDataService.fetch_historical_klines")
    assert history.attributes is not None
    assert history.attributes["kline.count"] == 1_500
    pages = telemetry.spans_named("MarketDataService.iter_kline_pages")
    assert [p.attributes["kline.count"] for p in pages if p.attributes is not None] == [1000, 500]


async def test_account_and_snapshot_calls_are_traced(
    container: Container, telemetry: InMemoryTelemetry
) -> None:
    account = container.account_service()
    snapshot = container.snapshot_service(store=None)
    assert isinstance(account, AccountService)
    assert isinstance(snapshot, SnapshotService)

    await account.get_account_info()
    await snapshot.take(["BTCUSDT"], kline_count=5)

    assert len(telemetry.spans_named("AccountService.get_account_info")) == 1
    (taken,) = telemetry.spans_named("SnapshotService.take")
    assert taken.attributes is not None
    assert taken.attributes["validation.problems"] == 0
