"""Freshness read from a real SQLite store, merged with what the process saw itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.clock import FakeClock
from adapters.sqlite.storage import SqliteMarketDataStore
from application.data_quality import DataQualityMetrics
from application.freshness import DeferredFreshness, NewestFreshness, StoredDataFreshness
from domain import DataFreshness, Interval, Kline, PriceQuote, Symbol

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a minute boundary
BTC, ETH, SOL = Symbol("BTCUSDT"), Symbol("ETHUSDT"), Symbol("SOLUSDT")


def _kline(symbol: Symbol, open_ms: int) -> Kline:
    p, q = Decimal("100.5"), Decimal("2.0")
    return Kline(symbol, Interval.MINUTE_1, open_ms, p, p, p, p, q, open_ms + 59_999, p * q, 3, q, p * q)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteMarketDataStore]:
    store = await SqliteMarketDataStore.open(tmp_path / "market.sqlite3")
    yield store
    await store.aclose()


async def test_the_newest_stored_candle_and_price_per_symbol(store: SqliteMarketDataStore) -> None:
    await store.save_klines([_kline(BTC, NOW_MS - 180_000), _kline(BTC, NOW_MS - 120_000)], now_ms=NOW_MS)
    await store.save_price_ticks(
        [
            PriceQuote(BTC, Decimal("100.5"), NOW_MS - 9_000),
            PriceQuote(BTC, Decimal("100.6"), NOW_MS - 4_000),
        ],
        now_ms=NOW_MS,
    )
    freshness = StoredDataFreshness(store, FakeClock(NOW_MS), [BTC, ETH])

    assert await freshness.data_freshness() == [DataFreshness(BTC, NOW_MS - 4_000, NOW_MS - 60_001)]


async def test_data_older_than_the_lookback_counts_as_none(store: SqliteMarketDataStore) -> None:
    await store.save_klines([_kline(ETH, NOW_MS - 2 * 86_400_000)], now_ms=NOW_MS)
    await store.save_price_ticks([PriceQuote(ETH, Decimal("1.5"), NOW_MS - 3_600_000)], now_ms=NOW_MS)

    assert await StoredDataFreshness(store, FakeClock(NOW_MS), [ETH]).data_freshness() == []


async def test_the_newest_reading_of_every_source_wins(store: SqliteMarketDataStore) -> None:
    clock = FakeClock(NOW_MS)
    await store.save_klines([_kline(BTC, NOW_MS - 120_000)], now_ms=NOW_MS)
    seen = DataQualityMetrics(clock)
    seen.observe_prices(
        [PriceQuote(BTC, Decimal(1), NOW_MS - 1_000), PriceQuote(SOL, Decimal(1), NOW_MS - 2_000)]
    )

    merged = NewestFreshness([StoredDataFreshness(store, clock, [BTC, SOL]), seen])

    assert await merged.data_freshness() == [
        DataFreshness(BTC, NOW_MS - 1_000, NOW_MS - 60_001),
        DataFreshness(SOL, NOW_MS - 2_000, None),
    ]


async def test_a_deferred_source_opens_once_on_first_use(store: SqliteMarketDataStore) -> None:
    await store.save_klines([_kline(BTC, NOW_MS - 120_000)], now_ms=NOW_MS)
    opened: list[int] = []

    async def build() -> StoredDataFreshness:
        opened.append(1)
        return StoredDataFreshness(store, FakeClock(NOW_MS), [BTC])

    deferred = DeferredFreshness(build)
    assert opened == []

    assert await deferred.data_freshness() == [DataFreshness(BTC, None, NOW_MS - 60_001)]
    assert await deferred.data_freshness([ETH]) == []
    assert opened == [1]
