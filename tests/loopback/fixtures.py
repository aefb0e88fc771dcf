"""pytest fixtures for the loopback exchange (loaded by `tests/conftest.py` through `pytest_plugins`).

- `loopback_exchange`: a started exchange in the test's event loop (async tests).
- `loopback_exchange_factory`: `await make(weight_limit=100, weight_interval="10s")`, any constructor option.
- `loopback_exchange_thread` / `loopback_exchange_thread_factory`: the same, served from a background thread,
  for synchronous tests (e.g. a CLI driven by typer's CliRunner in the test's own process).
- `loopback_process_factory`: `make(...)` starts `python -m tests.loopback` in a subprocess.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from tests.loopback.process import LoopbackProcess
from tests.loopback.server import LoopbackExchange

AsyncExchangeFactory = Callable[..., Awaitable[LoopbackExchange]]
ExchangeFactory = Callable[..., LoopbackExchange]
ProcessFactory = Callable[..., LoopbackProcess]


@pytest_asyncio.fixture
async def loopback_exchange() -> AsyncIterator[LoopbackExchange]:
    async with LoopbackExchange() as exchange:
        yield exchange


@pytest_asyncio.fixture
async def loopback_exchange_factory() -> AsyncIterator[AsyncExchangeFactory]:
    started: list[LoopbackExchange] = []

    async def make(**options: Any) -> LoopbackExchange:
        exchange = await LoopbackExchange(**options).start()
        started.append(exchange)
        return exchange

    yield make
    for exchange in reversed(started):
        await exchange.stop()


@pytest.fixture
def loopback_exchange_thread() -> Iterator[LoopbackExchange]:
    with LoopbackExchange() as exchange:
        yield exchange


@pytest.fixture
def loopback_exchange_thread_factory() -> Iterator[ExchangeFactory]:
    started: list[LoopbackExchange] = []

    def make(**options: Any) -> LoopbackExchange:
        exchange = LoopbackExchange(**options).start_in_thread()
        started.append(exchange)
        return exchange

    yield make
    for exchange in reversed(started):
        exchange.stop_thread()


@pytest.fixture
def loopback_process_factory() -> Iterator[ProcessFactory]:
    started: list[LoopbackProcess] = []

    def make(*args: str, **options: Any) -> LoopbackProcess:
        process = LoopbackProcess(*args, **options).start()
        started.append(process)
        return process

    yield make
    for process in reversed(started):
        process.stop()
