"""The account port: signed, per-key information about the account."""

from __future__ import annotations

from typing import Protocol

from domain import AccountInfo

__all__ = ["AccountPort"]


class AccountPort(Protocol):
    """The account behind the configured credentials. Every method is a coroutine.

    Errors (from ``domain.errors``): ``ConfigurationError`` when no credentials are configured (nothing is
    sent); ``AuthenticationError`` when the exchange rejects the key or signature; ``ClockSkewError`` when
    the timestamp is rejected even after one resynchronisation; plus the transport errors listed on
    ``MarketDataPort`` (network, unavailable, rate limit, ban, malformed response).
    """

    @property
    def has_credentials(self) -> bool:
        """Whether credentials are configured, so that ``get_account_info`` can be attempted."""
        ...

    async def get_account_info(self, *, omit_zero_balances: bool = False) -> AccountInfo:
        """Account type, permissions, commission rates and balances."""
        ...
