"""Models: frozen value objects with the behaviour the rest of the gateway relies on."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from hypothesis import given

from domain import (
    AccountInfo,
    Balance,
    CommissionRates,
    ExchangeInfo,
    Interval,
    InvalidSymbolError,
    Kline,
    RateLimit,
    ServerTime,
    Symbol,
    SymbolRules,
    SymbolStatus,
)
from tests.strategies import account_infos, exchange_infos, klines


@given(klines())
def test_models_are_frozen(kline: Kline) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        kline.close = Decimal(1)  # type: ignore[misc]


@given(klines())
def test_a_kline_is_closed_only_after_its_close_time(kline: Kline) -> None:
    assert not kline.is_closed(kline.close_time_ms)
    assert kline.is_closed(kline.close_time_ms + 1)
    assert kline.close_time.timestamp() * 1000 == pytest.approx(kline.close_time_ms)
    assert kline.open_time.tzinfo is not None


def test_server_time_as_datetime_is_utc() -> None:
    assert ServerTime(1_767_225_600_123).as_datetime.isoformat() == "2026-01-01T00:00:00.123000+00:00"


def test_unknown_symbol_status_is_kept_not_rejected() -> None:
    rules = SymbolRules(Symbol("BTCUSDT"), "SOMETHING_NEW", "BTC", "USDT")
    assert rules.status == "SOMETHING_NEW"
    assert not rules.has_known_status
    assert not rules.is_trading
    cancel_only = attrs.evolve(rules, status=SymbolStatus.CANCEL_ONLY)
    assert cancel_only.has_known_status


@given(exchange_infos())
def test_exchange_info_finds_rules_by_symbol(info: ExchangeInfo) -> None:
    for rules in info.symbols:
        assert info.rules_for(rules.symbol) is rules
        assert rules.symbol in info
    with pytest.raises(InvalidSymbolError) as raised:
        info.rules_for(Symbol("ZZZZZZZZZZZZZZZZZZZZ"))
    assert raised.value.code == -1121
    assert info.request_weight_limits[0].rate_limit_type == "REQUEST_WEIGHT"


@pytest.mark.parametrize(
    ("interval", "num", "window", "suffix"),
    [
        ("SECOND", 10, 10_000, "10S"),
        ("MINUTE", 1, 60_000, "1M"),
        ("HOUR", 1, 3_600_000, "1H"),
        ("DAY", 1, 86_400_000, "1D"),
    ],
)
def test_rate_limit_windows(interval: str, num: int, window: int, suffix: str) -> None:
    limit = RateLimit("REQUEST_WEIGHT", interval, num, 6000)
    assert limit.window_ms == window
    assert limit.header_suffix == suffix


@given(account_infos())
def test_non_zero_balances_drop_only_empty_assets(account: AccountInfo) -> None:
    kept = account.non_zero_balances()
    assert all(b.total > 0 for b in kept)
    assert len(kept) == sum(1 for b in account.balances if b.total > 0)


def test_balance_lookup_by_asset() -> None:
    account = AccountInfo(
        "SPOT",
        True,
        False,
        False,
        ("SPOT",),
        CommissionRates(Decimal("0.001"), Decimal("0.001")),
        0,
        (Balance("BTC", Decimal(1), Decimal("0.5")), Balance("ETH", Decimal(0), Decimal(0))),
    )
    btc = account.balance("BTC")
    assert btc is not None
    assert btc.total == Decimal("1.5")
    assert account.balance("XRP") is None
    assert [b.asset for b in account.non_zero_balances()] == ["BTC"]


def test_interval_is_part_of_kline_identity() -> None:
    base = Kline(
        Symbol("BTCUSDT"),
        Interval.MINUTE_1,
        0,
        *(Decimal(1),) * 5,
        59_999,
        Decimal(1),
        1,
        Decimal(0),
        Decimal(0),
    )
    assert base != attrs.evolve(base, interval=Interval.MINUTE_3)
