"""OpenTelemetry SDK setup for the composition root; empty until telemetry lands."""

__all__: list[str] = []
