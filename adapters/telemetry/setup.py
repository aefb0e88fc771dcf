"""The OpenTelemetry SDK set-up: tracer and meter providers, their exporters, and a flushing shutdown.

Only this package and the container import the SDK; everything else uses the API (``opentelemetry.trace``,
``opentelemetry.metrics``) and receives the providers from the container, or falls back to the process-wide
ones, which ``setup_telemetry`` installs when something is exported.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import IO

import attrs
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from adapters.telemetry.settings import TelemetrySettings
from domain import ConfigurationError

__all__ = ["TelemetryHandle", "setup_telemetry", "telemetry_resource"]

_OTLP_TRACES = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
_OTLP_METRICS = "opentelemetry.exporter.otlp.proto.http.metric_exporter"
_OTLP_HINT = "install the otlp extra (pip install 'binance-gateway[otlp]') or set {variable}=console or none"
_FLUSH_TIMEOUT_MS = 10_000

Importer = Callable[[str], ModuleType]


@attrs.define
class TelemetryHandle:
    """The configured providers; ``shutdown`` flushes what is buffered and stops the exporters."""

    tracer_provider: trace.TracerProvider
    meter_provider: metrics.MeterProvider
    _closed: bool = attrs.field(default=False, init=False)

    def force_flush(self, timeout_millis: int = _FLUSH_TIMEOUT_MS) -> bool:
        """Export everything buffered now; ``False`` when an exporter did not finish in time."""
        done = True
        if isinstance(self.tracer_provider, TracerProvider):
            done = self.tracer_provider.force_flush(timeout_millis) and done
        if isinstance(self.meter_provider, MeterProvider):
            done = self.meter_provider.force_flush(timeout_millis) and done
        return done

    def shutdown(self) -> None:
        """Flush and stop the exporters; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        if isinstance(self.tracer_provider, TracerProvider):
            self.tracer_provider.shutdown()
        if isinstance(self.meter_provider, MeterProvider):
            self.meter_provider.shutdown(timeout_millis=_FLUSH_TIMEOUT_MS)


def _otlp(module: str, variable: str, importer: Importer) -> ModuleType:
    try:
        return importer(module)
    except ImportError:
        msg = f"{variable}=otlp needs the OTLP exporter, which is not installed; " + _OTLP_HINT.format(
            variable=variable
        )
        raise ConfigurationError(msg) from None


def _span_exporter(name: str, importer: Importer, out: IO[str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter(out=out)
    module = _otlp(_OTLP_TRACES, "OTEL_TRACES_EXPORTER", importer)
    exporter: SpanExporter = module.OTLPSpanExporter()
    return exporter


def _metric_exporter(name: str, importer: Importer, out: IO[str]) -> MetricExporter:
    if name == "console":
        return ConsoleMetricExporter(out=out)
    module = _otlp(
        "opentelemetry.exporter.otlp.proto.http.metric_exporter", "OTEL_METRICS_EXPORTER", importer
    )
    exporter: MetricExporter = module.OTLPMetricExporter()
    return exporter


def _install_globals(handle: TelemetryHandle) -> None:
    # The API lets a process set its providers once; a second set-up (another container in the same
    # process, as in tests) keeps its providers to itself instead of logging an override warning.
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(handle.tracer_provider)
        metrics.set_meter_provider(handle.meter_provider)


def setup_telemetry(
    settings: TelemetrySettings,
    *,
    install_global: bool | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    console: IO[str] | None = None,
    importer: Importer = importlib.import_module,
) -> TelemetryHandle:
    """Build the providers ``settings`` ask for.

    OTLP goes through the ``http/protobuf`` exporter of the optional ``otlp`` extra (a missing extra is a
    ``ConfigurationError`` naming the fix); ``console`` prints to ``console`` (standard error by default,
    so that a command's own output stays parseable). ``install_global`` (default: when anything is
    exported) also makes them the process-wide providers, which only the first set-up in a process can do.
    ``span_processors`` and ``metric_readers`` are added as given (tests attach in-memory ones).
    """
    if settings.sdk_disabled:
        return TelemetryHandle(trace.NoOpTracerProvider(), metrics.NoOpMeterProvider())
    out = console if console is not None else sys.stderr
    resource = Resource.create({SERVICE_NAME: settings.service_name})
    processors = list(span_processors)
    for name in settings.traces_exporters:
        exporter = _span_exporter(name, importer, out)
        processors.append(
            SimpleSpanProcessor(exporter) if name == "console" else BatchSpanProcessor(exporter)
        )
    readers = list(metric_readers)
    readers += [
        PeriodicExportingMetricReader(_metric_exporter(name, importer, out))
        for name in settings.metrics_exporters
    ]
    # With nothing to receive them, spans are not recorded: each is a non-recording span that still carries
    # the trace and span ids the log lines show, at a fraction of the cost of recording it.
    tracer_provider = TracerProvider(resource=resource, sampler=None if processors else ALWAYS_OFF)
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    handle = TelemetryHandle(tracer_provider, MeterProvider(resource=resource, metric_readers=readers))
    if settings.exports_anything if install_global is None else install_global:
        _install_globals(handle)
    return handle


def telemetry_resource(settings: TelemetrySettings) -> Iterator[TelemetryHandle]:
    """``setup_telemetry`` as a container ``Resource``: shut down (flushed) when the container closes."""
    handle = setup_telemetry(settings)
    try:
        yield handle
    finally:
        handle.shutdown()
