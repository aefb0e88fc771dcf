"""AccountService through the container on the fake exchange."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from application import AccountService
from domain import AuthenticationError, Balance, ConfigurationError, DataValidationError
from domain.validators import Reason


def _service(container: Container) -> AccountService:
    service = container.account_service()
    assert isinstance(service, AccountService)
    return service


async def test_account_information_comes_validated(container: Container) -> None:
    service = _service(container)

    info = await service.get_account_info()

    assert service.has_credentials
    assert info.permissions
    assert info.commission_rates.taker >= 0
    assert any(b.is_zero for b in info.balances)


async def test_non_zero_balances_leave_out_empty_assets_and_are_sorted(container: Container) -> None:
    balances = await _service(container).non_zero_balances()

    assert balances
    assert all(not b.is_zero for b in balances)
    assert [b.asset for b in balances] == sorted(b.asset for b in balances)


async def test_without_credentials_the_account_is_a_configuration_error(
    container: Container, clock: FakeClock
) -> None:
    container.fake_exchange.override(FakeExchange(clock, has_credentials=False))
    service = _service(container)

    with pytest.raises(ConfigurationError):
        await service.get_account_info()

    assert not service.has_credentials


async def test_a_rejected_key_is_an_authentication_error(container: Container, fake: FakeExchange) -> None:
    fake.script.fail_next(AuthenticationError("Signature for this request is not valid.", code=-1022))

    with pytest.raises(AuthenticationError) as caught:
        await _service(container).get_account_info()

    assert caught.value.exit_code == 4


async def test_a_negative_balance_fails_validation(container: Container, clock: FakeClock) -> None:
    broken = [Balance("BTC", Decimal("-1"), Decimal(0)), Balance("ETH", Decimal(1), Decimal("-2"))]
    container.fake_exchange.override(FakeExchange(clock, balances=broken))

    with pytest.raises(DataValidationError) as caught:
        await _service(container).non_zero_balances()

    assert [v.reason for v in caught.value.violations] == [Reason.NEGATIVE_QUANTITY] * 2
    assert "balance BTC free: -1 is negative" in str(caught.value)
