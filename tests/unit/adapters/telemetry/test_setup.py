"""setup_telemetry builds the providers the OTEL_* variables ask for, and nothing by default."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import ClassVar

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from adapters.telemetry import TelemetrySettings, setup_telemetry
from adapters.telemetry.testing import in_memory_telemetry
from domain import ConfigurationError


def test_nothing_is_exported_by_default() -> None:
    settings = TelemetrySettings.from_environ({})

    assert settings == TelemetrySettings(service_name="binance-gateway")
    assert not settings.exports_anything


def test_exporters_and_service_name_are_read_from_the_standard_variables() -> None:
    settings = TelemetrySettings.from_environ(
        {
            "OTEL_SERVICE_NAME": "gateway-eu",
            "OTEL_TRACES_EXPORTER": "otlp, console",
            "OTEL_METRICS_EXPORTER": "NONE",
        }
    )

    assert settings.service_name == "gateway-eu"
    assert settings.traces_exporters == ("otlp", "console")
    assert settings.metrics_exporters == ()
    assert settings.uses_otlp


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER=zipkin"),
        ({"OTEL_METRICS_EXPORTER": "prometheus"}, "OTEL_METRICS_EXPORTER=prometheus"),
        ({"OTEL_TRACES_EXPORTER": "none,console"}, "mixes none"),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
        ),
    ],
)
def test_values_the_gateway_cannot_honour_are_configuration_errors(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named) as caught:
        TelemetrySettings.from_environ(environ)

    assert caught.value.exit_code == 3


def test_a_missing_otlp_extra_is_a_configuration_error_that_names_the_fix() -> None:
    def importer(name: str) -> ModuleType:
        raise ModuleNotFoundError(name)

    settings = TelemetrySettings.from_environ({"OTEL_METRICS_EXPORTER": "otlp"})

    with pytest.raises(ConfigurationError, match=r"binance-gateway\[otlp\]") as caught:
        setup_telemetry(settings, install_global=False, importer=importer)
    assert "OTEL_METRICS_EXPORTER=otlp" in str(caught.value)


class _Collector(BaseHTTPRequestHandler):
    """A stand-in OTLP/HTTP collector that records the path and content type of every export."""

    received: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", "")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    _Collector.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_otlp_exports_to_the_endpoint_named_by_the_standard_variable(
    collector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OTLP exporter reads OTEL_EXPORTER_OTLP_* from the process environment itself.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
    settings = TelemetrySettings.from_environ(
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp"}
    )
    handle = setup_telemetry(settings, install_global=False)

    with handle.tracer_provider.get_tracer("t").start_as_current_span("MarketDataPort.get_server_time"):
        handle.meter_provider.get_meter("m").create_counter("binance_gateway.test.calls").add(1)
    handle.shutdown()

    assert sorted(_Collector.received) == [
        ("/v1/metrics", "application/x-protobuf"),
        ("/v1/traces", "application/x-protobuf"),
    ]


def test_console_exporters_write_to_the_given_stream_not_to_standard_output() -> None:
    out = io.StringIO()
    settings = TelemetrySettings.from_environ(
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console", "OTEL_SERVICE_NAME": "svc"}
    )
    handle = setup_telemetry(settings, install_global=False, console=out)

    with handle.tracer_provider.get_tracer("t").start_as_current_span("MarketDataPort.get_server_time"):
        pass
    handle.meter_provider.get_meter("m").create_counter("binance_gateway.test.calls").add(2)
    handle.shutdown()

    text = out.getvalue()
    assert '"name": "MarketDataPort.get_server_time"' in text
    assert '"service.name": "svc"' in text
    assert "binance_gateway.test.calls" in text


def test_shutdown_flushes_and_can_be_called_twice() -> None:
    telemetry = in_memory_telemetry()
    telemetry.tracer_provider.get_tracer("t").start_span("x").end()

    assert telemetry.force_flush()
    telemetry.shutdown()
    telemetry.shutdown()

    assert [span.name for span in telemetry.spans()] == ["x"]


def test_a_disabled_sdk_gives_no_op_providers() -> None:
    handle = setup_telemetry(TelemetrySettings.from_environ({"OTEL_SDK_DISABLED": "true"}))

    assert not isinstance(handle.tracer_provider, TracerProvider)
    assert not isinstance(handle.meter_provider, MeterProvider)
    assert isinstance(handle.tracer_provider, trace.NoOpTracerProvider)
    assert isinstance(handle.meter_provider, metrics.NoOpMeterProvider)
    handle.shutdown()


def test_with_no_trace_exporter_spans_are_not_recorded_but_keep_the_ids_logs_show() -> None:
    handle = setup_telemetry(TelemetrySettings.from_environ({}), install_global=False)
    tracer = handle.tracer_provider.get_tracer("t")

    with tracer.start_as_current_span("MarketDataPort.get_server_time") as span:
        assert not span.is_recording()
        assert trace.get_current_span() is span
        context = span.get_span_context()
        assert context.is_valid
    assert isinstance(handle.tracer_provider, TracerProvider)
    handle.shutdown()

    recorded = in_memory_telemetry()  # a span processor given: every span is recorded
    with recorded.tracer_provider.get_tracer("t").start_as_current_span("x") as span:
        assert span.is_recording()
    assert [s.name for s in recorded.spans()] == ["x"]


def test_in_memory_telemetry_reads_back_spans_and_every_kind_of_metric_point() -> None:
    telemetry = in_memory_telemetry()
    meter = telemetry.meter_provider.get_meter("binance_gateway.test")
    meter.create_counter("calls", unit="{call}").add(3, {"endpoint": "/api/v3/time"})
    meter.create_histogram("duration", unit="s").record(0.25, {"endpoint": "/api/v3/time"})
    with telemetry.tracer_provider.get_tracer("t").start_as_current_span("outer", attributes={"k": 1}):
        pass

    points = {p.name: p for p in telemetry.metric_points()}

    assert points["calls"].value == 3
    assert points["calls"].unit == "{call}"
    assert points["calls"].scope == "binance_gateway.test"
    assert points["duration"].value == 1
    assert points["duration"].sum == 0.25
    assert points["duration"].attributes == {"endpoint": "/api/v3/time"}
    assert telemetry.spans_named("outer")[0].attributes == {"k": 1}
    assert json.loads(telemetry.spans()[0].to_json())["name"] == "outer"
