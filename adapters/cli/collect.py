"""The ``collect`` command: keep prices and candles of the pairs current in the store until stopped.

SIGINT (Ctrl-C) and SIGTERM stop it cleanly: the requests under way finish, what they brought is stored, and
a summary is printed (exit status 0). ``--duration`` stops it after that many seconds. Running it again
continues where it stopped, repairing the candles that closed in between.

Candles and prices come from the WebSocket streams, with REST polling while the streams are down;
``--rest`` (or ``BINANCE_GATEWAY_STREAMS=false``) polls over REST only.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from adapters.cli._output import emit_json, iso
from adapters.cli._runtime import command
from adapters.cli.market import SymbolsArgument
from adapters.container import Container
from application.collector import Collector
from application.collector_stats import CollectorStats
from domain import Interval, InvalidInputError, parse_symbols
from domain.validators import Reason

__all__ = ["collect"]

_PLAIN_EVERY_S = 60.0

IntervalsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--interval", "-i", help="Candle length; repeat for several (default 1m).", show_default=False
    ),
]
DurationOption = Annotated[
    float | None, typer.Option(help="Stop after this many seconds (default: run until Ctrl-C or SIGTERM).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON summary at the end.")]
RestFlag = Annotated[
    bool,
    typer.Option(
        "--rest", help="Poll over REST only, without the WebSocket streams (BINANCE_GATEWAY_STREAMS=false)."
    ),
]


@contextlib.contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not on this platform
            loop.add_signal_handler(signum, stop)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _status(stats: CollectorStats, what: str) -> str:
    return (
        f"collecting {what}: {stats.prices_stored:,} prices and {stats.candles_stored:,} candles stored, "
        f"{stats.gaps_repaired} of {stats.gaps_found} gaps repaired"
    )


async def _report_while_running(collector: Collector, out: Console, what: str, *, live: bool) -> None:
    """A status line refreshed every second on a terminal; a plain line a minute elsewhere."""
    if live:
        with out.status(_status(collector.stats, what) + " (Ctrl-C stops)") as status:
            while True:
                await asyncio.sleep(1)
                status.update(_status(collector.stats, what) + " (Ctrl-C stops)")
    while True:
        await asyncio.sleep(_PLAIN_EVERY_S)
        out.print(_status(collector.stats, what))


def collect(
    ctx: typer.Context,
    symbols: SymbolsArgument = None,
    interval: IntervalsOption = None,
    duration: DurationOption = None,
    json_output: JsonFlag = False,
    rest: RestFlag = False,
) -> None:
    """Keep prices and candles of the pairs current in the store until Ctrl-C, SIGTERM or --duration."""
    with command(ctx) as state:
        wanted = parse_symbols(symbols or state.config["symbols"])
        intervals = [Interval.parse(i) for i in interval or ["1m"]]
        if duration is not None and not duration > 0:
            msg = f"--duration must be a positive number of seconds, not {duration}"
            raise InvalidInputError(msg)
        as_json = json_output or state.json
        out = Console(highlight=False, stderr=as_json)
        what = f"{len(wanted)} pairs x {', '.join(i.value for i in intervals)}"

        async def work(container: Container) -> tuple[CollectorStats, int, str]:
            streaming = not rest and state.config["streams"]["enabled"]
            feed = container.stream_feed(symbols=wanted, intervals=intervals) if streaming else None
            collector = await container.collector(  # type: ignore[misc]
                symbols=wanted, intervals=intervals, feed=feed
            )
            store = await container.market_data_store()
            with _stop_on_signals(collector.stop):
                reporter = asyncio.ensure_future(
                    _report_while_running(collector, out, what, live=out.is_terminal and not as_json)
                )
                try:
                    stats = await collector.run(duration_s=duration)
                finally:
                    reporter.cancel()
                    await asyncio.gather(reporter, return_exceptions=True)
            return stats, collector.now_ms(), store.location

        stats, now_ms, location = state.run(work)
        if as_json:
            emit_json(_document(stats, now_ms, location))
        else:
            _render(Console(highlight=False), stats, now_ms, location)


def _age(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:,.1f} s"


def _reasons(counts: dict[Reason, int]) -> str:
    return ", ".join(f"{reason.value} {count}" for reason, count in counts.items()) or "0"


def _render(out: Console, stats: CollectorStats, now_ms: int, location: str) -> None:
    fresh = {entry.symbol: entry for entry in stats.freshness(now_ms)}
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("pair", no_wrap=True)
    for name in ("prices", "price age", "interval", "candles", "candle age", "gaps", "failed", "rejected"):
        table.add_column(name, justify="left" if name in {"interval", "rejected"} else "right")
    for (symbol, interval), series in stats.series.items():
        prices = stats.symbols[symbol]
        rejected = dict(prices.rejected)
        for reason, count in series.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + count
        table.add_row(
            str(symbol),
            f"{prices.prices_stored:,}",
            _age(fresh[symbol].price_age_ms),
            interval.value,
            f"{series.candles_stored:,}",
            _age(fresh[symbol].candle_age_ms.get(interval)),
            f"{series.gaps_repaired}/{series.gaps_found}",
            str(series.failures),
            _reasons(rejected),
        )
    out.print(table)
    if stats.last_error:
        out.print(f"last error: {stats.last_error}")
    out.print(
        f"stopped: {stats.prices_stored:,} prices and {stats.candles_stored:,} candles stored in {location} "
        f"since {iso(stats.started_ms)}; run collect again to continue"
    )


def _document(stats: CollectorStats, now_ms: int, location: str) -> dict[str, object]:
    fresh = {entry.symbol: entry for entry in stats.freshness(now_ms)}
    return {
        "db": location,
        "started": iso(stats.started_ms),
        "stopped": iso(now_ms),
        "prices_stored": stats.prices_stored,
        "candles_stored": stats.candles_stored,
        "price_polls": stats.price_polls,
        "price_failures": stats.price_failures,
        "gaps_found": stats.gaps_found,
        "gaps_repaired": stats.gaps_repaired,
        "last_error": stats.last_error,
        "symbols": [
            {
                "symbol": symbol,
                "prices_stored": prices.prices_stored,
                "newest_price_ms": prices.newest_price_ms,
                "price_age_ms": fresh[symbol].price_age_ms,
                "rejected": prices.rejected,
            }
            for symbol, prices in stats.symbols.items()
        ],
        "series": [
            {
                "symbol": symbol,
                "interval": interval,
                "candles_stored": series.candles_stored,
                "newest_candle_ms": series.newest_candle_ms,
                "candle_age_ms": fresh[symbol].candle_age_ms.get(interval),
                "polls": series.polls,
                "failures": series.failures,
                "gaps_found": series.gaps_found,
                "gaps_repaired": series.gaps_repaired,
                "candles_repaired": series.candles_repaired,
                "rejected": series.rejected,
                "last_error": series.last_error,
            }
            for (symbol, interval), series in stats.series.items()
        ],
    }
