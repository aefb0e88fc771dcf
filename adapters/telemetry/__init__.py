"""OpenTelemetry SDK set-up, structured logging and in-memory test helpers (``adapters.telemetry.testing``).

With the container, this is the only place that imports the OpenTelemetry SDK.
"""

from adapters.telemetry.logs import JsonLinesFormatter, LogFormat, TraceContextFilter, configure_logging
from adapters.telemetry.settings import DEFAULT_SERVICE_NAME, TelemetrySettings
from adapters.telemetry.setup import TelemetryHandle, setup_telemetry, telemetry_resource

__all__ = [
    "DEFAULT_SERVICE_NAME",
    "JsonLinesFormatter",
    "LogFormat",
    "TelemetryHandle",
    "TelemetrySettings",
    "TraceContextFilter",
    "configure_logging",
    "setup_telemetry",
    "telemetry_resource",
]
