"""Alert sinks: a log record per alert (the default) and a JSON webhook, fanned out together."""

from adapters.alerts.fanout import FanOutAlertSink
from adapters.alerts.log import LoggingAlertSink
from adapters.alerts.webhook import WebhookAlertSink, alert_payload, webhook_target

__all__ = ["FanOutAlertSink", "LoggingAlertSink", "WebhookAlertSink", "alert_payload", "webhook_target"]
