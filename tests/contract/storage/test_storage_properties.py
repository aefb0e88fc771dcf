"""Properties of every store: whatever the interleaving of writes and re-writes, one row per key remains."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import Kline, Symbol
from ports.storage import MarketDataStore
from tests.contract.storage._data import BTC, ETH, M1, NOW_MS, T0, candle
from tests.contract.storage.conftest import Backend

# A write: (series, minute, version). Few keys and versions, so batches overlap and repeat often.
_writes = st.tuples(st.sampled_from([BTC, ETH]), st.integers(0, 11), st.integers(0, 2))
_batches = st.lists(st.lists(_writes, max_size=8), min_size=1, max_size=6)

_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _kline(symbol: Symbol, minute: int, version: int) -> Kline:
    return candle(T0 + minute * 60_000, symbol=symbol, close=Decimal(100 + version) + Decimal("0.125"))


def _key(kline: Kline) -> tuple[str, int]:
    return kline.symbol.value, kline.open_time_ms


async def _stored(store: MarketDataStore) -> list[Kline]:
    return [*await store.load_klines(BTC, M1), *await store.load_klines(ETH, M1)]


@_SETTINGS
@given(batches=_batches)
async def test_sequential_writes_leave_one_row_per_key_holding_the_last_value(
    backend: Backend, store: MarketDataStore, batches: list[list[tuple[Symbol, int, int]]]
) -> None:
    backend.reset()
    expected: dict[tuple[str, int], Kline] = {}
    new_rows = 0
    for batch in batches:
        klines = [_kline(*write) for write in batch]
        result = await store.save_klines(klines, now_ms=NOW_MS)
        assert result.received == len(klines)
        expected.update((_key(k), k) for k in klines)
        new_rows += result.stored

    rows = await _stored(store)

    assert len(rows) == len({_key(k) for k in rows})
    assert {_key(k): k for k in rows} == expected
    assert new_rows == len(expected)
    coverage = await store.kline_coverage(BTC, M1)
    assert coverage.count == sum(1 for key in expected if key[0] == BTC.value)


@_SETTINGS
@given(batches=_batches)
async def test_concurrent_writes_leave_one_row_per_key_holding_a_written_value(
    backend: Backend, store: MarketDataStore, batches: list[list[tuple[Symbol, int, int]]]
) -> None:
    backend.reset()
    written: dict[tuple[str, int], list[Kline]] = {}
    for batch in batches:
        for write in batch:
            kline = _kline(*write)
            written.setdefault(_key(kline), []).append(kline)

    results = await asyncio.gather(
        *(store.save_klines([_kline(*w) for w in batch], now_ms=NOW_MS) for batch in batches)
    )
    rows = await _stored(store)

    assert len(rows) == len({_key(k) for k in rows}) == len(written)
    assert all(row in written[_key(row)] for row in rows)
    assert sum(r.stored for r in results) == len(written)
