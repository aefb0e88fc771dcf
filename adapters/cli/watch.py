"""The ``watch`` command: live prices from the market streams, in a table refreshed in place.

Each pair's last price and 24-hour change come from its mini ticker, bid and ask from its book ticker; the
age column says how long ago the pair last changed, and the connection column how the stream is doing.
``--json`` prints one JSON line per event instead (connection events included), for piping. Ctrl-C,
SIGTERM or ``--duration`` stop it (exit status 0).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

import attrs
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from adapters.cli._output import decimal_text, jsonable
from adapters.cli._runtime import command
from adapters.cli.collect import _stop_on_signals
from adapters.cli.market import SymbolsArgument
from adapters.container import Container
from domain import (
    BookTickerEvent,
    ConnectionEvent,
    ConnectionState,
    InvalidInputError,
    MiniTickerEvent,
    StreamConnected,
    StreamDisconnected,
    StreamEvent,
    StreamReconnecting,
    StreamTopic,
    Symbol,
    parse_symbols,
)
from ports import Clock

__all__ = ["Board", "event_line", "watch"]

_REFRESH_S = 0.25
_CONNECTION_EVENTS = (StreamConnected, StreamDisconnected, StreamReconnecting)

DurationOption = Annotated[
    float | None, typer.Option(help="Stop after this many seconds (default: run until Ctrl-C or SIGTERM).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON line per event instead of a table.")]


def _event_type(event: object) -> str:
    name = type(event).__name__.removesuffix("Event").removeprefix("Stream")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def event_line(event: StreamEvent) -> str:
    """One JSON line: ``{"type": "book_ticker", ...}``, decimals as strings, times as ISO-8601 and ms."""
    document: dict[str, Any] = {"type": _event_type(event)}
    document.update(jsonable(event))
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


@attrs.define
class _Row:
    price: Decimal | None = None
    change_percent: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    updated_ms: int | None = None


class Board:
    """What the table shows: the newest figures of each pair and the state of the connections."""

    def __init__(self, symbols: Sequence[Symbol], clock: Clock) -> None:
        self._clock = clock
        self.rows = {symbol: _Row() for symbol in symbols}
        self.connections: dict[str, tuple[ConnectionState, str]] = {}

    def apply(self, event: StreamEvent) -> None:
        if isinstance(event, MiniTickerEvent) and event.symbol in self.rows:
            row = self.rows[event.symbol]
            row.price, row.change_percent = event.close, event.price_change_percent
            row.updated_ms = self._clock.now_ms()
        elif isinstance(event, BookTickerEvent) and event.symbol in self.rows:
            row = self.rows[event.symbol]
            row.bid, row.ask = event.bid_price, event.ask_price
            row.updated_ms = self._clock.now_ms()
        elif isinstance(event, _CONNECTION_EVENTS):
            self.connections[event.connection] = (event.state, _detail(event))

    def connection_text(self) -> str:
        if not self.connections:
            return "connecting"
        states = [state for state, _ in self.connections.values()]
        if all(state is ConnectionState.CONNECTED for state in states):
            return "connected"
        return next(
            (f"{state.value} ({detail})" for state, detail in self.connections.values() if detail),
            "reconnecting",
        )

    def table(self) -> Table:
        now = self._clock.now_ms()
        connection = self.connection_text()
        table = Table(
            "pair", "price", "24h change", "bid", "ask", "updated", "connection", title="Live prices"
        )
        for symbol, row in self.rows.items():
            table.add_row(
                str(symbol),
                _number(row.price),
                "-" if row.change_percent is None else f"{row.change_percent:+.2f} %",
                _number(row.bid),
                _number(row.ask),
                "-" if row.updated_ms is None else f"{max(0, now - row.updated_ms) / 1000:.1f} s ago",
                connection,
            )
        return table


def _number(value: Decimal | None) -> str:
    return "-" if value is None else decimal_text(value)


def _detail(event: ConnectionEvent) -> str:
    if isinstance(event, StreamDisconnected):
        return event.reason.value
    if isinstance(event, StreamReconnecting):
        return f"{event.reason.value}, attempt {event.attempt}"
    return ""


def watch(
    ctx: typer.Context,
    symbols: SymbolsArgument = None,
    duration: DurationOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Show live prices of the pairs from the exchange's streams until Ctrl-C, SIGTERM or --duration."""
    with command(ctx) as state:
        wanted = parse_symbols(symbols or state.config["symbols"])
        if duration is not None and not duration > 0:
            msg = f"--duration must be a positive number of seconds, not {duration}"
            raise InvalidInputError(msg)
        as_json = json_output or state.json

        async def work(container: Container) -> None:
            service = container.market_stream_service()
            board = Board(wanted, container.clock())
            topics = [*StreamTopic.mini_tickers(wanted), *StreamTopic.book_tickers(wanted)]
            stop = asyncio.Event()
            timer = None if duration is None else asyncio.get_running_loop().call_later(duration, stop.set)
            try:
                with _stop_on_signals(stop.set):
                    if as_json:
                        await _until(stop, _print_lines(service.events(topics)))
                    else:
                        await _until(stop, _show(service.events(topics), board))
            finally:
                if timer is not None:
                    timer.cancel()
                await service.close()

        state.run(work)


async def _until(stop: asyncio.Event, work: Any) -> None:
    """Run ``work`` until it ends or ``stop`` is set; its errors propagate."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
    error = results[0]
    if isinstance(error, BaseException) and not isinstance(error, asyncio.CancelledError):
        raise error


async def _print_lines(events: Any) -> None:
    async for event in events:
        typer.echo(event_line(event))


async def _show(events: Any, board: Board) -> None:
    console = Console(highlight=False)
    with Live(board.table(), console=console, refresh_per_second=1 / _REFRESH_S) as live:

        async def refresh() -> None:
            while True:
                await asyncio.sleep(_REFRESH_S)
                live.update(board.table())

        refresher = asyncio.ensure_future(refresh())
        try:
            async for event in events:
                board.apply(event)
        finally:
            refresher.cancel()
            live.update(board.table())
    if not console.is_terminal:
        console.line()  # the final table ends with a line break, like every other command's output
