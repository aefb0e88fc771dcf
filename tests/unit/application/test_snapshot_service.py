"""The snapshot use case through the container on the fake exchange."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from application import Snapshot, SnapshotService
from domain import (
    DEFAULT_SYMBOLS,
    Interval,
    InvalidInputError,
    InvalidSymbolError,
    RateLimitError,
)
from domain.validators import Reason
from tests.unit.application.conftest import NOW_MS
from tests.unit.application.corrupting import CorruptingMarket, replace_kline


def _service(container: Container) -> SnapshotService:
    service = container.snapshot_service()
    assert isinstance(service, SnapshotService)
    return service


async def test_a_snapshot_with_credentials_has_everything(container: Container, fake: FakeExchange) -> None:
    shot = await _service(container).take()

    assert shot.symbols == DEFAULT_SYMBOLS
    assert shot.interval is Interval.MINUTE_1
    assert shot.taken_at_ms == NOW_MS
    assert shot.clock.server_time_ms == NOW_MS
    assert shot.clock.offset_ms == 0
    assert [r.symbol for r in shot.rules] == list(DEFAULT_SYMBOLS)
    assert list(shot.prices) == [str(s) for s in DEFAULT_SYMBOLS]
    assert all(isinstance(p, Decimal) for p in shot.prices.values())
    assert [t.symbol for t in shot.tickers_24h] == list(DEFAULT_SYMBOLS)
    assert {s: len(k) for s, k in shot.klines.items()} == dict.fromkeys(DEFAULT_SYMBOLS, 60)
    assert shot.account is not None
    assert all(not b.is_zero for b in shot.account.balances)
    assert shot.report.ok, shot.report.problems
    assert shot.report.checked > 300


async def test_a_snapshot_asks_for_all_prices_in_one_call(container: Container, fake: FakeExchange) -> None:
    await _service(container).take(["BTCUSDT", "ETHUSDT", "SOLUSDT"], "5m", kline_count=10)

    assert fake.calls == {
        "get_server_time": 1,
        "get_exchange_info": 1,
        "get_symbol_tickers": 1,
        "get_tickers_24h": 1,
        "get_kline_data": 3,
        "get_account_info": 1,
    }


async def test_without_credentials_the_account_is_skipped(container: Container, clock: FakeClock) -> None:
    fake = FakeExchange(clock, has_credentials=False)
    container.fake_exchange.override(fake)

    shot = await _service(container).take(["BTCUSDT"])

    assert shot.account is None
    assert fake.calls["get_account_info"] == 0
    assert shot.report.ok


async def test_corrupted_data_is_reported_not_raised(container: Container, clock: FakeClock) -> None:
    container.fake_exchange.override(CorruptingMarket(clock, klines=replace_kline(-2, close=Decimal(0))))

    shot = await _service(container).take(["BTCUSDT", "ETHUSDT"], kline_count=5)

    assert not shot.report.ok
    reasons = {(label.split()[0], v.reason) for label, v in shot.report.problems}
    assert reasons == {("BTCUSDT", Reason.PRICE_NOT_POSITIVE), ("ETHUSDT", Reason.PRICE_NOT_POSITIVE)}


async def test_a_failing_call_raises_its_own_error_not_a_group(
    container: Container, fake: FakeExchange
) -> None:
    fake.script.fail_next(
        RateLimitError("Too much request weight used", retry_after=30), method="get_kline_data"
    )

    with pytest.raises(RateLimitError) as caught:
        await _service(container).take()

    assert caught.value.retry_after == 30


async def test_an_unknown_pair_fails_the_snapshot(container: Container) -> None:
    with pytest.raises(InvalidSymbolError):
        await _service(container).take(["BTCUSDT", "NOPEUSDT"])


@pytest.mark.parametrize(
    ("symbols", "interval", "count", "message"),
    [
        ([], "1m", 5, "at least one symbol"),
        (["BTCUSDT"], "2m", 5, "unknown interval"),
        (["BTCUSDT"], "1m", 0, "1 to 1000"),
        (["BTCUSDT"], "1m", 1001, "1 to 1000"),
    ],
)
async def test_unusable_arguments_are_refused_before_any_call(
    container: Container, fake: FakeExchange, symbols: list[str], interval: str, count: int, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await _service(container).take(symbols, interval, count)

    assert sum(fake.calls.values()) == 0


class RecordingStore:
    """Keeps what it was given: stands in for the storage layer behind the snapshot's ``store`` seam."""

    def __init__(self) -> None:
        self.saved: list[Snapshot] = []

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self.saved.append(snapshot)


async def test_a_given_store_receives_the_snapshot(container: Container) -> None:
    store = RecordingStore()
    service = container.snapshot_service(store=store)
    assert isinstance(service, SnapshotService)

    shot = await service.take(["BTCUSDT"])

    assert store.saved == [shot]
