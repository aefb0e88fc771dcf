"""OpenTelemetry SDK setup (tracer and meter providers, exporters) used by the composition root."""

__all__: list[str] = []
