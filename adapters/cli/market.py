"""Commands over public market data: ``time``, ``prices`` and ``ticker``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapters.cli._output import console, decimal_text, emit_json, iso, milliseconds
from adapters.cli._runtime import command
from domain import parse_symbols

__all__ = ["prices", "server_time", "ticker"]

SymbolsArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Trading pairs, e.g. BTCUSDT ETHUSDT (default: five pairs).", show_default=False),
]


def server_time(ctx: typer.Context) -> None:
    """Print the exchange's time and how far the local clock is from it."""
    with command(ctx) as state:
        reading = state.run(lambda c: c.market_data_service().measure_clock_offset())
        if state.json:
            emit_json(reading)
            return
        table = Table("", "value", title="Server time")
        table.add_row("server time", iso(reading.server_time_ms))
        table.add_row("local time", iso(reading.local_time_ms))
        table.add_row("offset (server - local)", milliseconds(reading.offset_ms, signed=True))
        table.add_row("round trip", milliseconds(reading.rtt_ms))
        console().print(table)


def prices(ctx: typer.Context, symbols: SymbolsArgument = None) -> None:
    """Print the latest price of each pair (one request for all of them)."""
    with command(ctx) as state:
        wanted = parse_symbols(symbols or state.config["symbols"])
        quotes = state.run(lambda c: c.market_data_service().fetch_quotes(wanted))
        if state.json:
            emit_json({"prices": quotes})
            return
        table = Table("symbol", "price", "as of", title="Prices")
        for quote in quotes:
            table.add_row(str(quote.symbol), decimal_text(quote.price), iso(quote.as_of_ms))
        console().print(table)


def ticker(ctx: typer.Context, symbols: SymbolsArgument = None) -> None:
    """Print the rolling 24-hour statistics of each pair."""
    with command(ctx) as state:
        wanted = parse_symbols(symbols or state.config["symbols"])
        tickers = state.run(lambda c: c.market_data_service().fetch_tickers_24h(wanted))
        if state.json:
            emit_json({"tickers": tickers})
            return
        table = Table("symbol", "last", "change %", "high", "low", "volume", "trades", title="24h statistics")
        for item in tickers:
            table.add_row(
                str(item.symbol),
                decimal_text(item.last_price),
                decimal_text(item.price_change_percent),
                decimal_text(item.high_price),
                decimal_text(item.low_price),
                decimal_text(item.volume),
                str(item.trade_count),
            )
        console().print(table)
