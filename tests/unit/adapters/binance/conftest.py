"""Shared pieces of the Binance adapter's unit tests: a fake clock, an exchange behind httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from adapters.binance import (
    BinanceRestAdapter,
    BinanceSettings,
    BinanceTelemetry,
    ClockSync,
    RetryPolicy,
    WeightLimiter,
)

START_MS = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC, a minute boundary
HMAC_KEY = "k" * 32 + "K" * 32
HMAC_SECRET = "s" * 32 + "S" * 32

Route = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """Wall clock, monotonic clock and sleep in one: time moves only when someone sleeps or ``advance``s."""

    def __init__(self, start_ms: float = START_MS) -> None:
        self.now_ms = float(start_ms)
        self.slept: list[float] = []

    def wall_ms(self) -> float:
        return self.now_ms

    def monotonic(self) -> float:
        return self.now_ms / 1000

    def advance(self, ms: float) -> None:
        self.now_ms += ms

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_ms += seconds * 1000
        await asyncio.sleep(0)


def ok(body: Any, *, used: int | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    extra = dict(headers or {})
    if used is not None:
        extra["X-MBX-USED-WEIGHT-1M"] = str(used)
    return httpx.Response(200, content=json.dumps(body).encode(), headers=extra)


def error(status: int, code: int, msg: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "msg": msg}, headers=headers or {})


class FakeExchange:
    """Routes by path to a response or a queue of responses; records every request it receives."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | list[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []
        self.server_time_ms = START_MS + 500
        self.routes["/api/v3/time"] = lambda _request: ok({"serverTime": self.server_time_ms})

    def on(self, path: str, answer: Route | httpx.Response | list[httpx.Response]) -> None:
        if isinstance(answer, httpx.Response):
            self.routes[path] = lambda _request: answer
        else:
            self.routes[path] = answer

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, text="<html>Not Found</html>")
        if isinstance(route, list):
            return route.pop(0)
        return route(request)

    def to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def settings(**values: Any) -> BinanceSettings:
    return BinanceSettings.from_mapping({"base_url": "http://127.0.0.1:9", **values})


def hmac_settings(**values: Any) -> BinanceSettings:
    return settings(api_key=HMAC_KEY, api_secret=HMAC_SECRET, **values)


class AdapterFactory:
    """Builds adapters on a fake exchange and a fake clock; closes their clients at the end of the test."""

    def __init__(self) -> None:
        self.clients: list[httpx.AsyncClient] = []

    def __call__(
        self,
        exchange: FakeExchange,
        config: BinanceSettings | None = None,
        *,
        time: FakeTime | None = None,
        retry: RetryPolicy | None = None,
        telemetry: BinanceTelemetry | None = None,
    ) -> BinanceRestAdapter:
        time = time or FakeTime()
        http = httpx.AsyncClient(transport=httpx.MockTransport(exchange.handle))
        self.clients.append(http)
        clock = ClockSync(wall_ms=time.wall_ms, monotonic=time.monotonic)
        return BinanceRestAdapter(
            http,
            config or settings(),
            clock=clock,
            limiter=WeightLimiter.synced_to(clock, sleep=time.sleep),
            retry=retry or RetryPolicy.instant(),
            telemetry=telemetry,
        )


@pytest.fixture
async def make_adapter() -> AsyncIterator[AdapterFactory]:
    factory = AdapterFactory()
    yield factory
    for client in factory.clients:
        await client.aclose()


@pytest.fixture
def exchange() -> FakeExchange:
    return FakeExchange()
