"""``binance-gateway health`` against the fake exchange with scripted failures: status, message, exit code."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from dependency_injector import providers
from typer.testing import CliRunner

from adapters.cli._runtime import CliLaunch
from adapters.cli.app import app
from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from adapters.sqlite.storage import SqliteMarketDataStore
from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from domain import Alert, Interval, Kline, Status, Symbol

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@attrs.define
class RecordingSink:
    alerts: list[Alert] = attrs.field(factory=list)

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


@attrs.define
class Harness:
    container: Container
    clock: FakeClock
    fake: FakeExchange
    telemetry: InMemoryTelemetry
    sink: RecordingSink
    db: Path

    def run(self, *args: str, environ: dict[str, str] | None = None) -> Any:
        launch = CliLaunch(
            environ={
                "BINANCE_GATEWAY_DB": str(self.db),
                "BINANCE_GATEWAY_ADAPTER": "fake",
                **(environ or {}),
            },
            env_file=None,
            container=self.container,
        )
        return CliRunner().invoke(app, list(args), obj=launch, catch_exceptions=False)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    clock = FakeClock(NOW_MS)
    fake = FakeExchange(clock)
    container = Container()
    telemetry = in_memory_telemetry()
    sink = RecordingSink()
    container.clock.override(clock)
    container.fake_exchange.override(fake)
    container.telemetry.override(providers.Object(telemetry))
    container.alert_sink.override(sink)
    # A database that does not exist: no freshness from a real store unless a test makes one.
    return Harness(container, clock, fake, telemetry, sink, tmp_path / "none.sqlite3")


def _document(output: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(output)
    return document


def _signal(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in document["signals"] if s["name"] == name)


def test_a_healthy_exchange_exits_0_with_a_table(harness: Harness) -> None:
    result = harness.run("health")

    assert result.exit_code == 0, result.output
    assert "Health: ok" in result.stdout
    assert "5 of 5 probes answered" in result.stdout
    assert harness.fake.calls["get_server_time"] == 5


def test_json_is_one_document_with_every_signal(harness: Harness) -> None:
    result = harness.run("health", "--json")

    document = _document(result.stdout)
    assert result.exit_code == 0
    assert document["status"] == "ok"
    assert document["checked_at"] == "2026-01-01T00:00:00.000Z"
    assert [s["name"] for s in document["signals"]] == [
        "reachability",
        "latency_p50",
        "latency_p95",
        "ip_ban",
        "clock_offset",
    ]
    assert document["problems"] == []


def test_the_global_json_option_works_too(harness: Harness) -> None:
    result = harness.run("--json", "health")

    assert _document(result.stdout)["status"] == "ok"


def test_half_the_requests_failing_is_degraded_with_exit_1(harness: Harness) -> None:
    harness.fake.script.fail_ratio(0.5)

    result = harness.run("health", "--json")

    document = _document(result.stdout)
    reach = _signal(document, "reachability")
    assert result.exit_code == 1
    assert document["status"] == "degraded"
    assert reach["status"] == "degraded"
    assert reach["value"] == 0.4
    assert reach["message"].startswith("3 of 5 probes answered; last error: ExchangeUnavailableError")


def test_the_same_failures_are_down_with_exit_2_when_the_thresholds_say_so(harness: Harness) -> None:
    harness.fake.script.fail_ratio(0.5)

    result = harness.run("health", "--json", environ={"BINANCE_GATEWAY_HEALTH_PROBE_FAILURES_DOWN": "0.3"})

    assert result.exit_code == 2
    assert _signal(_document(result.stdout), "reachability")["status"] == "down"


def test_a_ban_is_down_with_exit_2_and_says_until_when(harness: Harness) -> None:
    harness.fake.script.ban(until_ms=NOW_MS + 120_000)

    result = harness.run("health")

    assert result.exit_code == 2
    assert "Health: down" in result.stdout
    flat = " ".join(result.stdout.split())
    assert "IP banned by the exchange until 2026-01-01 00:02:00 UTC (in 120 s)" in flat.replace("│ ", "")
    assert harness.fake.calls["get_server_time"] == 1


def test_a_skewed_exchange_clock_is_degraded_and_names_the_offset(harness: Harness) -> None:
    harness.container.fake_exchange.override(FakeExchange(FakeClock(NOW_MS + 3000)))

    result = harness.run("health", "--json")

    offset = _signal(_document(result.stdout), "clock_offset")
    assert result.exit_code == 1
    assert offset["status"] == "degraded"
    assert offset["value"] == 3000
    assert offset["message"] == "local clock is 3.0 s behind the exchange (offset +3000 ms)"


def test_a_single_check_sends_no_alert(harness: Harness) -> None:
    harness.fake.script.ban(until_ms=NOW_MS + 120_000)

    harness.run("health")

    assert harness.sink.alerts == []


def test_watch_prints_one_json_line_per_round_and_alerts_once_per_change(harness: Harness) -> None:
    harness.fake.script.ban(until_ms=NOW_MS + 120_000)

    result = harness.run("health", "--json", "--watch", "0", "--count", "3")

    lines = result.stdout.splitlines()
    assert result.exit_code == 2
    assert len(lines) == 3
    assert {json.loads(line)["status"] for line in lines} == {"down"}
    assert sorted((a.signal, a.current) for a in harness.sink.alerts) == [
        ("ip_ban", Status.DOWN),
        ("reachability", Status.DOWN),
    ]


def test_each_check_is_a_span_read_back_through_the_container_override(harness: Harness) -> None:
    harness.run("health", "--watch", "0", "--count", "2")

    spans = harness.telemetry.spans_named("HealthMonitor.check")
    assert len(spans) == 2
    assert spans[0].attributes == {"health.status": "ok", "health.problems": 0}


def test_a_bad_threshold_setting_is_a_configuration_error(harness: Harness) -> None:
    result = CliRunner().invoke(
        app,
        ["health"],
        obj=CliLaunch(
            environ={
                "BINANCE_GATEWAY_ADAPTER": "fake",
                "BINANCE_GATEWAY_HEALTH_ERROR_RATE_DOWN": "0.01",
                "BINANCE_GATEWAY_DB": str(harness.db),
            },
            env_file=None,
            container=harness.container,
        ),
    )

    assert result.exit_code == 3
    assert "BINANCE_GATEWAY_HEALTH_ERROR_RATE_DOWN" in result.stderr


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    _Receiver.bodies = []
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN"
    server.shutdown()
    server.server_close()
    thread.join()


def test_watch_alerts_reach_the_configured_webhook_once_per_change(webhook: str, tmp_path: Path) -> None:
    clock = FakeClock(NOW_MS)
    fake = FakeExchange(clock)
    fake.script.ban(until_ms=NOW_MS + 120_000)
    container = Container()
    container.clock.override(clock)
    container.fake_exchange.override(fake)
    container.telemetry.override(providers.Object(in_memory_telemetry()))
    launch = CliLaunch(
        environ={
            "BINANCE_GATEWAY_ADAPTER": "fake",
            "BINANCE_GATEWAY_ALERT_WEBHOOK": webhook,
            "BINANCE_GATEWAY_DB": str(tmp_path / "none.sqlite3"),
        },
        env_file=None,
        container=container,
    )

    result = CliRunner().invoke(app, ["health", "--watch", "0", "--count", "3"], obj=launch)

    assert result.exit_code == 2
    assert sorted((b["signal"], b["previous"], b["status"]) for b in _Receiver.bodies) == [
        ("ip_ban", "ok", "down"),
        ("reachability", "ok", "down"),
    ]
    assert "IP banned by the exchange until 2026-01-01 00:02:00 UTC" in next(
        b["message"] for b in _Receiver.bodies if b["signal"] == "ip_ban"
    )


def _store_candle(db: Path, open_ms: int) -> None:
    async def save() -> None:
        store = await SqliteMarketDataStore.open(db)
        p, q = Decimal("100.5"), Decimal(2)
        kline = Kline(
            Symbol("BTCUSDT"), Interval.MINUTE_1, open_ms, p, p, p, p, q, open_ms + 59_999, p * q, 3, q, p * q
        )
        await store.save_klines([kline], now_ms=NOW_MS)
        await store.aclose()

    asyncio.run(save())


def test_freshness_comes_from_the_store_when_one_exists(harness: Harness, tmp_path: Path) -> None:
    db = tmp_path / "market.sqlite3"
    _store_candle(db, NOW_MS - 1_260_000)  # closed 20 minutes ago

    result = harness.run("health", "--json", environ={"BINANCE_GATEWAY_DB": str(db)})

    candle = _signal(_document(result.stdout), "candle_age:BTCUSDT")
    assert result.exit_code == 2
    assert candle["status"] == "down"
    assert candle["value"] == 1200.001
    assert candle["message"].startswith("newest candle of BTCUSDT is 1200 s old")


def test_a_health_check_never_creates_a_database(harness: Harness, tmp_path: Path) -> None:
    db = tmp_path / "absent.sqlite3"

    result = harness.run("health", "--json", environ={"BINANCE_GATEWAY_DB": str(db)})

    assert result.exit_code == 0
    assert not db.exists()
    assert not any(s["name"].startswith("candle_age") for s in _document(result.stdout)["signals"])


def test_store_freshness_can_be_switched_off(harness: Harness, tmp_path: Path) -> None:
    db = tmp_path / "market.sqlite3"
    _store_candle(db, NOW_MS - 1_260_000)

    result = harness.run(
        "health",
        "--json",
        environ={"BINANCE_GATEWAY_DB": str(db), "BINANCE_GATEWAY_HEALTH_STORE_FRESHNESS": "false"},
    )

    assert result.exit_code == 0
    assert not any(s["name"].startswith("candle_age") for s in _document(result.stdout)["signals"])
