"""The default alert sink: one log record per alert, at a level that matches the new status."""

from __future__ import annotations

import logging

from domain import Alert, Status
from ports import AlertSink

__all__ = ["LoggingAlertSink"]

_LEVELS = {Status.OK: logging.INFO, Status.DEGRADED: logging.WARNING, Status.DOWN: logging.ERROR}


class LoggingAlertSink(AlertSink):
    """Logs ``health alert: <signal> <old> -> <new>: <message>`` on ``binance_gateway.alerts``.

    Recoveries are INFO, degradations WARNING and outages ERROR; the alert's fields ride along as
    ``alert_*`` extras, so the JSON log lines can be filtered on them.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("binance_gateway.alerts")

    async def send(self, alert: Alert) -> None:
        self._logger.log(
            _LEVELS[alert.current],
            "health alert: %s: %s",
            alert.title,
            alert.message,
            extra={
                "alert_signal": alert.signal,
                "alert_status": alert.current.value,
                "alert_previous": alert.previous.value,
                "alert_value": alert.value,
                "alert_threshold": alert.threshold,
            },
        )
