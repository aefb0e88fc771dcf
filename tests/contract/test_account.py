"""AccountPort contract: what any signed account answer must satisfy."""

from __future__ import annotations

from collections.abc import Callable

from domain.validators import check_balance
from ports import AccountPort
from tests.contract.conftest import Implementation


async def test_an_implementation_under_contract_has_credentials(account: AccountPort) -> None:
    assert account.has_credentials


async def test_balances_are_non_negative_unique_and_add_up(account: AccountPort) -> None:
    info = await account.get_account_info()

    assets = [balance.asset for balance in info.balances]
    assert len(assets) == len(set(assets))
    assert [v for balance in info.balances for v in check_balance(balance)] == []
    assert all(balance.total == balance.free + balance.locked for balance in info.balances)


async def test_omitting_zero_balances_keeps_exactly_the_non_zero_ones(account: AccountPort) -> None:
    everything = await account.get_account_info()
    non_zero = await account.get_account_info(omit_zero_balances=True)

    assert not any(balance.is_zero for balance in non_zero.balances)
    assert {b.asset for b in non_zero.balances} == {b.asset for b in everything.non_zero_balances()}


async def test_the_account_has_permissions_and_sane_commission_rates(
    account: AccountPort, implementation: Implementation, now_ms: Callable[[], int]
) -> None:
    info = await account.get_account_info()

    assert info.account_type
    assert info.permissions
    rates = info.commission_rates
    assert all(0 <= rate < 1 for rate in (rates.maker, rates.taker, rates.buyer, rates.seller))
    assert info.update_time_ms <= now_ms() + implementation.clock_tolerance_ms
