"""Fault injection: every scripted failure, path filters, the failure rate, latency and the request log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.loopback import Fault, LoopbackExchange, ManualTime

NOW = 1_767_225_600_000


@pytest_asyncio.fixture
async def exchange() -> AsyncIterator[LoopbackExchange]:
    async with LoopbackExchange(time_source=ManualTime(NOW), hang_seconds=30) as exchange:
        yield exchange


@pytest_asyncio.fixture
async def client(exchange: LoopbackExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=exchange.base_url) as client:
        yield client


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_with_a_binance_or_an_html_body(
    exchange: LoopbackExchange, client: httpx.AsyncClient, status: int
) -> None:
    exchange.inject(Fault.http_status(status))
    exchange.inject(Fault.http_status(status, body="html"))

    binance = await client.get("/api/v3/time")
    html = await client.get("/api/v3/time")
    healthy = await client.get("/api/v3/time")

    assert binance.status_code == status
    assert binance.json()["code"] == -1001
    assert html.status_code == status
    assert html.headers["Content-Type"].startswith("text/html")
    assert f"{status}".encode() in html.content
    assert b"cloudfront" in html.content
    assert healthy.status_code == 200
    assert "X-MBX-USED-WEIGHT-1M" in binance.headers
    assert "X-MBX-USED-WEIGHT-1M" in html.headers


@pytest.mark.parametrize(("code", "status"), [(-1001, 500), (-1003, 429), (-1007, 408), (-1006, 500)])
async def test_binance_error_bodies(
    exchange: LoopbackExchange, client: httpx.AsyncClient, code: int, status: int
) -> None:
    exchange.inject(Fault.binance_error(code))

    response = await client.get("/api/v3/ping")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["msg"]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.reset(), httpx.ReadError),
        (Fault.disconnect(), httpx.RemoteProtocolError),
        (Fault.partial_body(), httpx.RemoteProtocolError),
    ],
    ids=["reset", "disconnect", "partial-body"],
)
async def test_connection_failures(
    exchange: LoopbackExchange, client: httpx.AsyncClient, fault: Fault, error: type[Exception]
) -> None:
    exchange.inject(fault, path="/api/v3/exchangeInfo")

    with pytest.raises(error):
        await client.get("/api/v3/exchangeInfo")
    after = await client.get("/api/v3/exchangeInfo")

    assert after.status_code == 200
    assert exchange.requests[0].fault == fault.kind


async def test_a_hang_outlasts_the_client_timeout_and_is_released_at_once(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.inject(Fault.hang())

    with pytest.raises(httpx.ReadTimeout):
        await client.get("/api/v3/ping", timeout=0.2)
    exchange.release_hangs()
    after = await client.get("/api/v3/ping")

    assert after.status_code == 200
    assert exchange.requests[0].status is None


async def test_a_hang_with_a_duration_answers_late(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.inject(Fault.hang(seconds=0.01))

    response = await client.get("/api/v3/ping")

    assert response.status_code == 200


async def test_truncated_and_non_json_bodies(exchange: LoopbackExchange, client: httpx.AsyncClient) -> None:
    exchange.inject(Fault.truncated_json())
    exchange.inject(Fault.non_json())

    truncated = await client.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10")
    garbage = await client.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10")

    assert truncated.status_code == garbage.status_code == 200
    assert truncated.content.startswith(b"[[")
    for body in (truncated.content, garbage.content):
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)


async def test_the_waf_page_is_an_html_403(exchange: LoopbackExchange, client: httpx.AsyncClient) -> None:
    exchange.inject(Fault.waf_403())

    response = await client.get("/api/v3/ping")

    assert response.status_code == 403
    assert b"Request blocked" in response.content


async def test_scripted_429_and_418_carry_retry_after(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.inject(Fault.rate_limited(retry_after=3))
    exchange.inject(Fault.banned(retry_after=60))

    limited = await client.get("/api/v3/ping")
    banned = await client.get("/api/v3/ping")
    after = await client.get("/api/v3/ping")

    assert (limited.status_code, limited.headers["Retry-After"], limited.json()["code"]) == (429, "3", -1003)
    assert (banned.status_code, banned.headers["Retry-After"]) == (418, "60")
    assert str(NOW + 60_000) in banned.json()["msg"]
    assert after.status_code == 200
    assert (exchange.count_429, exchange.count_418) == (1, 1)


async def test_a_persistent_ban_refuses_everything_until_it_ends(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.inject(Fault.banned(retry_after=60, persist=True))

    statuses = [(await client.get("/api/v3/ping")).status_code for _ in range(3)]

    assert statuses == [418, 418, 418]


async def test_faults_follow_their_path_filter_and_count(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.inject(Fault.http_status(503), times=2, path="/api/v3/ticker/*")

    statuses = [
        (await client.get(path)).status_code
        for path in (
            "/api/v3/ping",
            "/api/v3/ticker/price",
            "/api/v3/ticker/24hr?symbol=BTCUSDT",
            "/api/v3/ticker/price",
        )
    ]

    assert statuses == [200, 503, 503, 200]
    assert exchange.faults.pending == 0


async def test_faulted_requests_charge_no_weight(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.inject(Fault.http_status(502))

    await client.get("/api/v3/exchangeInfo")

    assert exchange.used_weight() == {"X-MBX-USED-WEIGHT-1M": 0}


async def test_the_failure_rate_is_deterministic_per_seed() -> None:
    patterns = []
    for seed in (1, 1, 2):
        async with LoopbackExchange(time_source=ManualTime(NOW)) as exchange:
            exchange.set_failure_rate(0.3, Fault.http_status(503), seed=seed)
            async with httpx.AsyncClient(base_url=exchange.base_url) as client:
                patterns.append([(await client.get("/api/v3/ping")).status_code for _ in range(40)])

    assert patterns[0] == patterns[1] != patterns[2]
    assert 4 <= patterns[0].count(503) <= 20


async def test_latency_delays_but_does_not_fail(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    exchange.set_latency(0.01, path="/api/v3/ping")
    exchange.inject(Fault.delay(0.01))

    assert (await client.get("/api/v3/ping")).status_code == 200
    exchange.set_latency(0, path="/api/v3/ping")
    assert (await client.get("/api/v3/ping")).status_code == 200


async def test_clock_skew_can_change_at_any_time(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    before = (await client.get("/api/v3/time")).json()["serverTime"]
    exchange.set_clock_skew(5_000)
    after = (await client.get("/api/v3/time")).json()["serverTime"]

    assert after - before == 5_000


async def test_concurrent_requests_are_all_recorded(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    await asyncio.gather(*(client.get("/api/v3/ping", params={"n": str(i)}) for i in range(20)))

    recorded = exchange.requests
    assert len(recorded) == 20
    assert sorted(int(dict(r.params)["n"]) for r in recorded) == list(range(20))
    assert {r.status for r in recorded} == {400}
    exchange.clear_requests()
    assert exchange.requests == []


def test_unknown_fault_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault.from_dict({"kind": "meteor"})
    assert Fault.from_dict(Fault.banned(5).to_dict()) == Fault.banned(5)
