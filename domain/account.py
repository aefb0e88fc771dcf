"""Account information (``GET /api/v3/account``): permissions, commission rates and balances."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["AccountInfo", "Balance", "CommissionRates"]


@attrs.frozen
class Balance:
    """Holdings of one asset: ``free`` to use and ``locked`` in open orders."""

    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked

    @property
    def is_zero(self) -> bool:
        return not self.free and not self.locked


@attrs.frozen
class CommissionRates:
    """Commission as fractions (``0.001`` is 0.1%)."""

    maker: Decimal
    taker: Decimal
    buyer: Decimal = Decimal(0)
    seller: Decimal = Decimal(0)


@attrs.frozen
class AccountInfo:
    """What the exchange says about the account behind the API key."""

    account_type: str
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool
    permissions: tuple[str, ...]
    commission_rates: CommissionRates
    update_time_ms: int
    balances: tuple[Balance, ...]
    uid: int | None = None

    def non_zero_balances(self) -> tuple[Balance, ...]:
        return tuple(b for b in self.balances if not b.is_zero)

    def balance(self, asset: str) -> Balance | None:
        return next((b for b in self.balances if b.asset == asset), None)
