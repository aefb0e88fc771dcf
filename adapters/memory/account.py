"""The fake exchange's account: a funded spot account, some balances zero and some locked."""

from __future__ import annotations

from decimal import Decimal

from domain import AccountInfo, Balance, CommissionRates

__all__ = ["DEFAULT_BALANCES", "fake_account"]

_HOUR_MS = 3_600_000
_UID = 354_937_868

DEFAULT_BALANCES: tuple[Balance, ...] = tuple(
    Balance(asset, Decimal(free), Decimal(locked))
    for asset, free, locked in (
        ("BTC", "0.51234000", "0.01000000"),
        ("ETH", "4.20000000", "0.00000000"),
        ("BNB", "12.50000000", "0.50000000"),
        ("USDT", "10250.75000000", "250.00000000"),
        ("SOL", "0.00000000", "0.00000000"),
        ("XRP", "1500.00000000", "0.00000000"),
        ("FDUSD", "0.00000000", "0.00000000"),
        ("LUNA", "0.00000000", "0.00000000"),
        ("这是测试币", "1000.00000000", "0.00000000"),
    )
)


def fake_account(
    now_ms: int, *, omit_zero_balances: bool = False, balances: tuple[Balance, ...] = DEFAULT_BALANCES
) -> AccountInfo:
    """The account as of ``now_ms``; it last changed at the start of the current hour."""
    shown = tuple(b for b in balances if not b.is_zero) if omit_zero_balances else balances
    return AccountInfo(
        account_type="SPOT",
        can_trade=True,
        can_withdraw=False,
        can_deposit=False,
        permissions=("SPOT",),
        commission_rates=CommissionRates(
            maker=Decimal("0.00100000"), taker=Decimal("0.00100000"), buyer=Decimal(0), seller=Decimal(0)
        ),
        update_time_ms=now_ms - now_ms % _HOUR_MS,
        balances=shown,
        uid=_UID,
    )
