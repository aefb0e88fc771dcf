"""Many concurrent calls under a tight weight limit: the exchange never answers 429, no window is overdrawn,
and the limiter does not stall."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from domain import Symbol
from tests.integration.binance.conftest import Connect, ExchangeFactory

LIMIT = 40  # weight per 1 SECOND on the loopback exchange; the calls weigh 2 each


@pytest.mark.slow
async def test_concurrent_calls_finish_without_a_429_and_fill_every_window(
    loopback_exchange_factory: ExchangeFactory, connect: Connect
) -> None:
    exchange = await loopback_exchange_factory(weight_limit=LIMIT, weight_interval="1s")
    adapter = connect(exchange)
    await adapter.get_server_time()  # aligns the limiter's windows on the exchange's clock
    info = await adapter.get_exchange_info()  # teaches it the 40-per-second limit
    symbols = [rules.symbol for rules in info.symbols if rules.is_trading]

    quotes = await asyncio.gather(*(adapter.get_symbol_ticker(symbols[i % len(symbols)]) for i in range(50)))

    assert len(quotes) == 50
    assert exchange.count_429 == 0
    assert exchange.count_418 == 0
    per_window = Counter[int]()
    for request in exchange.requests:
        per_window[request.received_ms // 1000] += request.weight
    windows = [per_window[w] for w in range(min(per_window), max(per_window) + 1)]
    assert max(windows) <= LIMIT
    assert sum(windows) == 1 + 20 + 50 * 2
    # Real one-second windows on a shared machine: how full each one gets depends on scheduling, so the
    # exact budget use (>= 99% of every window) is asserted with a fake clock in the limiter's unit tests
    # and measured by the benchmark. Here the limiter must not stall: the run spans at most two windows
    # more than the weight strictly needs.
    assert len(windows) <= -(-sum(windows) // LIMIT) + 2


@pytest.mark.slow
async def test_heavy_and_light_calls_share_the_budget(
    loopback_exchange_factory: ExchangeFactory, connect: Connect
) -> None:
    exchange = await loopback_exchange_factory(weight_limit=LIMIT, weight_interval="1s")
    adapter = connect(exchange)
    await adapter.get_server_time()
    await adapter.get_exchange_info()
    btc = Symbol("BTCUSDT")

    results = await asyncio.gather(
        *(adapter.get_exchange_info([btc]) for _ in range(3)),  # 20 each
        *(adapter.get_book_ticker(btc) for _ in range(20)),  # 2 each
    )

    assert len(results) == 23
    assert exchange.count_429 == 0
