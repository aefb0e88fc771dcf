"""The alert port: where the health monitor sends a signal's change of status."""

from __future__ import annotations

from typing import Protocol

from domain import Alert

__all__ = ["AlertSink"]


class AlertSink(Protocol):
    """Delivers alerts (a log line, a webhook, ...).

    ``send`` never raises: a sink that cannot deliver logs the failure and returns, so that a broken alert
    channel can never take the health check down with it.
    """

    async def send(self, alert: Alert) -> None:
        """Deliver one alert, retrying as the sink sees fit."""
        ...
