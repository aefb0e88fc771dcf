"""Backfill progress: a rich bar per series on a terminal, plain lines otherwise.

On a terminal each series (``BTCUSDT 1m``) gets a bar with candles done of the total, the rate in candles
per second and the time left. Elsewhere (a pipe, a log file, CI) a line is written when a series passes
each tenth of its work and when it finishes, e.g. ``BTCUSDT 1m: 52,000 of 527,040 candles (10%)``.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from application.backfill_report import BackfillProgress
from domain import Interval, Symbol

__all__ = ["BackfillDisplay"]

_STEPS = 10


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} candles/s")


class BackfillDisplay:
    """A progress callback for ``BackfillService.run``; use it as a context manager around the run."""

    def __init__(self, console: Console, *, bars: bool) -> None:
        self._console = console
        self._bars = bars
        self._progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("candles"),
                _RateColumn(),
                TimeRemainingColumn(),
                console=console,
            )
            if bars
            else None
        )
        self._tasks: dict[tuple[Symbol, Interval], TaskID] = {}
        self._shown: dict[tuple[Symbol, Interval], int] = {}
        self._first: dict[tuple[Symbol, Interval], tuple[float, int]] = {}

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: BackfillProgress) -> None:
        key = (event.symbol, event.interval)
        name = f"{event.symbol} {event.interval.value}"
        if self._progress is not None:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = self._progress.add_task(name, total=max(event.total, 1))
            self._progress.update(task, completed=event.done if event.total else 1)
            return
        if event.done and key not in self._first:
            self._first[key] = (time.monotonic(), event.done)
        step = _STEPS + 1 if event.finished else (event.done * _STEPS // event.total if event.total else 0)
        if key in self._shown and step <= self._shown[key]:
            return
        self._shown[key] = step
        if event.finished:
            self._console.print(f"{name}: done, {event.stored:,} candles stored", highlight=False)
        elif event.total == 0:
            self._console.print(f"{name}: nothing missing", highlight=False)
        else:
            share = event.done / event.total
            rate = ""
            if key in self._first:
                since, done_then = self._first[key]
                elapsed = time.monotonic() - since
                if elapsed > 0 and event.done > done_then:
                    rate = f", {(event.done - done_then) / elapsed:,.0f} candles/s"
            self._console.print(
                f"{name}: {event.done:,} of {event.total:,} candles ({share:.0%}){rate}", highlight=False
            )
