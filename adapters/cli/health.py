"""The ``health`` command: probe the exchange link, print every signal, exit 0 ok, 1 degraded, 2 down.

A single check sends no alert (a one-off run has no earlier status to compare with, so a container health
check run every few seconds would otherwise alert every time); ``--watch`` keeps one monitor running and
alerts whenever a signal changes status, and again when it recovers.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from adapters.alerts import FanOutAlertSink
from adapters.cli._output import console, iso
from adapters.cli._runtime import command
from adapters.container import Container
from domain import HealthReport, SignalResult, Status

__all__ = ["health", "report_document"]

_SMALL = 10  # durations below this many units are shown with a decimal
_INTERRUPTED = 130  # the shell's status for Ctrl-C
_STYLE = {Status.OK: "green", Status.DEGRADED: "yellow", Status.DOWN: "bold red"}

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document (one JSON line per round with --watch).")
]
WatchOption = Annotated[
    float | None,
    typer.Option(
        "--watch",
        metavar="SECONDS",
        min=0,
        help="Check again every SECONDS until interrupted, alerting on every change of status.",
        show_default=False,
    ),
]
CountOption = Annotated[
    int | None,
    typer.Option("--count", min=1, help="With --watch: stop after this many rounds.", show_default=False),
]


def report_document(report: HealthReport) -> dict[str, Any]:
    """The report as plain JSON types: overall status, time, and every signal."""
    return {
        "status": report.status.value,
        "checked_at": iso(report.checked_at_ms),
        "checked_at_ms": report.checked_at_ms,
        "signals": [
            {
                "name": signal.name,
                "status": signal.status.value,
                "value": signal.value,
                "threshold": signal.threshold,
                "unit": signal.unit,
                "message": signal.message,
            }
            for signal in report.signals
        ],
        "problems": [signal.name for signal in report.problems],
    }


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit in {"ms", "s"}:
        digits = 1 if abs(value) < _SMALL else 0
        return f"{round(value, digits) + 0.0:,.{digits}f} {unit}"  # + 0.0 turns -0.0 into 0.0
    return f"{value:g}"


def _status(status: Status) -> Text:
    return Text(status.value, style=_STYLE[status])


def _table(report: HealthReport) -> Table:
    title = Text.assemble("Health: ", _status(report.status), f"  ({iso(report.checked_at_ms)})")
    table = Table("signal", "status", "value", "threshold", "detail", title=title)
    for signal in report.signals:
        table.add_row(
            signal.name,
            _status(signal.status),
            _amount(signal.value, signal.unit),
            _threshold(signal),
            signal.message,
        )
    return table


def _threshold(signal: SignalResult) -> str:
    if signal.threshold is None:
        return "-"
    return f">= {_amount(signal.threshold, signal.unit)}"


def _print(report: HealthReport, *, as_json: bool, lines: bool) -> None:
    if as_json:
        document = report_document(report)
        typer.echo(json.dumps(document) if lines else json.dumps(document, indent=2))
    else:
        console().print(_table(report))


async def _watch(container: Container, interval_s: float, count: int | None, as_json: bool) -> Status:
    last = Status.OK
    async for report in container.health_monitor().watch(interval_s, rounds=count):
        _print(report, as_json=as_json, lines=True)
        last = report.status
    return last


def health(
    ctx: typer.Context, json_output: JsonOption = False, watch: WatchOption = None, count: CountOption = None
) -> None:
    """Check the exchange link: reachability, latency, errors, weight, ban, clock, data freshness."""
    with command(ctx) as state:
        as_json = json_output or state.json
        if watch is None:
            # One check, no alerts: see the module docstring.
            report = state.run(lambda c: c.health_monitor(alerts=FanOutAlertSink([])).check())
            _print(report, as_json=as_json, lines=False)
            status = report.status
        else:
            try:
                status = state.run(lambda c: _watch(c, watch, count, as_json))
            except KeyboardInterrupt:
                status = None
    raise typer.Exit(_INTERRUPTED if status is None else status.severity)
