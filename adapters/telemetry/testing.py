"""In-memory telemetry for tests: every span and metric point kept in memory, read back through the SDK.

Override the container's ``telemetry`` provider with ``in_memory_telemetry()``, run the code, then read
``spans()`` and ``metric_points()``::

    telemetry = in_memory_telemetry()
    with container.telemetry.override(telemetry):
        ...
    assert telemetry.spans_named("HealthMonitor.check")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.telemetry.settings import TelemetrySettings
from adapters.telemetry.setup import TelemetryHandle, setup_telemetry

__all__ = ["InMemoryTelemetry", "MetricPoint", "in_memory_telemetry"]


@attrs.frozen
class MetricPoint:
    """One data point: the metric's meter (scope), name and unit, its attributes, and its value.

    ``value`` is the sum or gauge value, or for a histogram its count (``sum`` holds the histogram's sum).
    """

    scope: str
    name: str
    unit: str
    attributes: Mapping[str, Any]
    value: float
    sum: float | None = None


@attrs.define
class InMemoryTelemetry(TelemetryHandle):
    """A ``TelemetryHandle`` whose spans and metrics stay in memory."""

    span_exporter: InMemorySpanExporter = attrs.field(kw_only=True)
    metric_reader: InMemoryMetricReader = attrs.field(kw_only=True)

    def spans(self) -> tuple[ReadableSpan, ...]:
        """Every finished span, oldest first."""
        return self.span_exporter.get_finished_spans()

    def spans_named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.name == name]

    def collect(self) -> MetricsData | None:
        """Collect every instrument now (observable gauges call their callbacks)."""
        return self.metric_reader.get_metrics_data()

    def metric_points(self) -> list[MetricPoint]:
        """Every data point of every metric, cumulative since the providers were built."""
        return list(_points(self.collect()))

    def points_of(self, name: str) -> list[MetricPoint]:
        return [point for point in self.metric_points() if point.name == name]


def _points(data: MetricsData | None) -> Iterator[MetricPoint]:
    if data is None:
        return
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    attributes = dict(point.attributes or {})
                    scope, unit = scope_metrics.scope.name, metric.unit or ""
                    if isinstance(point, NumberDataPoint):
                        yield MetricPoint(scope, metric.name, unit, attributes, point.value)
                    else:  # a histogram
                        yield MetricPoint(scope, metric.name, unit, attributes, point.count, point.sum)


def in_memory_telemetry(service_name: str = "binance-gateway-test") -> InMemoryTelemetry:
    """Fresh providers that export to memory only, never installed process-wide."""
    exporter = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    handle = setup_telemetry(
        TelemetrySettings(service_name=service_name),
        install_global=False,
        span_processors=[SimpleSpanProcessor(exporter)],
        metric_readers=[reader],
    )
    return InMemoryTelemetry(
        handle.tracer_provider, handle.meter_provider, span_exporter=exporter, metric_reader=reader
    )
