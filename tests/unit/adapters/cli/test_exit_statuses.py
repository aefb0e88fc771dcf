"""Every failure is one line on stderr and its own exit status; never a traceback."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adapters.cli._runtime import FALLBACK_HINT
from adapters.memory import FakeExchange
from domain import (
    AccessDeniedError,
    AuthenticationError,
    BinanceAPIError,
    ClockSkewError,
    ConfigurationError,
    DataValidationError,
    ExchangeUnavailableError,
    GatewayError,
    InvalidInputError,
    InvalidIntervalError,
    InvalidRequestError,
    InvalidSymbolError,
    IPBannedError,
    MalformedResponseError,
    NetworkError,
    PriceQuote,
    RateLimitError,
    RequestTimeoutError,
    SchemaVersionError,
    StorageError,
    StorageUnavailableError,
    Symbol,
)
from tests.unit.adapters.cli.conftest import NOW_MS, Cli

ERRORS: list[tuple[GatewayError, int]] = [
    (ConfigurationError("BINANCE_API_SECRET is not a valid secret"), 3),
    (InvalidInputError("limit must be between 1 and 1000"), 2),
    (DataValidationError("prices failed validation"), 7),
    (NetworkError("Connection refused", endpoint="/api/v3/ticker/price"), 6),
    (RequestTimeoutError("Read timed out after 10.0 s", endpoint="/api/v3/ticker/price"), 6),
    (ExchangeUnavailableError("Service unavailable", http_status=503), 6),
    (RateLimitError("Too much request weight used; retry after 30 s", retry_after=30), 5),
    (IPBannedError("IP banned until 2026-01-15T13:00:00Z", banned_until_ms=NOW_MS + 3_600_000), 5),
    (ClockSkewError("Timestamp for this request is outside of the recvWindow", code=-1021), 4),
    (AuthenticationError("Signature for this request is not valid", code=-1022, http_status=400), 4),
    (AccessDeniedError("Forbidden by the web application firewall", http_status=403), 6),
    (InvalidRequestError("Illegal characters found in parameter 'symbols'", code=-1100), 2),
    (InvalidSymbolError("Invalid symbol", code=-1121, http_status=400), 2),
    (InvalidIntervalError("Invalid interval", code=-1120, http_status=400), 2),
    (MalformedResponseError("the body is not JSON: '<html>'", http_status=502), 6),
    (BinanceAPIError("Unknown error from the exchange", code=-1000, http_status=400), 6),
    (StorageError("cannot write the database file", location="gw.sqlite3"), 3),
    (SchemaVersionError("the database has schema version 9", location="gw.sqlite3"), 3),
    (StorageUnavailableError("database is locked", location="gw.sqlite3"), 6),
]


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("error", "status"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
@pytest.mark.parametrize("command", [["prices"], ["--json", "prices"], ["snapshot"], ["time"]])
def test_each_gateway_error_exits_with_its_status_and_one_line(
    cli: Cli, error: GatewayError, status: int, command: Sequence[str]
) -> None:
    cli.fake.script.fail_next(error)

    result = cli("--adapter", "fake", *command)

    assert result.exit_code == status == error.exit_code
    line = _one_error_line(result.stderr)
    assert line == f"error: {error} — {error.hint or FALLBACK_HINT}"
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_every_error_class_of_the_domain_is_checked_above() -> None:
    def family(cls: type[GatewayError]) -> set[type[GatewayError]]:
        found = {cls}
        for sub in cls.__subclasses__():
            found |= family(sub)
        return found

    domain_errors = {c for c in family(GatewayError) if c.__module__ == "domain.errors"} - {GatewayError}

    assert {type(e) for e, _ in ERRORS} == domain_errors


def test_a_ban_says_until_when(cli: Cli) -> None:
    cli.fake.script.ban(NOW_MS + 2 * 3_600_000)

    result = cli("--adapter", "fake", "prices")

    assert result.exit_code == 5
    assert "2026-01-15T14:34:56" in _one_error_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prices", "BTC-USDT"], "symbol 'BTC-USDT' contains '-'"),
        (["prices", "BTCUSDT", "btcusdt"], "symbol BTCUSDT is listed twice"),
        (["prices", "NOPEUSDT"], "Invalid symbol NOPEUSDT"),
        (["ticker", "NOPEUSDT"], "Invalid symbol NOPEUSDT"),
        (["snapshot", "--interval", "2m"], "unknown interval '2m'"),
        (["snapshot", "--candles", "0"], "1 to 1000"),
        (["klines", "NOPEUSDT", "--days", "1"], "Invalid symbol NOPEUSDT"),
    ],
)
def test_wrong_symbols_and_intervals_are_usage_errors(cli: Cli, args: list[str], message: str) -> None:
    result = cli("--adapter", "fake", *args)

    assert result.exit_code == 2
    assert message in _one_error_line(result.stderr)


def test_an_unknown_adapter_is_a_configuration_error(cli: Cli) -> None:
    result = cli("--adapter", "kraken", "prices")

    assert result.exit_code == 3
    assert "unknown adapter 'kraken'" in _one_error_line(result.stderr)


def test_a_bad_setting_in_the_environment_is_a_configuration_error(cli: Cli) -> None:
    cli.environ["BINANCE_GATEWAY_FAKE_SEED"] = "lucky"

    result = cli("--adapter", "fake", "prices")

    assert result.exit_code == 3
    assert "BINANCE_GATEWAY_FAKE_SEED must be a whole number" in _one_error_line(result.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["--adapter", "fake", "prices", "--no-such-option"],
        ["--adapter", "fake", "no-such-command"],
        ["--adapter"],
        ["--adapter", "fake", "klines"],
        ["--adapter", "fake", "klines", "BTCUSDT", "--days", "several"],
    ],
)
def test_command_line_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    result = cli(*args)

    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_no_command_shows_the_help(cli: Cli) -> None:
    result = cli()

    assert "Usage" in result.output
    for command in ("time", "prices", "ticker", "klines", "account", "snapshot"):
        assert command in result.output


class ExplodingExchange(FakeExchange):
    """A defective adapter: raises something that is not a ``GatewayError``."""

    async def get_symbol_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[PriceQuote]:
        msg = "adapter bug: list index out of range"
        raise RuntimeError(msg)


def test_an_unexpected_exception_is_one_line_and_exit_1(cli: Cli) -> None:
    cli.container.fake_exchange.override(ExplodingExchange(cli.clock))

    result = cli("--adapter", "fake", "prices")

    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert "unexpected RuntimeError: adapter bug" in line
    assert "--log-level DEBUG" in line


def test_at_debug_level_an_unexpected_exception_shows_its_traceback(cli: Cli) -> None:
    cli.container.fake_exchange.override(ExplodingExchange(cli.clock))

    result = cli("--adapter", "fake", "--log-level", "DEBUG", "prices")

    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: unexpected RuntimeError")
