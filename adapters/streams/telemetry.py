"""Spans and metrics of the stream adapter, through the OpenTelemetry API only (scope
``binance_gateway.streams``); the SDK and exporters are configured in the composition root.

Per-event figures are plain integers the adapter bumps; observable instruments read them when the SDK
collects, so the hot path never calls into OpenTelemetry except for one lag sample every few events.

- ``binance.stream.connects`` counter: connection attempts [outcome=success|error, error.type]
- ``binance.stream.reconnects`` counter: connections replaced [reason: network_error, silence, lifetime, ...]
- ``binance.stream.lag`` histogram, ms: local receive time minus the exchange's event time, sampled [kind]
- ``binance.stream.events`` observable counter: events delivered [kind]
- ``binance.stream.events_per_second`` gauge: delivered events per second since the previous collection
- ``binance.stream.shed`` observable counter: updates replaced while the consumer was behind [kind]
- ``binance.stream.duplicates`` observable counter: events dropped as already delivered
- ``binance.stream.malformed`` / ``binance.stream.unsupported`` observable counters: messages not used
- ``binance.stream.buffered`` gauge: events waiting for the consumer
- ``binance.stream.connections`` gauge: connections by state [state]

Spans: ``MarketStreamPort.connect`` per connection attempt (connection name, stream count, host; never a
query string) and ``MarketStreamPort.handover`` per planned replacement.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation

from domain import ConnectionState, StreamConnection, StreamStats

__all__ = ["SCOPE", "StreamTelemetry"]

SCOPE = "binance_gateway.streams"


class StreamTelemetry:
    """The tracer and the instruments; ``observe`` adds the instruments that read the adapter's counts."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        self._meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        meter = self._meter
        self.connects = meter.create_counter(
            "binance.stream.connects", unit="{attempt}", description="Stream connection attempts"
        )
        self.reconnects = meter.create_counter(
            "binance.stream.reconnects",
            unit="{connection}",
            description="Stream connections replaced, by reason",
        )
        self.lag = meter.create_histogram(
            "binance.stream.lag",
            unit="ms",
            description="Receive time minus the exchange's event time (sampled)",
        )
        self._last_total = 0
        self._last_time = time.monotonic()

    def observe(
        self,
        stats: Callable[[], StreamStats],
        delivered_by_kind: Callable[[], Mapping[str, int]],
        connections: Callable[[], Sequence[StreamConnection]],
    ) -> None:
        """Register the observable instruments over the adapter's own figures."""
        meter = self._meter

        def events(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(count, {"kind": kind}) for kind, count in delivered_by_kind().items()]

        def rate(_options: CallbackOptions) -> Iterable[Observation]:
            total, now = stats().delivered, time.monotonic()
            elapsed = now - self._last_time
            value = (total - self._last_total) / elapsed if elapsed > 0 else 0.0
            self._last_total, self._last_time = total, now
            return [Observation(value)]

        def shed(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(count, {"kind": kind}) for kind, count in stats().shed.items()]

        def single(name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
            def read(_options: CallbackOptions) -> Iterable[Observation]:
                return [Observation(getattr(stats(), name))]

            return read

        def states(_options: CallbackOptions) -> Iterable[Observation]:
            current = [conn.state for conn in connections()]
            return [Observation(current.count(state), {"state": state.value}) for state in ConnectionState]

        meter.create_observable_counter(
            "binance.stream.events", callbacks=[events], unit="{event}", description="Events delivered"
        )
        meter.create_observable_gauge(
            "binance.stream.events_per_second",
            callbacks=[rate],
            unit="{event}/s",
            description="Events delivered per second since the previous collection",
        )
        meter.create_observable_counter(
            "binance.stream.shed",
            callbacks=[shed],
            unit="{event}",
            description="Latest-wins updates replaced by a newer one while the consumer was behind",
        )
        meter.create_observable_counter(
            "binance.stream.duplicates",
            callbacks=[single("duplicates")],
            unit="{event}",
            description="Events dropped because an overlapping connection delivered them already",
        )
        meter.create_observable_counter(
            "binance.stream.malformed",
            callbacks=[single("malformed")],
            unit="{message}",
            description="Messages that could not be decoded",
        )
        meter.create_observable_counter(
            "binance.stream.unsupported",
            callbacks=[single("unsupported")],
            unit="{message}",
            description="Well-formed messages of a kind the adapter does not model",
        )
        meter.create_observable_gauge(
            "binance.stream.buffered",
            callbacks=[single("buffered")],
            unit="{event}",
            description="Events waiting for the consumer",
        )
        meter.create_observable_gauge(
            "binance.stream.connections",
            callbacks=[states],
            unit="{connection}",
            description="Stream connections by state",
        )
