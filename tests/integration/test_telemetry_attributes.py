"""No span or metric attribute can carry a query string, an API key or a signature.

Calls go through the real Binance adapter to the loopback exchange with a canary key and secret, including
signed calls, retried failures, an unknown symbol and a ban; every span (name, attributes, events, status)
and every metric point the SDK's in-memory exporter and reader hold is then scanned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from adapters.binance.adapter import BinanceRestAdapter
from adapters.binance.retry import RetryPolicy
from adapters.binance.settings import BinanceSettings
from adapters.binance.telemetry import BinanceTelemetry
from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from domain import DEFAULT_SYMBOLS, GatewayError, Interval, IPBannedError, Symbol
from tests.loopback.faults import Fault
from tests.loopback.server import LoopbackExchange

CANARY_KEY = "CanaryApiKey" + "7" * 52
CANARY_SECRET = "CanarySecret" + "3" * 52
FORBIDDEN = (
    CANARY_KEY,
    CANARY_SECRET,
    "Canary",
    "signature",
    "timestamp=",
    "recvWindow",
    "?",
    "&",
    "X-MBX-APIKEY",
)


@pytest.fixture
async def adapter(
    loopback_exchange: LoopbackExchange, telemetry: InMemoryTelemetry
) -> AsyncIterator[BinanceRestAdapter]:
    loopback_exchange.add_hmac_key(CANARY_KEY, CANARY_SECRET)
    settings = BinanceSettings.from_mapping(
        {"base_url": loopback_exchange.base_url, "api_key": CANARY_KEY, "api_secret": CANARY_SECRET}
    )
    observed = BinanceTelemetry(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    adapter = BinanceRestAdapter(
        httpx.AsyncClient(), settings, retry=RetryPolicy.instant(), telemetry=observed
    )
    yield adapter
    await adapter.aclose()


@pytest.fixture
def telemetry() -> InMemoryTelemetry:
    return in_memory_telemetry()


def _values(value: object) -> Iterator[str]:
    if isinstance(value, str | bytes):
        yield value if isinstance(value, str) else value.decode(errors="replace")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    else:
        yield str(value)


def _texts(telemetry: InMemoryTelemetry) -> Iterator[tuple[str, str]]:
    for span in telemetry.spans():
        yield f"span {span.name}", span.name
        for key, value in (span.attributes or {}).items():
            for text in (key, *_values(value)):
                yield f"span {span.name} attribute {key}", text
        for event in span.events:
            for key, value in (event.attributes or {}).items():
                for text in (key, *_values(value)):
                    yield f"span {span.name} event {event.name}", text
        if span.status.description:
            yield f"span {span.name} status", span.status.description
    for point in telemetry.metric_points():
        for key, value in point.attributes.items():
            for text in (key, *_values(value)):
                yield f"metric {point.name} attribute {key}", text


async def _exercise(adapter: BinanceRestAdapter, exchange: LoopbackExchange) -> None:
    await adapter.get_server_time()
    await adapter.get_symbol_tickers(DEFAULT_SYMBOLS)
    await adapter.get_kline_data(Symbol("BTCUSDT"), Interval.MINUTE_1, limit=5)
    await adapter.get_account_info()
    exchange.inject(Fault.http_status(503), times=2)
    await adapter.get_account_info()
    with pytest.raises(GatewayError):
        await adapter.get_symbol_ticker(Symbol("NOSUCHPAIR"))
    exchange.inject(Fault.banned(retry_after=60), path="/api/v3/account")
    with pytest.raises(IPBannedError):
        await adapter.get_account_info()


async def test_no_attribute_carries_a_key_a_signature_or_a_query_string(
    adapter: BinanceRestAdapter, loopback_exchange: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    await _exercise(adapter, loopback_exchange)

    texts = list(_texts(telemetry))
    leaks = [(where, text) for where, text in texts for bad in FORBIDDEN if bad in text]

    assert leaks == []
    # The scan saw the signed calls, the failures and the metrics, so it could have found a leak.
    names = {span.name for span in telemetry.spans()}
    assert {
        "HTTP GET /api/v3/account",
        "AccountPort.get_account_info",
        "HTTP GET /api/v3/ticker/price",
    } <= names
    assert any(where.startswith("metric binance.errors") for where, _ in texts)
    assert ("span HTTP GET /api/v3/account attribute url.path", "/api/v3/account") in texts


async def test_the_scan_would_catch_a_leak(telemetry: InMemoryTelemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("leaky")
    with tracer.start_as_current_span("HTTP GET /api/v3/account", attributes={"url.full": "/x?signature=1"}):
        pass

    assert [where for where, text in _texts(telemetry) if "signature" in text] == [
        "span HTTP GET /api/v3/account attribute url.full"
    ]
