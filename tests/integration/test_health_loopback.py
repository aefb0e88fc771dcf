"""``binance-gateway health`` through the real Binance adapter against the loopback exchange.

Healthy, half the requests failing, banned and a skewed exchange clock: each gives its exit status and a
message that says what is wrong. Retries are made instant through the container.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from dependency_injector import providers
from typer.testing import CliRunner

from adapters.binance.retry import RetryPolicy
from adapters.cli._runtime import CliLaunch
from adapters.cli.app import app
from adapters.container import Container
from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from tests.loopback.server import LoopbackExchange


@attrs.frozen
class Outcome:
    exit_code: int
    document: dict[str, Any]

    def signal(self, name: str) -> dict[str, Any]:
        return next(s for s in self.document["signals"] if s["name"] == name)


@pytest.fixture
def telemetry() -> InMemoryTelemetry:
    return in_memory_telemetry()


def _health(exchange: LoopbackExchange, telemetry: InMemoryTelemetry, **environ: str) -> Outcome:
    environ.setdefault("BINANCE_GATEWAY_HEALTH_STORE_FRESHNESS", "false")  # the exchange link only
    container = Container()
    container.binance_retry.override(providers.Object(RetryPolicy.instant()))
    container.telemetry.override(providers.Object(telemetry))
    launch = CliLaunch(
        environ={"BINANCE_GATEWAY_ADAPTER": "binance", "BINANCE_BASE_URL": exchange.base_url, **environ},
        env_file=None,
        container=container,
    )
    result = CliRunner().invoke(app, ["health", "--json"], obj=launch, catch_exceptions=False)
    return Outcome(result.exit_code, json.loads(result.stdout))


def test_a_healthy_exchange_is_ok_and_exits_0(
    loopback_exchange_thread: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    outcome = _health(loopback_exchange_thread, telemetry)

    assert outcome.exit_code == 0
    assert outcome.document["status"] == "ok"
    assert {s["name"] for s in outcome.document["signals"]} == {
        "reachability",
        "latency_p50",
        "latency_p95",
        "error_rate",
        "weight_usage",
        "ip_ban",
        "clock_offset",
    }
    assert outcome.signal("weight_usage")["message"] == "used 5 of 6000 request weight (0.1%)"
    assert len(loopback_exchange_thread.requests_to("/api/v3/time")) == 5


def test_half_the_requests_failing_is_down_by_default_and_exits_2(
    loopback_exchange_thread: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    loopback_exchange_thread.set_failure_rate(0.5, seed=3)

    outcome = _health(loopback_exchange_thread, telemetry)

    rate = outcome.signal("error_rate")
    assert outcome.exit_code == 2
    assert rate["status"] == "down"
    assert 0.3 <= rate["value"] <= 0.7
    assert re.fullmatch(r"\d+ of \d+ requests failed in the last 300 s \(\d+\.\d%\)", rate["message"])
    # The adapter's retries hid the failures from the probes: the error rate is what shows them.
    assert outcome.signal("reachability")["status"] == "ok"


def test_half_the_requests_failing_is_degraded_under_a_looser_threshold_and_exits_1(
    loopback_exchange_thread: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    loopback_exchange_thread.set_failure_rate(0.5, seed=3)

    outcome = _health(loopback_exchange_thread, telemetry, BINANCE_GATEWAY_HEALTH_ERROR_RATE_DOWN="0.9")

    assert outcome.exit_code == 1
    assert outcome.signal("error_rate")["status"] == "degraded"
    assert outcome.document["problems"] == ["error_rate"]


def test_a_ban_is_down_exits_2_and_says_until_when(
    loopback_exchange_thread: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    loopback_exchange_thread.ban(120)
    until = datetime.fromtimestamp((loopback_exchange_thread.now_ms() + 120_000) // 1000, tz=UTC)

    outcome = _health(loopback_exchange_thread, telemetry)

    ban = outcome.signal("ip_ban")
    assert outcome.exit_code == 2
    assert ban["status"] == "down"
    assert ban["message"].startswith("IP banned by the exchange until ")
    stated = datetime.strptime(ban["message"].split("until ")[1][:19], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=UTC
    )
    assert abs((stated - until).total_seconds()) <= 2
    assert 100 <= ban["value"] <= 120
    assert len(loopback_exchange_thread.requests_to("/api/v3/time")) == 1


def test_a_skewed_exchange_clock_is_degraded_exits_1_and_names_the_offset(
    loopback_exchange_thread: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    loopback_exchange_thread.set_clock_skew(3000)

    outcome = _health(loopback_exchange_thread, telemetry)

    offset = outcome.signal("clock_offset")
    assert outcome.exit_code == 1
    assert offset["status"] == "degraded"
    assert re.fullmatch(
        r"local clock is 3\.0 s behind the exchange \(offset \+(29\d\d|30\d\d) ms\)", offset["message"]
    )
    assert outcome.document["problems"] == ["clock_offset"]


def test_the_probes_spans_and_the_adapters_metrics_reach_the_in_memory_exporters(
    loopback_exchange_thread: LoopbackExchange, telemetry: InMemoryTelemetry
) -> None:
    _health(loopback_exchange_thread, telemetry)

    assert len(telemetry.spans_named("HTTP GET /api/v3/time")) == 5
    (check,) = telemetry.spans_named("HealthMonitor.check")
    assert check.attributes == {"health.status": "ok", "health.problems": 0}
    requests = telemetry.points_of("binance.requests")
    assert [(p.attributes, p.value) for p in requests] == [
        ({"endpoint": "/api/v3/time", "outcome": "success"}, 5)
    ]
