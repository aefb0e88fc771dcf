"""Services built through the real composition root, on the fake exchange and a clock that stands still."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from adapters.settings import load_config
from adapters.sqlite import SqliteMarketDataStore
from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from ports import MarketDataPort

#: 2026-01-15T12:34:56.789Z: mid-candle for every interval up to a day, so the newest candle is open.
NOW_MS = 1_768_480_496_789
MINUTE_MS = 60_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW_MS)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteMarketDataStore]:
    """A SQLite store in a fresh file, closed after the test."""
    async with await SqliteMarketDataStore.open(tmp_path / "market.sqlite3") as opened:
        yield opened


@pytest.fixture
def telemetry() -> InMemoryTelemetry:
    return in_memory_telemetry()


@pytest.fixture
def container(clock: FakeClock, telemetry: InMemoryTelemetry, tmp_path: Path) -> Container:
    built = Container()
    # A service that stores what it fetches (the snapshot) writes here, never into the user's data folder.
    cli_options = {"adapter": "fake", "db": str(tmp_path / "gateway.sqlite3")}
    built.config.from_dict(load_config({}, cli_options, env_file=None))
    built.clock.override(clock)
    built.telemetry.override(providers.Object(telemetry))
    return built


@pytest.fixture
def fake(container: Container) -> FakeExchange:
    exchange = container.fake_exchange()
    assert isinstance(exchange, FakeExchange)
    return exchange


def install(container: Container, market: MarketDataPort) -> None:
    """Put ``market`` behind both ports of the fake adapter."""
    container.fake_exchange.override(market)
