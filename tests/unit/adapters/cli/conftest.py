"""Run the command line in-process against the fake exchange, through the real composition root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from dependency_injector import providers
from typer.testing import CliRunner, Result

from adapters.cli._runtime import CliLaunch
from adapters.cli.app import app
from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from adapters.telemetry.testing import in_memory_telemetry

#: 2026-01-15T12:34:56.789Z
NOW_MS = 1_768_480_496_789


@attrs.define
class Cli:
    """``binance-gateway`` with a container whose clock and fake exchange the test holds."""

    container: Container
    clock: FakeClock
    fake: FakeExchange
    environ: dict[str, str] = attrs.field(factory=dict)

    def __call__(self, *args: str) -> Result:
        launch = CliLaunch(environ=self.environ, env_file=None, container=self.container)
        return CliRunner().invoke(app, list(args), obj=launch)

    def json(self, *args: str) -> Any:
        result = self("--adapter", "fake", "--json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    clock = FakeClock(NOW_MS)
    fake = FakeExchange(clock)
    container = Container()
    container.clock.override(clock)
    container.fake_exchange.override(fake)
    container.telemetry.override(providers.Object(in_memory_telemetry()))
    # Commands that store what they fetch (snapshot) write here, never into the user's data folder.
    return Cli(container, clock, fake, environ={"BINANCE_GATEWAY_DB": str(tmp_path / "gateway.sqlite3")})
