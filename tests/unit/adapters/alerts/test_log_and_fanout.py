"""The logging sink logs one line per alert at a level matching the new status; fan-out reaches every sink."""

from __future__ import annotations

import logging

import attrs
import pytest

from adapters.alerts import FanOutAlertSink, LoggingAlertSink
from domain import Alert, Status

DOWN = Alert("ip_ban", Status.OK, Status.DOWN, "IP banned until 2026-01-01 00:02:00 UTC", at_ms=1)


@pytest.mark.parametrize(
    ("previous", "current", "level"),
    [
        (Status.OK, Status.DOWN, logging.ERROR),
        (Status.OK, Status.DEGRADED, logging.WARNING),
        (Status.DOWN, Status.OK, logging.INFO),
    ],
)
async def test_the_level_follows_the_new_status(
    caplog: pytest.LogCaptureFixture, previous: Status, current: Status, level: int
) -> None:
    with caplog.at_level(logging.INFO, logger="binance_gateway.alerts"):
        await LoggingAlertSink().send(attrs.evolve(DOWN, previous=previous, current=current))

    (record,) = caplog.records
    assert record.levelno == level
    assert record.getMessage() == (
        f"health alert: ip_ban {previous.value} -> {current.value}: IP banned until 2026-01-01 00:02:00 UTC"
    )
    assert record.alert_signal == "ip_ban"  # type: ignore[attr-defined]
    assert record.alert_status == current.value  # type: ignore[attr-defined]


@attrs.define
class Recording:
    seen: list[Alert] = attrs.field(factory=list)

    async def send(self, alert: Alert) -> None:
        self.seen.append(alert)


async def test_fan_out_delivers_to_every_sink_in_order() -> None:
    first, second = Recording(), Recording()
    sink = FanOutAlertSink([first, second])

    await sink.send(DOWN)

    assert first.seen == [DOWN]
    assert second.seen == [DOWN]
    assert sink.sinks == (first, second)
