"""Send every alert to several sinks, one after the other."""

from __future__ import annotations

from collections.abc import Iterable

from domain import Alert
from ports import AlertSink

__all__ = ["FanOutAlertSink"]


class FanOutAlertSink(AlertSink):
    """Delivers each alert to every sink in order (sinks never raise, so one cannot starve the next)."""

    def __init__(self, sinks: Iterable[AlertSink]) -> None:
        self._sinks = tuple(sinks)

    @property
    def sinks(self) -> tuple[AlertSink, ...]:
        return self._sinks

    async def send(self, alert: Alert) -> None:
        for sink in self._sinks:
            await sink.send(alert)
