"""``watch`` and streaming ``collect`` in-process on the fake exchange and its stream, through the container.

The fake stream is swapped (``.override()``) for one whose sleep moves the test's fake clock a second per
tick, so a short ``--duration`` of real time covers many seconds of market.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from dependency_injector import providers

from adapters.cli.watch import Board, event_line
from adapters.clock import FakeClock
from adapters.memory.streams import FakeMarketStream
from domain import (
    ConnectionState,
    DisconnectReason,
    StreamConnected,
    StreamDisconnected,
    StreamReconnecting,
    Symbol,
)
from tests.unit.adapters.cli.conftest import Cli

DEFAULT_PAIRS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"]


@pytest.fixture
def streaming(cli: Cli) -> Cli:
    clock = cli.clock

    async def tick(seconds: float) -> None:
        clock.advance(round(seconds * 1000))
        await asyncio.sleep(0.001)

    cli.container.fake_stream.override(providers.Factory(FakeMarketStream, clock=clock, sleep=tick))
    return cli


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_watch_json_prints_one_line_per_event_for_the_five_default_pairs(streaming: Cli) -> None:
    result = streaming("--adapter", "fake", "watch", "--json", "--duration", "0.3")

    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert lines[0]["type"] == "connected"
    assert lines[0]["streams"] == 10  # a mini ticker and a book ticker per pair
    assert {line["symbol"] for line in lines if line["type"] == "mini_ticker"} == set(DEFAULT_PAIRS)
    book = next(line for line in lines if line["type"] == "book_ticker")
    assert set(book) == {
        "type",
        "symbol",
        "update_id",
        "bid_price",
        "bid_qty",
        "ask_price",
        "ask_qty",
        "received_ms",
    }
    assert isinstance(book["bid_price"], str)  # decimals as text, never floats


def test_watch_shows_a_table_of_the_pairs_asked_for(streaming: Cli) -> None:
    result = streaming("--adapter", "fake", "watch", "BTCUSDT", "ETHUSDT", "--duration", "0.3")

    assert result.exit_code == 0, result.output
    assert "Live prices" in result.stdout
    rows = [line for line in result.stdout.splitlines() if "USDT" in line]
    assert [row.split()[1] for row in rows] == ["BTCUSDT", "ETHUSDT"]
    assert all("s ago" in row and "connected" in row for row in rows)


@pytest.mark.parametrize("duration", ["0", "-1"])
def test_watch_refuses_a_duration_that_is_not_positive(cli: Cli, duration: str) -> None:
    result = cli("--adapter", "fake", "watch", "--duration", duration)

    assert result.exit_code == 2
    assert "--duration must be a positive number of seconds" in result.stderr


def test_watch_exits_2_for_a_pair_the_exchange_does_not_stream(cli: Cli) -> None:
    result = cli("--adapter", "fake", "watch", "NOPEUSDT", "--duration", "5")

    assert result.exit_code == 2
    assert "NOPEUSDT" in result.stderr


def test_streaming_collect_stores_prices_from_the_stream_and_polls_nothing(streaming: Cli) -> None:
    document = streaming.json("collect", "BTCUSDT", "ETHUSDT", "--duration", "0.5")

    assert document["prices_stored"] >= 2
    assert [s["candles_stored"] for s in document["series"]] >= [999, 999]
    assert streaming.fake.calls["get_symbol_tickers"] == 0
    assert document["last_error"] is None


def test_collect_with_rest_polls_instead_of_streaming(streaming: Cli) -> None:
    document = streaming.json("collect", "BTCUSDT", "--duration", "0.2", "--rest")

    assert document["prices_stored"] >= 1
    assert streaming.fake.calls["get_symbol_tickers"] >= 1


def test_the_board_shows_the_worst_connection_state() -> None:
    clock = FakeClock(1_000)
    board = Board([Symbol("BTCUSDT")], clock)
    assert board.connection_text() == "connecting"

    board.apply(StreamConnected("stream-1", 1, 2))
    board.apply(StreamConnected("stream-2", 1, 2))
    assert board.connection_text() == "connected"
    board.apply(StreamDisconnected("stream-2", 2, DisconnectReason.SILENCE))
    assert board.connection_text() == "disconnected (silence)"
    board.apply(StreamReconnecting("stream-2", 3, 2, 0.5, DisconnectReason.SILENCE))
    assert board.connection_text() == "reconnecting (silence, attempt 2)"
    assert board.connections["stream-2"][0] is ConnectionState.RECONNECTING


def test_event_lines_name_the_event_type() -> None:
    line = json.loads(event_line(StreamReconnecting("stream-1", 5, 3, 1.5, DisconnectReason.LIFETIME)))

    assert line == {
        "type": "reconnecting",
        "connection": "stream-1",
        "at_ms": 5,
        "attempt": 3,
        "delay_s": 1.5,
        "reason": "lifetime",
    }
