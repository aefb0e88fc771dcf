"""``CurrentSpan``: the span is current inside the block, whatever tracer made it, and ends on exit."""

from __future__ import annotations

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.binance.telemetry import CurrentSpan
from domain import GatewayError, NetworkError

NO_OP = trace.NoOpTracerProvider().get_tracer("test")
PARENT = trace.NonRecordingSpan(
    trace.SpanContext(trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=trace.TraceFlags(1))
)


def test_a_no_op_span_without_a_parent_leaves_the_invalid_span_current() -> None:
    before = context.get_current()

    with CurrentSpan(NO_OP, "outer") as span:
        inside = trace.get_current_span()

    assert not span.is_recording()
    assert not inside.get_span_context().is_valid
    assert context.get_current() == before


def test_a_no_op_span_under_a_valid_parent_is_current_with_the_parents_context() -> None:
    token = context.attach(trace.set_span_in_context(PARENT))
    try:
        with CurrentSpan(NO_OP, "outer") as span:
            inside = trace.get_current_span()
        after = trace.get_current_span()
    finally:
        context.detach(token)

    assert inside is span
    assert inside.get_span_context() == PARENT.get_span_context()
    assert after is PARENT


def test_a_recording_span_is_current_gets_its_attributes_and_is_marked_by_a_gateway_error() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    def fail() -> None:
        with CurrentSpan(
            tracer, "outer", attributes={"binance.symbol": "BTCUSDT"}, error_types=(GatewayError,)
        ):
            with CurrentSpan(tracer, "inner", kind=trace.SpanKind.CLIENT):
                pass
            raise NetworkError("down", endpoint="/api/v3/time")

    with pytest.raises(NetworkError):
        fail()

    inner, outer = exporter.get_finished_spans()
    assert inner.parent is not None
    assert inner.parent.span_id == outer.context.span_id
    assert outer.attributes == {"binance.symbol": "BTCUSDT", "error.type": "NetworkError"}
    assert outer.status.status_code is trace.StatusCode.ERROR
    assert not trace.get_current_span().get_span_context().is_valid
    provider.shutdown()
