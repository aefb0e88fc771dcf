"""The ``account`` command: non-zero balances, permissions and commission rates."""

from __future__ import annotations

import typer
from rich.table import Table

from adapters.cli._output import console, decimal_text, emit_json, iso
from adapters.cli._runtime import command
from domain import AccountInfo

__all__ = ["account", "account_tables"]


def account_tables(info: AccountInfo) -> tuple[Table, Table]:
    """The account summary and its non-zero balances as two tables."""
    rates = info.commission_rates
    summary = Table("", "value", title=f"Account ({info.account_type})")
    summary.add_row("permissions", ", ".join(info.permissions) or "none")
    abilities = f"{info.can_trade} / {info.can_withdraw} / {info.can_deposit}"
    summary.add_row("can trade / withdraw / deposit", abilities)
    summary.add_row("commission maker / taker", f"{decimal_text(rates.maker)} / {decimal_text(rates.taker)}")
    summary.add_row("updated", iso(info.update_time_ms))
    balances = Table("asset", "free", "locked", "total", title="Non-zero balances")
    for balance in sorted(info.non_zero_balances(), key=lambda b: b.asset):
        amounts = (balance.free, balance.locked, balance.total)
        balances.add_row(balance.asset, *(decimal_text(amount) for amount in amounts))
    return summary, balances


def account(ctx: typer.Context) -> None:
    """Print the account's non-zero balances, permissions and commission rates (needs credentials)."""
    with command(ctx) as state:
        info = state.run(lambda c: c.account_service().get_account_info(omit_zero_balances=True))
        if state.json:
            emit_json({"account": info})
            return
        out = console()
        for table in account_tables(info):
            out.print(table)
