"""``account``: non-zero balances, permissions and commission rates."""

from __future__ import annotations

from decimal import Decimal

from adapters.memory import FakeExchange
from tests.unit.adapters.cli.conftest import Cli


def test_account_prints_balances_permissions_and_commission(cli: Cli) -> None:
    result = cli("--adapter", "fake", "account")

    assert result.exit_code == 0, result.output
    assert "Non-zero balances" in result.stdout
    assert "SPOT" in result.stdout
    assert "commission" in result.stdout


def test_account_as_json_lists_only_non_zero_balances(cli: Cli) -> None:
    account = cli.json("account")["account"]

    assert account["balances"]
    assert all(Decimal(b["free"]) + Decimal(b["locked"]) > 0 for b in account["balances"])
    assert "SPOT" in account["permissions"]
    assert set(account["commission_rates"]) >= {"maker", "taker"}
    assert account["update_time"].endswith("Z")


def test_account_without_credentials_is_a_configuration_error(cli: Cli) -> None:
    cli.container.fake_exchange.override(FakeExchange(cli.clock, has_credentials=False))

    result = cli("--adapter", "fake", "account")

    assert result.exit_code == 3
    assert result.stderr.startswith("error: account information needs API credentials")
    assert result.stdout == ""
