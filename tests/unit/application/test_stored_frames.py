"""Candles as a DataFrame straight from storage, through the container's ``market_data_service``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from adapters.container import Container
from adapters.memory import FakeExchange
from application import MarketDataService
from application.stored_frames import load_klines_frame
from domain import ConfigurationError, Interval, InvalidInputError, Symbol
from tests.unit.application.conftest import NOW_MS

BTC = Symbol("BTCUSDT")
M1 = Interval.MINUTE_1
START_MS = M1.open_time_ms(NOW_MS) - 2_500 * 60_000


async def _backfilled(container: Container, fake: FakeExchange) -> MarketDataService:
    service = await container.backfill_service()  # type: ignore[misc]
    await service.run([BTC], [M1], START_MS)
    market = container.market_data_service()
    assert isinstance(market, MarketDataService)
    return market


async def test_the_frame_holds_the_stored_candles_with_exact_decimals(
    container: Container, fake: FakeExchange
) -> None:
    market = await _backfilled(container, fake)
    try:
        frame = await market.load_klines_frame("BTCUSDT", "1m")
        store = await container.market_data_store()
        stored = await store.load_klines(BTC, M1)
    finally:
        await container.shutdown_resources()  # type: ignore[misc]

    assert len(frame) == len(stored) == 2_500
    assert frame.index[0] == pd.Timestamp(START_MS, unit="ms", tz="UTC")
    assert list(frame["close"]) == [k.close for k in stored]
    assert isinstance(frame["close"].iloc[0], Decimal)
    assert frame.attrs == {"symbol": "BTCUSDT", "interval": "1m"}


async def test_a_range_and_floats(container: Container, fake: FakeExchange) -> None:
    market = await _backfilled(container, fake)
    start = datetime.fromtimestamp((START_MS + 60_000) / 1000, tz=UTC)
    try:
        frame = await market.load_klines_frame(BTC, M1, start, START_MS + 10 * 60_000, as_float=True)
        empty = await market.load_klines_frame("ETHUSDT", "1h")
        with pytest.raises(InvalidInputError, match="after"):
            await market.load_klines_frame(BTC, M1, START_MS + 60_000, START_MS)
    finally:
        await container.shutdown_resources()  # type: ignore[misc]

    assert len(frame) == 10
    assert frame["close"].dtype == "float64"
    assert empty.empty
    assert list(empty.columns) == list(frame.columns)


async def test_a_service_without_a_store_says_so(fake: FakeExchange, container: Container) -> None:
    market = MarketDataService(fake, container.clock())

    with pytest.raises(ConfigurationError, match="no store"):
        await market.load_klines_frame(BTC, M1)


async def test_chunks_are_joined_in_order(container: Container, fake: FakeExchange) -> None:
    await _backfilled(container, fake)
    try:
        store = await container.market_data_store()
        frame = await load_klines_frame(store, BTC, M1, chunk_size=700)
    finally:
        await container.shutdown_resources()  # type: ignore[misc]

    assert frame.index.is_monotonic_increasing
    assert frame.index.is_unique
    assert len(frame) == 2_500
