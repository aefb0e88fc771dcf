"""A canary API key and secret, used for real, appear in no log, span, exception, output or cassette.

The command line runs in-process against the loopback test exchange at ``--log-level DEBUG`` with in-memory
telemetry, through commands that succeed and commands that fail in every way a signed or public call can:
a rejected signature, 5xx, 429, a ban, a body that is not JSON, a truncated body and a connection reset. Then
everything the run left behind is searched for the key, the secret and every signature the exchange received.

Log records are searched as the handlers on the root logger receive them (pytest's capture handler among
them), that is after the container's redaction filter: httpx logs each request URL, signature included, and
the filter is what keeps it out of every handler's output.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from typer.testing import CliRunner, Result

from adapters.binance import RetryPolicy
from adapters.cli._runtime import CliLaunch
from adapters.cli.app import app
from adapters.container import Container
from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from tests.cassettes import CASSETTES, build_adapter, cassette
from tests.loopback import Fault, LoopbackExchange

CANARY_KEY = ("CANARYKEY" + "0123456789" * 7)[:64]
CANARY_SECRET = ("CANARYSECRET" + "9876543210" * 7)[:64]
SERVER_ONLY_SECRET = ("SERVERSIDESECRET" + "5" * 64)[:64]  # makes the exchange reject the canary signature
LOGGERS = ("httpx", "httpcore", "aiohttp", "asyncio", "adapters", "application", "binance_gateway")

# (command, fault injected first, the path it hits, exit status)
RUNS: list[tuple[tuple[str, ...], Fault | None, str | None, int]] = [
    (("time",), None, None, 0),
    (("prices", "BTCUSDT", "ETHUSDT"), None, None, 0),
    (("ticker", "BTCUSDT"), None, None, 0),
    (("klines", "BTCUSDT", "--interval", "1h", "--days", "1"), None, None, 0),
    (("account",), None, None, 0),
    (("account",), Fault.http_status(503), "/api/v3/account", 6),
    (("account",), Fault.rate_limited(retry_after=0), "/api/v3/account", 5),
    (("account",), Fault.banned(retry_after=600), "/api/v3/account", 5),
    (("account",), Fault.non_json(), "/api/v3/account", 6),
    (("account",), Fault.truncated_json(), "/api/v3/account", 6),
    (("account",), Fault.reset(), "/api/v3/account", 6),
    (("account",), Fault.waf_403(), "/api/v3/account", 6),
    (("prices", "BTCUSDT"), Fault.http_status(500, body="html"), "/api/v3/ticker/price", 6),
    (("prices", "BTCUSDT"), Fault.reset(), "/api/v3/ticker/price", 6),
]


class Evidence:
    """Every text the runs produced, labelled by where it came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str | None) -> None:
        if text:
            self.texts.append((where, text))

    def add_exception(self, where: str, exc: BaseException | None) -> None:
        if exc is None:
            return
        self.add(where, "".join(traceback.format_exception(exc)))
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            self.add(f"{where} message", f"{type(exc).__name__}: {exc} {exc.args!r}")
            exc = exc.__cause__ or exc.__context__

    def holding(self, needle: str) -> list[str]:
        return [where for where, text in self.texts if needle in text]


def _record_logs(evidence: Evidence, records: list[logging.LogRecord]) -> None:
    for record in records:
        where = f"log {record.name}"
        evidence.add(where, record.getMessage())
        evidence.add(where, repr(record.args))
        evidence.add(where, repr({k: v for k, v in vars(record).items() if k not in {"exc_info", "args"}}))
        evidence.add(where, record.exc_text)
        evidence.add(where, record.stack_info)
        if record.exc_info and record.exc_info[1] is not None:
            evidence.add_exception(f"{where} exc_info", record.exc_info[1])


def _record_telemetry(evidence: Evidence, telemetry: InMemoryTelemetry) -> None:
    for span in telemetry.spans():
        evidence.add(f"span {span.name}", span.to_json())
    for point in telemetry.metric_points():
        evidence.add(f"metric {point.name}", repr(point))


@pytest.fixture
def exchange() -> Iterator[LoopbackExchange]:
    with LoopbackExchange() as running:
        running.add_hmac_key(CANARY_KEY, CANARY_SECRET)
        yield running


def _invoke(exchange: LoopbackExchange, telemetry: InMemoryTelemetry, db: Path, *args: str) -> Result:
    # A fresh container per command, as a new process would have: no limiter or ban state carries over.
    container = Container()
    container.telemetry.override(providers.Object(telemetry))
    container.binance_retry.override(providers.Object(RetryPolicy.instant(max_attempts=2)))
    environ = {
        "BINANCE_BASE_URL": exchange.base_url,
        "BINANCE_API_KEY": CANARY_KEY,
        "BINANCE_API_SECRET": CANARY_SECRET,
        "BINANCE_GATEWAY_DB": str(db),
    }
    launch = CliLaunch(environ=environ, env_file=None, container=container)
    return CliRunner().invoke(app, ["--adapter", "binance", "--log-level", "DEBUG", *args], obj=launch)


async def _record_a_signed_cassette(exchange: LoopbackExchange, library: Path) -> None:
    adapter = build_adapter(exchange.base_url, api_key=CANARY_KEY, api_secret=CANARY_SECRET)
    try:
        with cassette("canary", record_mode="once", secrets=(CANARY_KEY, CANARY_SECRET), library=library):
            await adapter.get_account_info()
    finally:
        await adapter.aclose()


@pytest.mark.slow
def test_the_canary_appears_nowhere(
    exchange: LoopbackExchange, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    evidence = Evidence()
    telemetry = in_memory_telemetry()
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)

    for args, fault, path, status in RUNS:
        exchange.reset_limits()
        if fault is not None:
            exchange.inject(fault, times=4, path=path)  # aiohttp itself resends once on a reset
        result = _invoke(exchange, telemetry, tmp_path / "gateway.db", *args)
        exchange.clear_faults()
        label = " ".join(args) + (f" with {fault.kind}" if fault else "")
        assert result.exit_code == status, f"{label}: {result.output}"
        evidence.add(f"stdout of {label}", result.stdout)
        evidence.add(f"stderr of {label}", result.stderr)
        if not isinstance(result.exception, SystemExit):
            evidence.add_exception(f"exception of {label}", result.exception)

    # A rejected signature: the exchange holds another secret for the canary key.
    exchange.remove_key(CANARY_KEY)
    exchange.add_hmac_key(CANARY_KEY, SERVER_ONLY_SECRET)
    rejected = _invoke(exchange, telemetry, tmp_path / "gateway.db", "account")
    assert rejected.exit_code == 4, rejected.output
    evidence.add("stderr of account with a rejected signature", rejected.stderr)
    exchange.remove_key(CANARY_KEY)
    exchange.add_hmac_key(CANARY_KEY, CANARY_SECRET)

    asyncio.run(_record_a_signed_cassette(exchange, tmp_path))
    for file in [*tmp_path.glob("*.yaml"), *CASSETTES.iterdir()]:
        if file.is_file():
            evidence.add(f"cassette {file.name}", file.read_text(encoding="utf-8"))

    _record_logs(evidence, caplog.records)
    _record_telemetry(evidence, telemetry)

    signatures = [
        value for request in exchange.requests for name, value in request.params if name == "signature"
    ]
    assert len(signatures) >= 10  # the signed calls really were made and signed
    assert any(text for where, text in evidence.texts if where.startswith("span HTTP GET /api/v3/account"))
    assert any(where.startswith("log httpx") for where, _ in evidence.texts)  # debug logging was on
    for needle in (CANARY_KEY, CANARY_SECRET, *signatures):
        assert evidence.holding(needle) == [], f"{needle[:12]}... leaked into {evidence.holding(needle)[:3]}"
    assert json.dumps(evidence.texts)  # everything collected is text
