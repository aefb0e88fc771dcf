"""``time``, ``prices`` and ``ticker``: rich tables by default, one JSON document with ``--json``."""

from __future__ import annotations

from decimal import Decimal

from domain import DEFAULT_SYMBOLS
from tests.unit.adapters.cli.conftest import NOW_MS, Cli

DEFAULTS = [str(s) for s in DEFAULT_SYMBOLS]
NOW_ISO = "2026-01-15T12:34:56.789Z"


def test_json_prices_are_one_parseable_document_with_the_five_default_pairs(cli: Cli) -> None:
    document = cli.json("prices")

    assert [row["symbol"] for row in document["prices"]] == DEFAULTS
    for row in document["prices"]:
        assert isinstance(row["price"], str)
        assert Decimal(row["price"]) > 0
        assert row["as_of"] == NOW_ISO
        assert row["as_of_ms"] == NOW_MS
    assert cli.fake.calls["get_symbol_tickers"] == 1


def test_prices_of_chosen_pairs_in_a_table(cli: Cli) -> None:
    result = cli("--adapter", "fake", "prices", "ethbtc", "SOLUSDT")

    assert result.exit_code == 0, result.output
    assert "ETHBTC" in result.stdout
    assert "SOLUSDT" in result.stdout
    assert "BTCUSDT" not in result.stdout
    assert result.stderr == ""


def test_the_symbols_setting_changes_the_default_pairs(cli: Cli) -> None:
    cli.environ["BINANCE_GATEWAY_SYMBOLS"] = "ADAUSDT,DOGEUSDT"

    document = cli.json("prices")

    assert [row["symbol"] for row in document["prices"]] == ["ADAUSDT", "DOGEUSDT"]


def test_the_adapter_can_come_from_the_environment(cli: Cli) -> None:
    cli.environ["BINANCE_GATEWAY_ADAPTER"] = "fake"

    result = cli("--json", "prices", "BTCUSDT")

    assert result.exit_code == 0, result.output


def test_time_prints_server_time_and_offset(cli: Cli) -> None:
    result = cli("--adapter", "fake", "time")

    assert result.exit_code == 0, result.output
    assert NOW_ISO in result.stdout
    assert "+0.0 ms" in result.stdout


def test_time_as_json_gives_iso_and_milliseconds(cli: Cli) -> None:
    document = cli.json("time")

    assert document == {
        "server_time": NOW_ISO,
        "server_time_ms": NOW_MS,
        "local_time": NOW_ISO,
        "local_time_ms": NOW_MS,
        "rtt_ms": 0.0,
        "offset_ms": 0.0,
    }


def test_ticker_prints_24h_statistics(cli: Cli) -> None:
    result = cli("--adapter", "fake", "ticker", "BTCUSDT")

    assert result.exit_code == 0, result.output
    assert "24h statistics" in result.stdout
    assert "BTCUSDT" in result.stdout


def test_ticker_as_json_keeps_decimals_as_strings(cli: Cli) -> None:
    document = cli.json("ticker")

    tickers = document["tickers"]
    assert [t["symbol"] for t in tickers] == DEFAULTS
    first = tickers[0]
    assert Decimal(first["low_price"]) <= Decimal(first["last_price"]) <= Decimal(first["high_price"])
    assert first["close_time"].endswith("Z")
    assert isinstance(first["trade_count"], int)
