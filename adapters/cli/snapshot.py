"""The ``snapshot`` command: clock, rules, prices, 24h statistics, recent candles, account, validation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapters.cli._output import console, decimal_text, emit_json, iso, milliseconds
from adapters.cli._runtime import command
from adapters.cli._saved import saved_line
from adapters.cli.account import account_tables
from adapters.cli.market import SymbolsArgument
from application import DEFAULT_KLINE_COUNT, Snapshot
from domain import Interval, parse_symbols

__all__ = ["snapshot"]


def _pairs(shot: Snapshot) -> Table:
    columns = ("symbol", "status", "price", "24h %", "24h high", "24h low", "candles")
    table = Table(*columns, title=f"Snapshot at {iso(shot.taken_at_ms)}")
    tickers = {t.symbol: t for t in shot.tickers_24h}
    rules = {r.symbol: r for r in shot.rules}
    for quote in shot.quotes:
        stats, rule = tickers.get(quote.symbol), rules.get(quote.symbol)
        candles = shot.klines.get(quote.symbol, ())
        table.add_row(
            str(quote.symbol),
            rule.status if rule is not None else "?",
            decimal_text(quote.price),
            decimal_text(stats.price_change_percent) if stats else "",
            decimal_text(stats.high_price) if stats else "",
            decimal_text(stats.low_price) if stats else "",
            f"{len(candles)} x {shot.interval.value}",
        )
    return table


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _render(shot: Snapshot) -> None:
    out = console()
    clock = shot.clock
    out.print(f"server time {iso(clock.server_time_ms)}")
    offset, rtt = milliseconds(clock.offset_ms, signed=True), milliseconds(clock.rtt_ms)
    out.print(f"clock offset {offset} (server - local), round trip {rtt}")
    out.print(_pairs(shot))
    if shot.account is None:
        out.print("account: no credentials configured, skipped")
    else:
        for table in account_tables(shot.account):
            out.print(table)
    report = shot.report
    if report.ok:
        out.print(f"validation: {report.checked} items checked, no problems")
        return
    found = f"{_count(len(report.problems), 'problem')}, {_count(len(report.gaps), 'gap')}"
    out.print(f"validation: {report.checked} items checked, {found}")
    for label, violation in report.problems:
        out.print(f"  {label} {violation}")
    for label, gap in report.gaps:
        out.print(f"  {label}: {gap.count} candles missing from {iso(gap.start_ms)} to {iso(gap.end_ms)}")


IntervalOption = Annotated[str, typer.Option("--interval", "-i", help="Candle length of the recent candles.")]
CandlesOption = Annotated[int, typer.Option(help="How many recent candles per pair (1 to 1000).")]


def snapshot(
    ctx: typer.Context,
    symbols: SymbolsArgument = None,
    interval: IntervalOption = "1m",
    candles: CandlesOption = DEFAULT_KLINE_COUNT,
) -> None:
    """Print one consistent snapshot of the pairs: clock, rules, prices, 24h statistics, candles, account."""
    with command(ctx) as state:
        wanted = parse_symbols(symbols or state.config["symbols"])
        ivl = Interval.parse(interval)
        shot = state.run(lambda c: c.snapshot_service().take(wanted, ivl, candles))
        saved = state.container.snapshot_store().last  # what the snapshot service stored, and where
        if state.json:
            emit_json({"snapshot": shot, "prices": shot.prices, "saved": saved})
        else:
            _render(shot)
            if saved is not None:
                console().print(saved_line(saved))
