"""Request weight: per-endpoint weights, the used-weight header on every response, 429, then 418 bans."""

from __future__ import annotations

import httpx
import pytest

from tests.loopback import LoopbackExchange, ManualTime, RateLimit
from tests.loopback.fixtures import AsyncExchangeFactory

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a boundary of every window
MANY = '["' + '","'.join(f"S{i}" for i in range(21)) + '"]'


@pytest.mark.parametrize(
    ("path", "weight"),
    [
        ("/api/v3/ping", 1),
        ("/api/v3/time", 1),
        ("/api/v3/exchangeInfo", 20),
        ("/api/v3/ticker/price?symbol=BTCUSDT", 2),
        ('/api/v3/ticker/price?symbols=["BTCUSDT","ETHUSDT"]', 4),
        ("/api/v3/ticker/price", 4),
        ("/api/v3/ticker/bookTicker?symbol=BTCUSDT", 2),
        ("/api/v3/ticker/bookTicker", 4),
        ("/api/v3/ticker/24hr?symbol=BTCUSDT", 2),
        ('/api/v3/ticker/24hr?symbols=["BTCUSDT","ETHUSDT"]', 2),
        (f"/api/v3/ticker/24hr?symbols={MANY}", 40),
        ("/api/v3/ticker/24hr", 80),
        ("/api/v3/avgPrice?symbol=BTCUSDT", 2),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1m", 2),
        ("/api/v3/uiKlines?symbol=BTCUSDT&interval=1m", 2),
        ("/api/v3/depth?symbol=BTCUSDT", 5),
        ("/api/v3/depth?symbol=BTCUSDT&limit=500", 25),
        ("/api/v3/depth?symbol=BTCUSDT&limit=1000", 50),
        ("/api/v3/depth?symbol=BTCUSDT&limit=5000", 250),
        ("/api/v3/account", 20),
        ("/api/v3/klines?symbol=NOPE&interval=1m", 2),
        ("/api/v3/no-such-endpoint", 1),
    ],
)
async def test_each_request_is_charged_its_documented_weight(
    loopback_exchange: LoopbackExchange, path: str, weight: int
) -> None:
    async with httpx.AsyncClient(base_url=loopback_exchange.base_url) as client:
        response = await client.get(path)

    assert response.headers["X-MBX-USED-WEIGHT-1M"] == str(weight)
    assert loopback_exchange.used_weight() == {"X-MBX-USED-WEIGHT-1M": weight}


async def test_the_header_names_the_configured_window_and_exchange_info_lists_it(
    loopback_exchange_factory: AsyncExchangeFactory,
) -> None:
    exchange = await loopback_exchange_factory(weight_limit=100, weight_interval="10s")
    async with httpx.AsyncClient(base_url=exchange.base_url) as client:
        info = await client.get("/api/v3/exchangeInfo")

    assert info.headers["X-MBX-USED-WEIGHT-10S"] == "20"
    assert info.json()["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "SECOND",
        "intervalNum": 10,
        "limit": 100,
    }


async def test_over_the_limit_gives_429_with_retry_after_until_the_window_resets() -> None:
    time = ManualTime(NOW + 3_000)
    async with (
        LoopbackExchange(weight_limit=100, weight_interval="10s", time_source=time) as exchange,
        httpx.AsyncClient(base_url=exchange.base_url) as client,
    ):
        for _ in range(5):
            assert (await client.get("/api/v3/exchangeInfo")).status_code == 200
        refused = await client.get("/api/v3/ping")
        time.advance(7_000)
        after_reset = await client.get("/api/v3/ping")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "7"
    assert refused.headers["X-MBX-USED-WEIGHT-10S"] == "100"
    assert refused.json() == {
        "code": -1003,
        "msg": "Too much request weight used; current limit is 100 request weight per 10 SECOND. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    }
    assert after_reset.status_code == 200
    assert after_reset.headers["X-MBX-USED-WEIGHT-10S"] == "1"
    assert exchange.count_429 == 1


async def test_a_lighter_request_still_fits_after_a_refusal() -> None:
    async with (
        LoopbackExchange(weight_limit=30, time_source=ManualTime(NOW)) as exchange,
        httpx.AsyncClient(base_url=exchange.base_url) as client,
    ):
        await client.get("/api/v3/exchangeInfo")
        heavy = await client.get("/api/v3/exchangeInfo")
        light = await client.get("/api/v3/ping")

    assert (heavy.status_code, light.status_code) == (429, 200)
    assert light.headers["X-MBX-USED-WEIGHT-1M"] == "21"


async def test_ignoring_429s_escalates_to_a_418_ban_that_doubles_for_repeat_offenders() -> None:
    time = ManualTime(NOW)
    async with (
        LoopbackExchange(weight_limit=20, ban_after_429s=2, ban_seconds=120, time_source=time) as exchange,
        httpx.AsyncClient(base_url=exchange.base_url) as client,
    ):
        statuses = [(await client.get("/api/v3/exchangeInfo")).status_code for _ in range(4)]
        banned = await client.get("/api/v3/ping")
        time.advance(120_000)
        after_ban = await client.get("/api/v3/ping")
        for _ in range(3):
            await client.get("/api/v3/exchangeInfo")
        second_ban = await client.get("/api/v3/ping")

    assert statuses == [200, 429, 429, 418]
    assert banned.status_code == 418
    assert banned.headers["Retry-After"] == "120"
    assert banned.json() == {
        "code": -1003,
        "msg": f"Way too much request weight used; IP banned until {NOW + 120_000}. "
        "Please use the websocket for live updates to avoid bans.",
    }
    assert after_ban.status_code == 200
    assert second_ban.headers["Retry-After"] == "240"
    assert (exchange.count_429, exchange.count_418) == (4, 4)


async def test_several_windows_are_all_enforced_and_all_reported() -> None:
    time = ManualTime(NOW)
    async with (
        LoopbackExchange(weight_limit=1000, extra_weight_limits=((3, "1s"),), time_source=time) as exchange,
        httpx.AsyncClient(base_url=exchange.base_url) as client,
    ):
        statuses = [(await client.get("/api/v3/ping")).status_code for _ in range(4)]
        time.advance(1_000)
        last = await client.get("/api/v3/ping")

    assert statuses == [200, 200, 200, 429]
    assert last.headers["X-MBX-USED-WEIGHT-1S"] == "1"
    assert last.headers["X-MBX-USED-WEIGHT-1M"] == "4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1m", RateLimit(7, 1, "MINUTE")),
        ("10s", RateLimit(7, 10, "SECOND")),
        ("1H", RateLimit(7, 1, "HOUR")),
        ("1 DAY", RateLimit(7, 1, "DAY")),
    ],
)
def test_windows_parse_from_short_and_long_forms(text: str, expected: RateLimit) -> None:
    assert RateLimit.parse(7, text) == expected
