"""The ``backfill`` command: store every closed candle of a range, resuming from what is stored.

Exit status 0 when every series is complete (ranges where the exchange has no candle, such as before a
listing, are reported but count as complete); otherwise the status of the first failure that left a gap
(6 network or exchange unavailable, 5 rate limited or banned, 7 data that failed validation, ...). Ctrl-C
or SIGTERM stop it after the pages under way are stored; the same command then resumes (exit status 130).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Annotated

import typer
from dependency_injector import providers
from rich import box
from rich.console import Console
from rich.table import Table

from adapters.cli._output import emit_json, iso, jsonable
from adapters.cli._progress import BackfillDisplay
from adapters.cli._runtime import command
from adapters.cli.klines import parse_moment
from adapters.cli.market import SymbolsArgument
from adapters.container import Container
from application.backfill import DEFAULT_CONCURRENCY
from application.backfill_report import BackfillReport, GapKind, SeriesReport
from domain import ms_to_datetime, parse_symbols

__all__ = ["INTERRUPTED_EXIT", "backfill"]

#: Exit status after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
INTERRUPTED_EXIT = 130
_SHOWN_GAPS = 10

IntervalsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--interval", "-i", help="Candle length; repeat for several (default 1m).", show_default=False
    ),
]
SinceOption = Annotated[
    str,
    typer.Option(
        help="First open time: ISO date/time (UTC) or epoch ms, e.g. 2025-01-01.", show_default=False
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(help="Stop before this open time (default: now; the open candle is never stored)."),
]
ConcurrencyOption = Annotated[int, typer.Option(min=1, max=64, help="Requests in flight at once.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON summary at the end.")]


@contextlib.contextmanager
def _stop_on_signals(task: asyncio.Task[BackfillReport]) -> Iterator[None]:
    """SIGINT and SIGTERM cancel ``task``; pages already fetched are still stored (see the service)."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not on this platform
            loop.add_signal_handler(signum, task.cancel)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def backfill(
    ctx: typer.Context,
    since: SinceOption,
    symbols: SymbolsArgument = None,
    interval: IntervalsOption = None,
    until: UntilOption = None,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    json_output: JsonFlag = False,
) -> None:
    """Store every closed candle of the pairs from --since to --until, fetching only what is missing."""
    with command(ctx) as state:
        wanted = parse_symbols(symbols or state.config["symbols"])
        intervals = interval or ["1m"]
        first = parse_moment(since, "--since")
        last = parse_moment(until, "--until") if until is not None else None
        as_json = json_output or state.json
        # Progress goes to stderr when stdout carries the JSON document.
        out = Console(highlight=False, stderr=as_json)
        bars = out.is_terminal and not as_json

        async def work(container: Container) -> tuple[BackfillReport | None, str]:
            # The loop does nothing but fetch and store, so an SQLite store writes on it: less CPU, and
            # on few cores less time, than a writer thread (docs/benchmarks.md).
            with container.store_writes_on_loop.override(providers.Object(True)):
                # Both need the store, an async resource: the providers return awaitables.
                service = await container.backfill_service(concurrency=concurrency)  # type: ignore[misc]
                store = await container.market_data_store()
            with BackfillDisplay(out, bars=bars) as display:
                task = asyncio.ensure_future(service.run(wanted, intervals, first, last, on_progress=display))
                with _stop_on_signals(task):
                    try:
                        return await task, store.location
                    except asyncio.CancelledError:
                        if not task.cancelled():
                            raise
                        return None, store.location

        report, location = state.run(work)
        if report is None:
            message = f"interrupted: what was fetched is stored in {location}; run the same command to resume"
            typer.echo(message, err=True)
        elif as_json:
            emit_json(_document(report, location))
        else:
            _render(Console(highlight=False), report, location)
    # Raised outside ``command``, which treats anything raised inside as a failure to explain.
    status = INTERRUPTED_EXIT if report is None else report.exit_code
    if status:
        raise typer.Exit(status)


def _document(report: BackfillReport, location: str) -> dict[str, object]:
    return {
        "db": location,
        "complete": report.complete,
        "exit_code": report.exit_code,
        "stored": report.stored,
        "started": iso(report.started_ms),
        "finished": iso(report.finished_ms),
        "series": [
            {"complete": series.complete, "missing": series.missing, **_series_fields(series)}
            for series in report.series
        ],
    }


def _series_fields(series: SeriesReport) -> dict[str, object]:
    fields: dict[str, object] = jsonable(series)
    return fields


def _moment(ms: int) -> str:
    """``2025-01-01`` at midnight UTC, else ``2025-01-01 12:30``: short enough for an 80-column table."""
    moment = ms_to_datetime(ms)
    return moment.strftime("%Y-%m-%d" if moment.hour == moment.minute == 0 else "%Y-%m-%d %H:%M")


def _render(out: Console, report: BackfillReport, location: str) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("series", "since", "until"):
        table.add_column(name, no_wrap=True)
    for name in ("candles", "had", "stored", "missing"):
        table.add_column(name, justify="right")
    for series in report.series:
        by_kind = {kind: sum(g.count for g in series.gaps if g.kind is kind) for kind in GapKind}
        missing = ", ".join(f"{count:,} {kind.value}" for kind, count in by_kind.items() if count) or "0"
        table.add_row(
            f"{series.symbol} {series.interval.value}",
            _moment(series.start_ms),
            _moment(series.interval.next_open_ms(series.end_ms)),
            f"{series.expected:,}",
            f"{series.already_stored:,}",
            f"{series.stored:,}",
            missing,
        )
    out.print(table)
    gaps = [(series, gap) for series in report.series for gap in series.gaps]
    for series, gap in gaps[:_SHOWN_GAPS]:
        why = {
            GapKind.EMPTY: "the exchange has no candle there",
            GapKind.FAILED: f"fetch failed: {gap.error_type}: {gap.error}",
            GapKind.REJECTED: f"failed validation: {gap.error}",
        }[gap.kind]
        out.print(
            f"  {series.symbol} {series.interval.value}: {gap.count:,} candles missing from "
            f"{iso(gap.start_ms)} to {iso(gap.end_ms)} ({why})"
        )
    if len(gaps) > _SHOWN_GAPS:
        out.print(f"  ... and {len(gaps) - _SHOWN_GAPS} more gaps (--json lists them all)")
    verdict = "complete" if report.complete else "incomplete: run the same command again to fetch what failed"
    out.print(f"stored {report.stored:,} candles in {location}; {verdict}")
