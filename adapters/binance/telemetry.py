"""Spans and metrics of the Binance adapter, through the OpenTelemetry API only (meter and tracer
``binance_gateway.binance``); the SDK and exporters are configured in the composition root.

Metrics (attributes in brackets; ``endpoint`` is a path such as ``/api/v3/klines``, never a query string):

- ``binance.request.duration`` histogram, s: one HTTP attempt [endpoint, outcome=success|error]
- ``binance.requests`` counter: HTTP attempts [endpoint, outcome]
- ``binance.errors`` counter: failed attempts [endpoint, error.type = the domain error class]
- ``binance.retries`` counter: attempts after the first [endpoint, error.type of the failure retried]
- ``binance.limiter.wait`` histogram, s: time a call waited for request weight [endpoint]
- ``binance.weight.used`` gauge: weight used in the current window [interval, e.g. 1M]
- ``binance.weight.usage`` gauge, 1: that weight as a share of the limit [interval]
- ``binance.clock.offset`` gauge, ms: server clock minus local clock
- ``binance.ban.active`` gauge: 1 while the exchange bans this IP, else 0
- ``binance.ban.remaining`` gauge, s: time until the ban ends (0 when not banned)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType

from opentelemetry import context, metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.util.types import AttributeValue

from adapters.binance.clock import ClockSync
from adapters.binance.limiter import WeightLimiter

__all__ = ["SCOPE", "BinanceTelemetry", "CurrentSpan"]

SCOPE = "binance_gateway.binance"


class CurrentSpan:
    """``with CurrentSpan(tracer, name) as span``: a span that is the current one inside the block.

    What ``tracer.start_as_current_span(name, record_exception=False, set_status_on_exception=False)`` does
    (start, make current, restore the context and end on exit, whatever happened), without its two layers of
    generator context managers: a fraction of the CPU, which counts when there are two spans per call.
    ``attributes`` are set only on a span that records. With ``error_types``, an exception of those types
    marks the span: ``error.type`` and an error status. The invalid span of a no-op tracer (no SDK, no
    valid parent) is not made current: the current span is an invalid one already.
    """

    __slots__ = ("_attributes", "_error_types", "_kind", "_name", "_span", "_token", "_tracer")

    def __init__(
        self,
        tracer: trace.Tracer,
        name: str,
        *,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        error_types: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._kind = kind
        self._attributes = attributes
        self._error_types = error_types

    def __enter__(self) -> trace.Span:
        span = self._tracer.start_span(
            self._name, kind=self._kind, record_exception=False, set_status_on_exception=False
        )
        self._span = span
        if span.is_recording():
            if self._attributes:
                span.set_attributes(self._attributes)
        elif not span.get_span_context().is_valid:
            # A no-op tracer with no valid parent: the span is the invalid one, and so is the current span
            # (a no-op span carries its parent's context). Making it current would change nothing.
            self._token = None
            return span
        self._token = context.attach(trace.set_span_in_context(span))
        return span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span = self._span
        try:
            if exc is not None and isinstance(exc, self._error_types):
                kind = type(exc).__name__
                span.set_attribute("error.type", kind)
                span.set_status(trace.Status(trace.StatusCode.ERROR, kind))
        finally:
            if self._token is not None:
                context.detach(self._token)
            span.end()


class BinanceTelemetry:
    """The tracer and the instruments; ``observe`` adds the gauges that read the limiter and the clock."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        self._meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        meter = self._meter
        self.duration = meter.create_histogram(
            "binance.request.duration", unit="s", description="Duration of one HTTP attempt to the exchange"
        )
        self.requests = meter.create_counter(
            "binance.requests", unit="{request}", description="HTTP attempts to the exchange"
        )
        self.errors = meter.create_counter(
            "binance.errors", unit="{error}", description="Failed HTTP attempts, by domain error type"
        )
        self.retries = meter.create_counter(
            "binance.retries", unit="{retry}", description="Attempts after the first of a logical call"
        )
        self.limiter_wait = meter.create_histogram(
            "binance.limiter.wait", unit="s", description="Time a call waited for request weight"
        )
        self._observed = False

    def observe(self, limiter: WeightLimiter, clock: ClockSync, now_ms: Callable[[], float]) -> None:
        """Register the gauges that read ``limiter`` and ``clock`` at each collection (once)."""
        if self._observed:
            return
        self._observed = True
        meter = self._meter

        def used(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(u.used, {"interval": u.interval}) for u in limiter.usage()]

        def usage(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(u.share, {"interval": u.interval}) for u in limiter.usage()]

        def offset(_options: CallbackOptions) -> Iterable[Observation]:
            value = clock.clock_offset_ms
            return [] if value is None else [Observation(value)]

        def ban_active(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(1 if limiter.banned_until_ms is not None else 0)]

        def ban_remaining(_options: CallbackOptions) -> Iterable[Observation]:
            until = limiter.banned_until_ms
            return [Observation(0.0 if until is None else max(0.0, (until - now_ms()) / 1000))]

        meter.create_observable_gauge(
            "binance.weight.used", [used], unit="{weight}", description="Request weight used in the window"
        )
        meter.create_observable_gauge(
            "binance.weight.usage", [usage], unit="1", description="Request weight used, share of the limit"
        )
        meter.create_observable_gauge(
            "binance.clock.offset", [offset], unit="ms", description="Server clock minus local clock"
        )
        meter.create_observable_gauge(
            "binance.ban.active", [ban_active], unit="1", description="1 while the exchange bans this IP"
        )
        meter.create_observable_gauge(
            "binance.ban.remaining", [ban_remaining], unit="s", description="Time until the IP ban ends"
        )
