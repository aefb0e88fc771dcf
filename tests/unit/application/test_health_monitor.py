"""The health monitor grades each signal against its thresholds and alerts on changes of status only."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from application.health import HealthMonitor, percentile
from domain import (
    Alert,
    ConnectionState,
    DataFreshness,
    ExchangeStatus,
    GatewayError,
    HealthThresholds,
    IPBannedError,
    NetworkError,
    ServerTime,
    Status,
    StreamConnection,
    Symbol,
    Threshold,
)

NOW_MS = 1_767_225_600_000
BTC = Symbol("BTCUSDT")


@attrs.define
class SteppingClock:
    """A clock that only moves when the fake exchange says a request took time."""

    now: int = NOW_MS
    mono: float = 100.0

    def now_ms(self) -> int:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, ms: float) -> None:
        self.now += int(ms)
        self.mono += ms / 1000


@attrs.define
class ScriptedExchange:
    """Answers ``get_server_time`` after ``latency_ms`` with a clock ``skew_ms`` ahead, or fails as told."""

    clock: SteppingClock
    latency_ms: float = 20.0
    skew_ms: int = 0
    failures: list[GatewayError | None] = attrs.field(factory=list)
    calls: int = 0

    async def get_server_time(self) -> ServerTime:
        self.calls += 1
        self.clock.advance(self.latency_ms / 2)
        server_ms = self.clock.now + self.skew_ms
        self.clock.advance(self.latency_ms / 2)
        error = self.failures.pop(0) if self.failures else None
        if error is not None:
            raise error
        return ServerTime(server_ms)


@attrs.define
class RecordingSink:
    alerts: list[Alert] = attrs.field(factory=list)

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


@attrs.define
class FixedStatus:
    status: ExchangeStatus

    def exchange_status(self) -> ExchangeStatus:
        return self.status


@attrs.define
class FixedFreshness:
    entries: list[DataFreshness]

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        return [e for e in self.entries if symbols is None or e.symbol in symbols]


@attrs.define
class FixedStreams:
    connections: list[StreamConnection]

    def stream_connections(self) -> Sequence[StreamConnection]:
        return self.connections


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def exchange(clock: SteppingClock) -> ScriptedExchange:
    return ScriptedExchange(clock)


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


def _monitor(exchange: ScriptedExchange, sink: RecordingSink, **kwargs: object) -> HealthMonitor:
    return HealthMonitor(exchange, exchange.clock, sink, **kwargs)  # type: ignore[arg-type]


def _ban() -> IPBannedError:
    return IPBannedError("IP banned", banned_until_ms=NOW_MS + 120_000, endpoint="/api/v3/time")


async def test_a_healthy_link_is_ok_on_every_signal_and_sends_no_alert(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    report = await _monitor(exchange, sink).check()

    assert report.status is Status.OK
    assert [s.name for s in report.signals] == [
        "reachability",
        "latency_p50",
        "latency_p95",
        "ip_ban",
        "clock_offset",
    ]
    assert report.signal("latency_p95") is not None
    assert report.signal("latency_p95").value == pytest.approx(20.0)  # type: ignore[union-attr]
    assert exchange.calls == 5
    assert sink.alerts == []


async def test_latency_percentiles_come_from_the_answered_probes(
    clock: SteppingClock, sink: RecordingSink
) -> None:
    exchange = ScriptedExchange(clock, latency_ms=1500)
    report = await _monitor(exchange, sink, probes=3).check()

    p50 = report.signal("latency_p50")
    assert p50 is not None
    assert p50.status is Status.DEGRADED
    assert p50.threshold == 500
    assert report.signal("latency_p95").status is Status.DEGRADED  # type: ignore[union-attr]
    assert report.status is Status.DEGRADED


async def test_a_skewed_exchange_clock_degrades_and_names_the_offset(
    clock: SteppingClock, sink: RecordingSink
) -> None:
    exchange = ScriptedExchange(clock, skew_ms=3000)
    report = await _monitor(exchange, sink).check()

    offset = report.signal("clock_offset")
    assert offset is not None
    assert offset.status is Status.DEGRADED
    assert offset.value == pytest.approx(3000)
    assert "+3000 ms" in offset.message
    assert "3.0 s behind" in offset.message
    assert report.status is Status.DEGRADED


async def test_a_clock_ahead_of_the_exchange_is_graded_by_its_size(
    clock: SteppingClock, sink: RecordingSink
) -> None:
    exchange = ScriptedExchange(clock, skew_ms=-70_000)
    report = await _monitor(exchange, sink).check()

    offset = report.signal("clock_offset")
    assert offset is not None
    assert offset.status is Status.DOWN
    assert "ahead of" in offset.message


async def test_a_ban_is_down_says_until_when_and_stops_probing(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    exchange.failures = [_ban()] * 5
    report = await _monitor(exchange, sink).check()

    ban = report.signal("ip_ban")
    assert ban is not None
    assert ban.status is Status.DOWN
    assert "until 2026-01-01 00:02:00 UTC" in ban.message
    assert ban.value == pytest.approx(120, abs=1)
    assert report.status is Status.DOWN
    assert exchange.calls == 1
    assert report.signal("latency_p50") is None


async def test_a_ban_reported_by_the_adapter_counts_even_before_a_probe_fails(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    status = FixedStatus(ExchangeStatus(window_s=60, banned_until_ms=NOW_MS + 600_000))
    report = await _monitor(exchange, sink, exchange_status=status).check()

    assert report.signal("ip_ban").status is Status.DOWN  # type: ignore[union-attr]


async def test_a_ban_that_has_ended_is_ok(exchange: ScriptedExchange, sink: RecordingSink) -> None:
    status = FixedStatus(ExchangeStatus(window_s=60, banned_until_ms=NOW_MS - 1))
    report = await _monitor(exchange, sink, exchange_status=status).check()

    assert report.signal("ip_ban").status is Status.OK  # type: ignore[union-attr]


async def test_some_failed_probes_degrade_reachability_and_all_failed_is_down(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    exchange.failures = [NetworkError("connection reset"), None, NetworkError("connection reset"), None]
    partly = await _monitor(exchange, sink, probes=4).check()
    exchange.failures = [NetworkError("connection refused")] * 4
    none = await _monitor(exchange, sink, probes=4).check()

    reach = partly.signal("reachability")
    assert reach is not None
    assert reach.status is Status.DEGRADED
    assert reach.value == 0.5
    assert "2 of 4 probes answered; last error: NetworkError: connection reset" in reach.message
    assert none.signal("reachability").status is Status.DOWN  # type: ignore[union-attr]
    assert none.status is Status.DOWN


@pytest.mark.parametrize(
    ("errors", "expected"),
    [(0, Status.OK), (10, Status.DEGRADED), (50, Status.DOWN)],
)
async def test_the_adapters_error_rate_is_graded_against_its_thresholds(
    exchange: ScriptedExchange, sink: RecordingSink, errors: int, expected: Status
) -> None:
    status = FixedStatus(ExchangeStatus(window_s=300, requests=100, errors=errors))
    report = await _monitor(exchange, sink, exchange_status=status).check()

    rate = report.signal("error_rate")
    assert rate is not None
    assert rate.status is expected
    assert f"{errors} of 100 requests failed in the last 300 s" in rate.message


async def test_thresholds_come_from_configuration(exchange: ScriptedExchange, sink: RecordingSink) -> None:
    status = FixedStatus(ExchangeStatus(window_s=300, requests=100, errors=50))
    lenient = HealthThresholds(error_rate=Threshold(degraded=0.4, down=0.9))
    report = await _monitor(exchange, sink, exchange_status=status, thresholds=lenient).check()

    assert report.signal("error_rate").status is Status.DEGRADED  # type: ignore[union-attr]
    assert report.signal("error_rate").threshold == 0.4  # type: ignore[union-attr]


async def test_weight_usage_near_the_limit_degrades(exchange: ScriptedExchange, sink: RecordingSink) -> None:
    status = FixedStatus(ExchangeStatus(window_s=60, used_weight=5000, weight_limit=6000))
    report = await _monitor(exchange, sink, exchange_status=status).check()

    usage = report.signal("weight_usage")
    assert usage is not None
    assert usage.status is Status.DEGRADED
    assert usage.message == "used 5000 of 6000 request weight (83.3%)"


async def test_signals_the_adapter_does_not_report_are_left_out(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    report = await _monitor(exchange, sink, exchange_status=FixedStatus(ExchangeStatus(window_s=60))).check()

    assert report.signal("error_rate") is None
    assert report.signal("weight_usage") is None


async def test_the_adapters_clock_offset_is_used_when_no_probe_answered(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    exchange.failures = [NetworkError("down")] * 5
    status = FixedStatus(ExchangeStatus(window_s=60, clock_offset_ms=-2500.0))
    report = await _monitor(exchange, sink, exchange_status=status).check()

    assert report.signal("clock_offset").value == -2500.0  # type: ignore[union-attr]


async def test_freshness_is_graded_per_symbol_and_kind(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    freshness = FixedFreshness(
        [DataFreshness(BTC, newest_price_ms=NOW_MS - 30_000, newest_candle_ms=NOW_MS - 1_000_000)]
    )
    report = await _monitor(exchange, sink, freshness=freshness).check()

    price = report.signal("price_age:BTCUSDT")
    candle = report.signal("candle_age:BTCUSDT")
    assert price is not None
    assert candle is not None
    assert price.status is Status.OK
    assert candle.status is Status.DOWN
    assert candle.message.startswith("newest candle of BTCUSDT is 1000 s old")


async def test_a_failing_freshness_source_degrades_instead_of_failing_the_check(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    class Broken:
        async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
            raise GatewayError("database is locked")

    report = await _monitor(exchange, sink, freshness=Broken()).check()

    assert report.signal("freshness").status is Status.DEGRADED  # type: ignore[union-attr]
    assert "database is locked" in report.signal("freshness").message  # type: ignore[union-attr]


async def test_stream_states_map_to_statuses(exchange: ScriptedExchange, sink: RecordingSink) -> None:
    streams = FixedStreams(
        [
            StreamConnection("ws-1", ConnectionState.CONNECTED),
            StreamConnection("ws-2", ConnectionState.RECONNECTING, "attempt 3"),
            StreamConnection("ws-3", ConnectionState.DISCONNECTED),
        ]
    )
    report = await _monitor(exchange, sink, streams=streams).check()

    assert [(s.name, s.status, s.message) for s in report.signals if s.name.startswith("stream:")] == [
        ("stream:ws-1", Status.OK, "connected"),
        ("stream:ws-2", Status.DEGRADED, "reconnecting: attempt 3"),
        ("stream:ws-3", Status.DOWN, "disconnected"),
    ]


async def test_alerts_fire_on_a_change_and_on_recovery_never_per_failing_check(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    monitor = _monitor(exchange, sink, probes=2)
    exchange.skew_ms = 5000
    await monitor.check()
    await monitor.check()
    await monitor.check()
    exchange.skew_ms = 0
    await monitor.check()
    await monitor.check()

    assert [(a.signal, a.previous, a.current) for a in sink.alerts] == [
        ("clock_offset", Status.OK, Status.DEGRADED),
        ("clock_offset", Status.DEGRADED, Status.OK),
    ]
    assert not sink.alerts[0].is_recovery
    assert sink.alerts[1].is_recovery
    assert sink.alerts[0].title == "clock_offset ok -> degraded"
    assert sink.alerts[0].threshold == 1000


async def test_a_worsening_signal_alerts_again(exchange: ScriptedExchange, sink: RecordingSink) -> None:
    monitor = _monitor(exchange, sink, probes=2)
    exchange.failures = [NetworkError("reset"), None]
    await monitor.check()
    exchange.failures = [NetworkError("reset"), NetworkError("reset")]
    await monitor.check()

    assert [(a.signal, a.current) for a in sink.alerts] == [
        ("reachability", Status.DEGRADED),
        ("reachability", Status.DOWN),
    ]


async def test_watch_checks_the_given_number_of_rounds_with_the_injected_sleep(
    exchange: ScriptedExchange, sink: RecordingSink
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    reports = [r async for r in _monitor(exchange, sink, probes=1).watch(7.5, rounds=3, sleep=sleep)]

    assert len(reports) == 3
    assert slept == [7.5, 7.5]


def test_a_monitor_needs_at_least_one_probe(exchange: ScriptedExchange, sink: RecordingSink) -> None:
    with pytest.raises(ValueError, match="at least one probe"):
        _monitor(exchange, sink, probes=0)


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([5.0], 95, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 50, 3.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 95, 5.0),
        ([4.0, 1.0], 50, 1.0),
    ],
)
def test_percentile_is_the_nearest_rank(values: list[float], pct: float, expected: float) -> None:
    assert percentile(values, pct) == expected
