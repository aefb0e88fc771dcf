"""Account use cases: what the exchange says about the account behind the configured credentials."""

from __future__ import annotations

from opentelemetry import trace

from application.validation import raise_if_invalid
from domain import AccountInfo, Balance
from domain.validators import check_balance, check_quantity, label_violations
from ports import AccountPort

__all__ = ["AccountService"]


class AccountService:
    """Validated account information from an ``AccountPort``.

    Raises what the port raises (``ConfigurationError`` without credentials, ``AuthenticationError``
    when the exchange rejects them, transport errors) and ``DataValidationError`` for a negative balance
    or commission rate. Spans are named ``AccountService.<method>``.
    """

    def __init__(self, account: AccountPort, *, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._account = account
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    @property
    def has_credentials(self) -> bool:
        return self._account.has_credentials

    async def get_account_info(self, *, omit_zero_balances: bool = False) -> AccountInfo:
        """Account type, permissions, commission rates and balances, validated."""
        with self._tracer.start_as_current_span("AccountService.get_account_info"):
            info = await self._account.get_account_info(omit_zero_balances=omit_zero_balances)
        rates = info.commission_rates
        problems = [
            *label_violations("commission", check_quantity(rates.maker, "maker")),
            *label_violations("commission", check_quantity(rates.taker, "taker")),
        ]
        for balance in info.balances:
            problems += label_violations(f"balance {balance.asset}", check_balance(balance))
        raise_if_invalid("account information", problems)
        return info

    async def non_zero_balances(self) -> tuple[Balance, ...]:
        """Balances with something free or locked, sorted by asset."""
        info = await self.get_account_info(omit_zero_balances=True)
        return tuple(sorted(info.non_zero_balances(), key=lambda b: b.asset))
