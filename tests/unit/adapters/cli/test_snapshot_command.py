"""``snapshot``: clock, rules, prices, 24h statistics, candles, account and the validation report."""

from __future__ import annotations

from decimal import Decimal

from adapters.memory import FakeExchange
from domain import DEFAULT_SYMBOLS
from tests.unit.adapters.cli.conftest import NOW_MS, Cli
from tests.unit.application.corrupting import CorruptingMarket, replace_kline


def test_the_snapshot_prints_every_pair_the_account_and_a_clean_report(cli: Cli) -> None:
    result = cli("--adapter", "fake", "snapshot")

    assert result.exit_code == 0, result.output
    for symbol in DEFAULT_SYMBOLS:
        assert str(symbol) in result.stdout
    assert "Non-zero balances" in result.stdout
    assert "no problems" in result.stdout


def test_the_snapshot_as_json(cli: Cli) -> None:
    document = cli.json("snapshot", "BTCUSDT", "ETHUSDT", "--interval", "1h", "--candles", "3")

    shot = document["snapshot"]
    assert shot["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert shot["interval"] == "1h"
    assert shot["taken_at_ms"] == NOW_MS
    assert {symbol: len(candles) for symbol, candles in shot["klines"].items()} == {
        "BTCUSDT": 3,
        "ETHUSDT": 3,
    }
    assert [rule["status"] for rule in shot["rules"]] == ["TRADING", "TRADING"]
    assert shot["report"]["ok"] is True
    assert shot["account"]["balances"]
    assert set(document["prices"]) == {"BTCUSDT", "ETHUSDT"}
    assert all(Decimal(price) > 0 for price in document["prices"].values())


def test_without_credentials_the_snapshot_says_the_account_was_skipped(cli: Cli) -> None:
    cli.container.fake_exchange.override(FakeExchange(cli.clock, has_credentials=False))

    result = cli("--adapter", "fake", "snapshot", "BTCUSDT")

    assert result.exit_code == 0, result.output
    assert "no credentials configured" in result.stdout


def test_problems_in_the_data_are_listed_and_do_not_fail_the_snapshot(cli: Cli) -> None:
    cli.container.fake_exchange.override(
        CorruptingMarket(cli.clock, klines=replace_kline(0, volume=Decimal(-1)))
    )

    human = cli("--adapter", "fake", "snapshot", "BTCUSDT")

    assert human.exit_code == 0, human.output
    assert "1 problem, 0 gaps" in human.stdout
    assert "volume: -1 is negative" in human.stdout


def test_problems_in_the_data_are_listed_in_the_json_report(cli: Cli) -> None:
    cli.container.fake_exchange.override(
        CorruptingMarket(cli.clock, klines=replace_kline(0, volume=Decimal(-1)))
    )

    document = cli.json("snapshot", "BTCUSDT")

    problem = document["snapshot"]["report"]["problems"][0]
    assert problem["reason"] == "negative_quantity"
    assert problem["label"].startswith("BTCUSDT 1m kline ")
