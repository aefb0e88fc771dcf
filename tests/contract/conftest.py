"""The port contract suite: one set of tests that every ``MarketDataPort`` and ``AccountPort`` must pass.

Each implementation enters through a factory in ``IMPLEMENTATIONS``: a zero-argument async context manager
that yields an ``Implementation`` and cleans up after it. Every test runs once per factory. To put another
adapter under the contract, write its factory and add one line to ``IMPLEMENTATIONS``; for example the Binance
adapter replaying cassettes::

    @asynccontextmanager
    async def binance_on_cassettes() -> AsyncIterator[Implementation]:
        clock = FakeClock(RECORDED_AT_MS)  # the server time when the cassettes were recorded
        async with build_binance_adapter(clock=clock, transport=cassette_transport()) as adapter:
            yield Implementation(market_data=adapter, account=adapter, now_ms=clock.now_ms)

    IMPLEMENTATIONS["binance-cassettes"] = binance_on_cassettes

The suite asserts only what Binance itself guarantees. Every instant a test uses comes from the
implementation's ``now_ms`` (its own clock), never from the wall clock, so a test sends the same requests on
every run, which is what replaying cassettes needs. An implementation that cannot sign passes
``account=None`` and the account tests are skipped for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import attrs
import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from ports import AccountPort, MarketDataPort
from tests.cassettes import adapter_on_cassette


@attrs.frozen
class Implementation:
    """An implementation under contract: its ports, its clock, and how far its server time may stray."""

    market_data: MarketDataPort
    account: AccountPort | None
    now_ms: Callable[[], int]
    clock_tolerance_ms: int = 1_000


ImplementationFactory = Callable[[], AbstractAsyncContextManager[Implementation]]

# 2026-01-15 12:34:56.789 UTC, and a moment just before a new minute, hour and day.
FIXED_NOW_MS = 1_768_480_496_789
BEFORE_MIDNIGHT_MS = 1_768_521_599_000


class SteppingClock(FakeClock):
    """A fake clock that moves ``step_ms`` forward after every reading, like time passing between calls."""

    def __init__(self, now_ms: int, step_ms: int) -> None:
        super().__init__(now_ms)
        self._step_ms = step_ms

    def now_ms(self) -> int:
        reading = super().now_ms()
        self.advance(self._step_ms)
        return reading


@asynccontextmanager
async def fake_exchange() -> AsyncIterator[Implementation]:
    clock = FakeClock(FIXED_NOW_MS)
    exchange = FakeExchange(clock=clock, seed=7)
    try:
        yield Implementation(market_data=exchange, account=exchange, now_ms=clock.now_ms)
    finally:
        await exchange.aclose()


@asynccontextmanager
async def fake_exchange_with_time_passing() -> AsyncIterator[Implementation]:
    # 250 ms per reading: candles open and close between the calls of one test, as against a live server.
    clock = SteppingClock(BEFORE_MIDNIGHT_MS, step_ms=250)
    exchange = FakeExchange(clock=clock, seed=11)
    try:
        yield Implementation(market_data=exchange, account=exchange, now_ms=clock.now_ms)
    finally:
        await exchange.aclose()


@asynccontextmanager
async def binance_on_cassettes() -> AsyncIterator[Implementation]:
    # The Binance adapter replaying cassettes/contract.yaml, recorded from the loopback test exchange.
    clock = FakeClock(FIXED_NOW_MS)
    async with adapter_on_cassette("contract", clock=clock) as adapter:
        yield Implementation(market_data=adapter, account=adapter, now_ms=clock.now_ms)


IMPLEMENTATIONS: dict[str, ImplementationFactory] = {
    "fake": fake_exchange,
    "fake-time-passing": fake_exchange_with_time_passing,
    "binance-cassettes": binance_on_cassettes,
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def implementation(request: pytest.FixtureRequest) -> AsyncIterator[Implementation]:
    factory = IMPLEMENTATIONS[request.param]
    async with factory() as subject:
        yield subject


@pytest.fixture
def market_data(implementation: Implementation) -> MarketDataPort:
    return implementation.market_data


@pytest.fixture
def account(implementation: Implementation) -> AccountPort:
    if implementation.account is None:
        pytest.skip("this implementation has no credentials to sign account requests")
    return implementation.account


@pytest.fixture
def now_ms(implementation: Implementation) -> Callable[[], int]:
    return implementation.now_ms
