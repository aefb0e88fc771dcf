"""The composition root builds the Binance adapter from the configuration; tests swap its HTTP client and
retry policy with ``.override()``, and shutting the container down closes the pooled client."""

from __future__ import annotations

import httpx
from dependency_injector import providers

from adapters.binance import BinanceRestAdapter, RetryPolicy
from adapters.container import Container
from adapters.settings import load_config
from domain import Symbol
from tests.unit.adapters.binance.conftest import HMAC_KEY, HMAC_SECRET, FakeExchange, error, ok


def container_for(environ: dict[str, str]) -> Container:
    container = Container()
    base = {"BINANCE_GATEWAY_ADAPTER": "binance", "BINANCE_BASE_URL": "http://127.0.0.1:9"}
    container.config.from_dict(load_config({**base, **environ}, env_file=None))
    return container


async def test_the_services_run_on_the_binance_adapter_with_overridden_collaborators() -> None:
    exchange = FakeExchange()
    prices = [{"symbol": "ETHUSDT", "price": "3120.5"}, {"symbol": "BTCUSDT", "price": "64250.1"}]
    exchange.on("/api/v3/ticker/price", [error(502, -1001), ok(prices)])
    container = container_for({"BINANCE_API_KEY": HMAC_KEY, "BINANCE_API_SECRET": HMAC_SECRET})
    client = httpx.AsyncClient(transport=httpx.MockTransport(exchange.handle))
    container.binance_http.override(providers.Object(client))
    container.binance_retry.override(providers.Object(RetryPolicy.instant()))
    await container.init_resources()  # type: ignore[misc]

    quotes = await container.market_data_service().fetch_quotes([Symbol("BTCUSDT"), Symbol("ETHUSDT")])
    adapter = container.market_data()
    status = container.exchange_status()

    assert [str(q.price) for q in quotes] == ["64250.1", "3120.5"]
    assert isinstance(adapter, BinanceRestAdapter)
    assert container.account() is adapter
    assert adapter.has_credentials
    assert status is adapter
    await container.shutdown_resources()  # type: ignore[misc]
    assert client.is_closed


def test_a_run_with_the_fake_adapter_never_validates_binance_settings() -> None:
    container = container_for({"BINANCE_GATEWAY_ADAPTER": "fake", "BINANCE_API_KEY": "not a key"})

    assert not isinstance(container.market_data(), BinanceRestAdapter)
    assert container.exchange_status() is None
