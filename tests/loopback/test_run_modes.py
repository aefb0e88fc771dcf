"""The three ways to run the exchange: in the test's loop, in a background thread, in a subprocess."""

from __future__ import annotations

import contextlib

import httpx

from tests.loopback import Fault, LoopbackExchange
from tests.loopback.fixtures import AsyncExchangeFactory, ExchangeFactory, ProcessFactory


async def test_the_async_fixture_serves_on_loopback(loopback_exchange: LoopbackExchange) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{loopback_exchange.base_url}/api/v3/ping")

    assert loopback_exchange.base_url.startswith("http://127.0.0.1:")
    assert response.status_code == 200


async def test_the_async_factory_takes_constructor_options(
    loopback_exchange_factory: AsyncExchangeFactory,
) -> None:
    exchange = await loopback_exchange_factory(weight_limit=50, weight_interval="1s", clock_skew_ms=-3_000)

    assert exchange.limiter.limits[0].header == "X-MBX-USED-WEIGHT-1S"
    assert exchange.clock_skew_ms == -3_000


def test_the_thread_fixture_serves_synchronous_clients(loopback_exchange_thread: LoopbackExchange) -> None:
    loopback_exchange_thread.inject(Fault.http_status(503))

    with httpx.Client(base_url=loopback_exchange_thread.base_url) as client:
        first = client.get("/api/v3/time")
        second = client.get("/api/v3/time")

    assert (first.status_code, second.status_code) == (503, 200)
    assert [r.status for r in loopback_exchange_thread.requests] == [503, 200]


def test_a_thread_run_releases_its_hanging_requests_when_stopped(
    loopback_exchange_thread_factory: ExchangeFactory,
) -> None:
    exchange = loopback_exchange_thread_factory(hang_seconds=60)
    exchange.inject(Fault.hang())

    with (
        httpx.Client(base_url=exchange.base_url, timeout=0.2) as client,
        contextlib.suppress(httpx.ReadTimeout),
    ):
        client.get("/api/v3/ping")
    exchange.stop_thread()

    assert exchange.requests[0].fault == "hang"


def test_a_thread_run_can_restart_in_a_with_block() -> None:
    with LoopbackExchange(seed=1) as exchange, httpx.Client(base_url=exchange.base_url) as client:
        price = client.get("/api/v3/ticker/price", params={"symbol": "BTCUSDT"}).json()

    assert price["symbol"] == "BTCUSDT"


def test_the_subprocess_prints_its_url_and_obeys_the_control_api(
    loopback_process_factory: ProcessFactory,
) -> None:
    process = loopback_process_factory("--weight-limit", "100", "--weight-interval", "10s", "--seed", "4")
    key = process.add_hmac_key()
    process.inject(Fault.http_status(502, body="html"), path="/api/v3/time")

    with httpx.Client(base_url=process.base_url) as client:
        faulted = client.get("/api/v3/time")
        server_time = client.get("/api/v3/time").json()["serverTime"]
        account = client.get(
            f"/api/v3/account?{key.signed_query({'timestamp': str(server_time)})}",
            headers={"X-MBX-APIKEY": key.api_key},
        )

    state = process.state()
    assert faulted.status_code == 502
    assert account.status_code == 200
    assert account.headers["X-MBX-USED-WEIGHT-10S"] in (
        "20",
        "21",
    )  # the real-time window may just have rolled
    assert state["status_counts"] == {"200": 2, "502": 1}
    assert [r["path"] for r in process.requests()] == ["/api/v3/time"] * 2 + ["/api/v3/account"]
