"""The health monitor: measures the exchange link, grades each signal and alerts on changes of status.

Signals (each graded against ``HealthThresholds``; the report's status is the worst of them):

- ``reachability``: share of the timed ``get_server_time`` probes that got no answer.
- ``latency_p50`` / ``latency_p95``: round-trip time of the answered probes, in milliseconds.
- ``error_rate``: share of the adapter's HTTP attempts that failed over its recent window.
- ``weight_usage``: share of the request-weight limit used in the current window.
- ``ip_ban``: ``down`` while the exchange bans this IP; the message says until when.
- ``clock_offset``: exchange clock minus local clock, from the fastest probe (NTP style).
- ``price_age:<SYMBOL>`` / ``candle_age:<SYMBOL>``: age of the newest price and closed candle.
- ``stream:<NAME>``: connection state of each stream.

A signal whose source is missing (no ``ExchangeStatusPort``, no data for a symbol, no streams) is left out.
Alerts fire when a signal's status differs from the one it had at the previous check (a signal never seen
before counts as ``ok``), so one alert marks the change and one the recovery, however many requests fail.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime

import attrs
from opentelemetry import trace

from application.clock_sync import measure_clock_offset
from domain import (
    Alert,
    ConnectionState,
    DataFreshness,
    GatewayError,
    HealthReport,
    HealthThresholds,
    IPBannedError,
    SignalResult,
    Status,
    Symbol,
    Threshold,
)
from ports import AlertSink, Clock, ExchangeStatusPort, FreshnessSource, MarketDataPort, StreamStatusSource

__all__ = ["HealthMonitor", "ProbeResult", "percentile"]

_STREAM_STATUS = {
    ConnectionState.CONNECTED: Status.OK,
    ConnectionState.RECONNECTING: Status.DEGRADED,
    ConnectionState.DISCONNECTED: Status.DOWN,
}


@attrs.frozen
class ProbeResult:
    """One timed ``get_server_time`` call: its round trip, the clock offset it implies, or its error."""

    rtt_ms: float
    offset_ms: float | None = None
    error: GatewayError | None = None

    @property
    def answered(self) -> bool:
        return self.error is None


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (``pct`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _graded(name: str, value: float, threshold: Threshold, message: str, unit: str = "") -> SignalResult:
    status = threshold.classify(abs(value))
    return SignalResult(name, status, value, threshold.bound_for(status), message, unit)


class HealthMonitor:
    """Runs the probes, reads the adapter's own figures, grades every signal and sends alerts on changes.

    One monitor keeps the last status of every signal, so reuse the same instance across checks (the
    ``watch`` loop does) for alerts to mark changes rather than states.
    """

    def __init__(  # noqa: PLR0913 -- every source is optional and named
        self,
        market: MarketDataPort,
        clock: Clock,
        alerts: AlertSink,
        *,
        thresholds: HealthThresholds | None = None,
        probes: int = 5,
        exchange_status: ExchangeStatusPort | None = None,
        freshness: FreshnessSource | None = None,
        streams: StreamStatusSource | None = None,
        symbols: Sequence[Symbol] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if probes < 1:
            msg = f"the health check needs at least one probe, not {probes}"
            raise ValueError(msg)
        self._market = market
        self._clock = clock
        self._alerts = alerts
        self._thresholds = thresholds or HealthThresholds()
        self._probes = probes
        self._exchange_status = exchange_status
        self._freshness = freshness
        self._streams = streams
        self._symbols = tuple(symbols) if symbols is not None else None
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._last: dict[str, Status] = {}

    async def check(self) -> HealthReport:
        """Measure every signal once, send an alert for each change of status, and return the report."""
        with self._tracer.start_as_current_span("HealthMonitor.check") as span:
            probes = await self._probe()
            signals = [*self._rest_signals(probes), *await self._freshness_signals(), *self._stream_signals()]
            report = HealthReport(checked_at_ms=self._clock.now_ms(), signals=tuple(signals))
            span.set_attribute("health.status", report.status.value)
            span.set_attribute("health.problems", len(report.problems))
            await self._alert_on_changes(report)
            return report

    async def watch(
        self,
        interval_s: float,
        *,
        rounds: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> AsyncIterator[HealthReport]:
        """Check every ``interval_s`` seconds, ``rounds`` times (``None``: until cancelled)."""
        done = 0
        while rounds is None or done < rounds:
            if done:
                await sleep(interval_s)
            yield await self.check()
            done += 1

    # ---------------------------------------------------------------------------------------------- probes

    async def _probe(self) -> list[ProbeResult]:
        results: list[ProbeResult] = []
        for _ in range(self._probes):
            started = self._clock.monotonic()
            try:
                reading = await measure_clock_offset(self._market, self._clock)
            except GatewayError as exc:
                results.append(ProbeResult(rtt_ms=(self._clock.monotonic() - started) * 1000, error=exc))
                if isinstance(exc, IPBannedError):
                    break  # nothing may be sent until the ban ends; more probes would only fail the same way
                continue
            results.append(ProbeResult(rtt_ms=reading.rtt_ms, offset_ms=reading.offset_ms))
        return results

    def _rest_signals(self, probes: list[ProbeResult]) -> list[SignalResult]:
        limits = self._thresholds
        status = self._exchange_status.exchange_status() if self._exchange_status else None
        answered = [probe for probe in probes if probe.answered]
        failed = [probe for probe in probes if not probe.answered]
        signals = [self._reachability(probes, failed)]
        if answered:
            rtts = [probe.rtt_ms for probe in answered]
            p50, p95 = percentile(rtts, 50), percentile(rtts, 95)
            over = f"over {len(answered)} answered probe{'s' if len(answered) != 1 else ''}"
            signals += [
                _graded("latency_p50", p50, limits.latency_p50_ms, f"p50 {p50:.1f} ms {over}", "ms"),
                _graded("latency_p95", p95, limits.latency_p95_ms, f"p95 {p95:.1f} ms {over}", "ms"),
            ]
        if status is not None and status.error_rate is not None:
            rate = status.error_rate
            message = (
                f"{status.errors} of {status.requests} requests failed in the last {status.window_s:.0f} s "
                f"({rate:.1%})"
            )
            signals.append(_graded("error_rate", rate, limits.error_rate, message, "ratio"))
        if status is not None and status.weight_usage is not None:
            usage = status.weight_usage
            message = f"used {status.used_weight} of {status.weight_limit} request weight ({usage:.1%})"
            signals.append(_graded("weight_usage", usage, limits.weight_usage, message, "ratio"))
        signals.append(self._ban(failed, status.banned_until_ms if status else None))
        offset = self._offset(answered, status.clock_offset_ms if status else None)
        if offset is not None:
            signals.append(offset)
        return signals

    def _reachability(self, probes: list[ProbeResult], failed: list[ProbeResult]) -> SignalResult:
        share = len(failed) / len(probes)
        message = f"{len(probes) - len(failed)} of {len(probes)} probes answered"
        if failed:
            error = failed[-1].error
            message += f"; last error: {type(error).__name__}: {error}"
        return _graded("reachability", share, self._thresholds.probe_failures, message, "ratio")

    def _ban(self, failed: list[ProbeResult], reported_until_ms: int | None) -> SignalResult:
        now_ms = self._clock.now_ms()
        candidates = [reported_until_ms] if reported_until_ms is not None else []
        candidates += [p.error.banned_until_ms for p in failed if isinstance(p.error, IPBannedError)]
        until_ms = max(candidates, default=None)
        if until_ms is None or until_ms <= now_ms:
            return SignalResult("ip_ban", Status.OK, 0.0, None, "not banned", "s")
        remaining_s = (until_ms - now_ms) / 1000
        message = f"IP banned by the exchange until {_utc(until_ms)} (in {remaining_s:.0f} s)"
        return SignalResult("ip_ban", Status.DOWN, remaining_s, None, message, "s")

    def _offset(self, answered: list[ProbeResult], reported_ms: float | None) -> SignalResult | None:
        # The probe with the shortest round trip bounds the offset most tightly.
        fastest = min(answered, key=lambda probe: probe.rtt_ms, default=None)
        offset_ms = fastest.offset_ms if fastest is not None else reported_ms
        if offset_ms is None:
            return None
        shown = round(offset_ms)
        if shown == 0:
            message = "local clock agrees with the exchange (offset 0 ms)"
        else:
            direction = "behind" if shown > 0 else "ahead of"
            seconds = abs(offset_ms) / 1000
            message = f"local clock is {seconds:.1f} s {direction} the exchange (offset {shown:+d} ms)"
        return _graded("clock_offset", offset_ms, self._thresholds.clock_offset_ms, message, "ms")

    # ---------------------------------------------------------------------------------------------- data

    async def _freshness_signals(self) -> list[SignalResult]:
        if self._freshness is None:
            return []
        try:
            entries = await self._freshness.data_freshness(self._symbols)
        except GatewayError as exc:
            message = f"could not read data freshness: {type(exc).__name__}: {exc}"
            return [SignalResult("freshness", Status.DEGRADED, None, None, message)]
        now_ms = self._clock.now_ms()
        signals: list[SignalResult] = []
        for entry in sorted(entries, key=lambda e: e.symbol):
            signals.extend(self._ages(entry, now_ms))
        return signals

    def _ages(self, entry: DataFreshness, now_ms: int) -> list[SignalResult]:
        signals = []
        for kind, newest_ms, threshold in (
            ("price", entry.newest_price_ms, self._thresholds.price_age_s),
            ("candle", entry.newest_candle_ms, self._thresholds.candle_age_s),
        ):
            if newest_ms is None:
                continue
            age_s = max(0.0, (now_ms - newest_ms) / 1000)
            message = f"newest {kind} of {entry.symbol} is {age_s:.0f} s old ({_utc(newest_ms)})"
            signals.append(_graded(f"{kind}_age:{entry.symbol}", age_s, threshold, message, "s"))
        return signals

    def _stream_signals(self) -> list[SignalResult]:
        if self._streams is None:
            return []
        return [
            SignalResult(
                f"stream:{conn.name}",
                _STREAM_STATUS[conn.state],
                None,
                None,
                f"{conn.state.value}{': ' + conn.detail if conn.detail else ''}",
            )
            for conn in self._streams.stream_connections()
        ]

    # ---------------------------------------------------------------------------------------------- alerts

    async def _alert_on_changes(self, report: HealthReport) -> None:
        for signal in report.signals:
            previous = self._last.get(signal.name, Status.OK)
            self._last[signal.name] = signal.status
            if signal.status is previous:
                continue
            await self._alerts.send(
                Alert(
                    signal=signal.name,
                    previous=previous,
                    current=signal.status,
                    message=signal.message,
                    at_ms=report.checked_at_ms,
                    value=signal.value,
                    threshold=signal.threshold,
                )
            )
