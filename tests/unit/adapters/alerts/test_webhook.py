"""The webhook sink POSTs the alert as JSON to a real receiver on 127.0.0.1, retries, and never raises."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from tenacity import wait_none

from adapters.alerts import WebhookAlertSink, alert_payload, webhook_target
from domain import Alert, ConfigurationError, Status

ALERT = Alert(
    signal="clock_offset",
    previous=Status.OK,
    current=Status.DEGRADED,
    message="local clock is 3.0 s behind the exchange (offset +3000 ms)",
    at_ms=1_767_225_600_000,
    value=3000.0,
    threshold=1000.0,
)


@attrs.define
class Receiver:
    """A webhook receiver that answers with the scripted statuses in turn (then 200)."""

    statuses: list[int] = attrs.field(factory=list)
    bodies: list[dict[str, object]] = attrs.field(factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/json"
        self.bodies.append(await request.json())
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/T0KEN-in-path", receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    receiver.url = str(server.make_url("/hooks/T0KEN-in-path"))
    yield receiver
    await server.close()


def _sink(url: str, attempts: int = 3) -> WebhookAlertSink:
    return WebhookAlertSink(url, attempts=attempts, wait=wait_none(), timeout_s=2.0)


async def test_an_alert_is_posted_as_one_json_document(receiver: Receiver) -> None:
    await _sink(receiver.url).send(ALERT)

    (body,) = receiver.bodies
    assert body == json.loads(json.dumps(alert_payload(ALERT, "binance-gateway")))
    assert body["signal"] == "clock_offset"
    assert body["status"] == "degraded"
    assert body["previous"] == "ok"
    assert body["recovered"] is False
    assert body["at"] == "2026-01-01T00:00:00.000Z"
    assert body["text"] == (
        "[binance-gateway] clock_offset degraded (clock_offset ok -> degraded): "
        "local clock is 3.0 s behind the exchange (offset +3000 ms)"
    )


async def test_a_recovery_says_so(receiver: Receiver) -> None:
    recovered = attrs.evolve(ALERT, previous=Status.DEGRADED, current=Status.OK, message="in sync")
    await _sink(receiver.url).send(recovered)

    assert receiver.bodies[0]["recovered"] is True
    assert str(receiver.bodies[0]["text"]).startswith("[binance-gateway] clock_offset recovered")


async def test_a_failing_receiver_is_retried_until_it_answers(receiver: Receiver) -> None:
    receiver.statuses = [503, 429]

    await _sink(receiver.url).send(ALERT)

    assert len(receiver.bodies) == 3


async def test_a_receiver_that_keeps_failing_is_given_up_with_a_log_line_and_no_exception(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [500] * 10

    with caplog.at_level(logging.ERROR, logger="binance_gateway.alerts.webhook"):
        await _sink(receiver.url, attempts=4).send(ALERT)

    assert len(receiver.bodies) == 4
    (record,) = caplog.records
    assert "clock_offset ok -> degraded not delivered" in record.getMessage()
    assert "HTTP 500" in record.getMessage()
    assert "T0KEN" not in record.getMessage()


async def test_a_refusal_is_not_retried(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.statuses = [400]

    with caplog.at_level(logging.ERROR, logger="binance_gateway.alerts.webhook"):
        await _sink(receiver.url).send(ALERT)

    assert len(receiver.bodies) == 1
    assert "HTTP 400 (not retried)" in caplog.records[0].getMessage()


async def test_an_unreachable_receiver_is_retried_then_logged_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/T0KEN-in-path?key=T0KEN"

    with caplog.at_level(logging.ERROR, logger="binance_gateway.alerts.webhook"):
        await _sink(url, attempts=2).send(ALERT)

    (record,) = caplog.records
    assert f"not delivered to http://127.0.0.1:{port} after retries: ConnectError" in record.getMessage()
    assert "T0KEN" not in caplog.text


def test_only_scheme_host_and_port_of_the_url_are_ever_shown() -> None:
    assert webhook_target("https://hooks.example.com/services/T0KEN?x=1") == "https://hooks.example.com"
    assert webhook_target("http://127.0.0.1:8080/a/b") == "http://127.0.0.1:8080"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "hooks.example.com/x", "https:///x"])
def test_a_url_that_is_not_http_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="BINANCE_GATEWAY_ALERT_WEBHOOK"):
        WebhookAlertSink(url)
