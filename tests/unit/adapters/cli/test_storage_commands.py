"""``backfill``, ``collect``, ``export`` and the snapshot's saving, in-process on the fake exchange."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from adapters.cli._export_files import COLUMNS
from adapters.cli._output import iso
from adapters.sqlite import SqliteMarketDataStore, _writes
from domain import ExchangeUnavailableError, Interval, Kline, NetworkError, Symbol
from tests.unit.adapters.cli.conftest import NOW_MS, Cli

BTC = Symbol("BTCUSDT")
M1 = Interval.MINUTE_1
HOUR_MS = 3_600_000
SINCE_MS = (NOW_MS // HOUR_MS - 30) * HOUR_MS  # 30 whole hours back: 1,800 one-minute candles to now
UNTIL_MS = SINCE_MS + 1_500 * 60_000
DECIMALS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)


def db_path(cli: Cli) -> Path:
    return Path(cli.environ["BINANCE_GATEWAY_DB"])


def stored(cli: Cli, symbol: Symbol = BTC) -> list[Kline]:
    """What the database holds (read in a loop of its own: the command line runs its own loops)."""

    async def load() -> list[Kline]:
        async with await SqliteMarketDataStore.open(db_path(cli)) as store:
            return await store.load_klines(symbol, M1)

    return asyncio.run(load())


def backfill(cli: Cli, *extra: str) -> dict[str, Any]:
    document: dict[str, Any] = cli.json(
        "backfill", "BTCUSDT", "--since", str(SINCE_MS), "--until", str(UNTIL_MS), *extra
    )
    return document


def test_backfill_stores_the_range_and_says_it_is_complete(cli: Cli) -> None:
    document = backfill(cli)

    assert document["complete"] is True
    assert document["stored"] == 1_500
    assert document["db"] == str(db_path(cli))
    (series,) = document["series"]
    assert (series["expected"], series["stored"], series["gaps"]) == (1_500, 1_500, [])
    assert series["start"] == iso(SINCE_MS)
    assert len(stored(cli)) == 1_500


@pytest.fixture
def writing_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread each SQLite write transaction runs on."""
    names: list[str] = []
    write_batch = _writes.write_batch

    def recorded(*args: Any, **kwargs: Any) -> tuple[int, int]:
        names.append(threading.current_thread().name)
        return write_batch(*args, **kwargs)

    monkeypatch.setattr(_writes, "write_batch", recorded)
    return names


def test_backfill_writes_on_its_event_loop_and_collect_on_the_writer_thread(
    cli: Cli, writing_threads: list[str]
) -> None:
    backfill(cli)
    assert writing_threads
    assert set(writing_threads) == {threading.current_thread().name}  # the command's loop runs here

    writing_threads.clear()
    cli.json("collect", "BTCUSDT", "--duration", "0.2", "--rest")
    assert writing_threads
    assert all(name.startswith("sqlite-writer") for name in writing_threads), writing_threads


def test_a_second_backfill_fetches_nothing(cli: Cli) -> None:
    backfill(cli)
    calls = cli.fake.calls["get_kline_data"]

    document = backfill(cli)

    assert document["stored"] == 0
    assert cli.fake.calls["get_kline_data"] == calls


def test_off_a_terminal_backfill_prints_plain_progress_lines_and_a_table(cli: Cli) -> None:
    result = cli("--adapter", "fake", "backfill", "BTCUSDT", "-i", "1m", "-i", "1h", "--since", str(SINCE_MS))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    minutes = (M1.open_time_ms(NOW_MS) - SINCE_MS) // 60_000  # to the candle open now, not included
    assert f"BTCUSDT 1m: 0 of {minutes:,} candles (0%)" in lines
    assert "BTCUSDT 1h: 0 of 30 candles (0%)" in lines
    assert "BTCUSDT 1h: done, 30 candles stored" in lines
    assert f"BTCUSDT 1m: done, {minutes:,} candles stored" in lines
    assert " ".join(result.stdout.split()).endswith(
        f"stored {minutes + 30:,} candles in {db_path(cli)}; complete"
    )


def test_a_backfill_that_keeps_failing_lists_the_gap_and_exits_with_the_errors_status(cli: Cli) -> None:
    # One request at a time: the first window fails, the second fails, the first fails again on the retry.
    cli.fake.script.fail_next(NetworkError("connection reset by peer"), times=3, method="get_kline_data")

    result = cli(
        "--adapter",
        "fake",
        "backfill",
        "BTCUSDT",
        "--since",
        str(SINCE_MS),
        "--until",
        str(UNTIL_MS),
        "--concurrency",
        "1",
    )

    assert result.exit_code == 6, result.output
    text = " ".join(result.stdout.split())
    assert (
        f"BTCUSDT 1m: 1,000 candles missing from {iso(SINCE_MS)} to {iso(SINCE_MS + 999 * 60_000)} "
        "(fetch failed: NetworkError: connection reset by peer)"
    ) in text
    assert "incomplete: run the same command again" in text

    assert backfill(cli)["stored"] == 1_000


def test_backfill_json_lists_every_gap_with_its_error(cli: Cli) -> None:
    cli.fake.script.fail_next(
        ExchangeUnavailableError("busy", http_status=503), times=4, method="get_kline_data"
    )

    result = cli(
        "--adapter",
        "fake",
        "backfill",
        "BTCUSDT",
        "--since",
        str(SINCE_MS),
        "--until",
        str(UNTIL_MS),
        "--json",
    )

    assert result.exit_code == 6
    document = json.loads(result.stdout)
    (series,) = document["series"]
    assert [(g["kind"], g["count"], g["error_type"]) for g in series["gaps"]] == [
        ("failed", 1_500, "ExchangeUnavailableError")
    ]
    assert document["complete"] is False


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "yesterday"], "is not a date"),
        (["--since", "2020-01-02", "--until", "2020-01-01"], "is not after"),
        (["--since", "2020-01-01", "-i", "2m"], "unknown interval"),
        (["NOPEUSDT", "--since", "2020-01-01"], "NOPEUSDT"),
    ],
)
def test_backfill_usage_errors_exit_2(cli: Cli, arguments: list[str], message: str) -> None:
    result = cli("--adapter", "fake", "backfill", *arguments)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert cli.fake.calls["get_kline_data"] == 0


def test_collect_stops_after_its_duration_with_everything_stored(cli: Cli) -> None:
    document = cli.json("collect", "BTCUSDT", "ETHUSDT", "--duration", "0.2", "--rest")

    assert document["db"] == str(db_path(cli))
    assert document["prices_stored"] == 2
    assert [s["candles_stored"] for s in document["series"]] == [999, 999]
    assert [s["symbol"] for s in document["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    assert cli.fake.calls["get_symbol_tickers"] == 1


def test_collect_prints_a_summary_table(cli: Cli) -> None:
    result = cli("--adapter", "fake", "collect", "BTCUSDT", "-i", "1m", "-i", "5m", "--duration", "0.1")

    assert result.exit_code == 0, result.output
    assert "run collect again to continue" in result.stdout
    # The candles are the fake clock's fixed history; how many price updates the stream delivers in 0.1 s
    # depends on scheduling, so only their presence in the sentence is checked.
    summary = " ".join(result.stdout.split())
    stored_in = re.escape(str(db_path(cli)))
    assert re.search(rf"\d+ prices and 1,998 candles stored in {stored_in}", summary), summary


def test_collect_refuses_a_duration_that_is_not_positive(cli: Cli) -> None:
    result = cli("--adapter", "fake", "collect", "--duration", "0")

    assert result.exit_code == 2
    assert "--duration" in result.stderr


def test_export_round_trips_csv_and_parquet_with_exact_decimals(cli: Cli, tmp_path: Path) -> None:
    backfill(cli)
    candles = stored(cli)

    for name in ("btc.csv", "btc.parquet"):
        document = cli.json(
            "export", "BTCUSDT", "--interval", "1m", "--out", str(tmp_path / name), "--chunk-size", "400"
        )
        assert document["count"] == 1_500
        assert document["gaps"] == []

    with (tmp_path / "btc.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(COLUMNS)
    assert [r["open_time"] for r in rows] == [iso(k.open_time_ms) for k in candles]
    assert [int(r["trade_count"]) for r in rows] == [k.trade_count for k in candles]
    for name in DECIMALS:
        assert [Decimal(r[name]) for r in rows] == [getattr(k, name) for k in candles]

    table = pq.read_table(tmp_path / "btc.parquet")
    assert pq.ParquetFile(tmp_path / "btc.parquet").num_row_groups == 4
    assert table.schema.metadata == {b"symbol": b"BTCUSDT", b"interval": b"1m"}
    columns = table.to_pydict()
    assert [int(t.timestamp() * 1000) for t in columns["open_time"]] == [k.open_time_ms for k in candles]
    assert [int(t.timestamp() * 1000) for t in columns["close_time"]] == [k.close_time_ms for k in candles]
    for name in DECIMALS:
        assert [Decimal(v) for v in columns[name]] == [getattr(k, name) for k in candles]


def test_export_of_a_range_with_a_hole_says_so(cli: Cli, tmp_path: Path) -> None:
    backfill(cli)
    end = UNTIL_MS + 10 * 60_000
    cli.json("backfill", "BTCUSDT", "--since", str(UNTIL_MS + 5 * 60_000), "--until", str(end))

    result = cli(
        "--adapter", "fake", "export", "BTCUSDT", "--out", str(tmp_path / "x.csv"), "--start", str(SINCE_MS)
    )

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "wrote 1,505 1m candles of BTCUSDT" in text
    assert "1 gaps inside" in text


def test_export_with_nothing_stored_writes_an_empty_file_and_says_why(cli: Cli, tmp_path: Path) -> None:
    result = cli("--adapter", "fake", "export", "ETHUSDT", "--out", str(tmp_path / "e.csv"))

    assert result.exit_code == 0, result.output
    assert "run backfill first" in result.stdout
    assert (tmp_path / "e.csv").read_text().strip() == ",".join(COLUMNS)


@pytest.mark.parametrize("out", ["candles.xlsx", "candles"])
def test_export_needs_a_csv_or_parquet_file(cli: Cli, tmp_path: Path, out: str) -> None:
    result = cli("--adapter", "fake", "export", "BTCUSDT", "--out", str(tmp_path / out))

    assert result.exit_code == 2
    assert ".csv or .parquet" in result.stderr


def test_export_into_a_missing_folder_fails_and_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    backfill(cli)
    target = tmp_path / "missing" / "btc.parquet"

    result = cli("--adapter", "fake", "export", "BTCUSDT", "--out", str(target))

    assert result.exit_code == 3
    assert f"cannot write {target}" in result.stderr
    assert not target.parent.exists()


def test_the_snapshot_is_saved_and_the_command_says_where(cli: Cli) -> None:
    result = cli("--adapter", "fake", "snapshot", "BTCUSDT", "--candles", "5")

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert text.endswith(
        f"saved in {db_path(cli)}: 1 prices, 1 24h statistics, 4 new candles, 1 still open, not stored, "
        "the account"
    )
    assert [k.open_time_ms for k in stored(cli)] == [
        M1.open_time_ms(NOW_MS) - i * 60_000 for i in range(4, 0, -1)
    ]


def test_the_snapshot_json_says_what_was_saved(cli: Cli) -> None:
    document = cli.json("snapshot", "BTCUSDT", "ETHUSDT", "--candles", "3")

    saved = document["saved"]
    assert saved["location"] == str(db_path(cli))
    assert saved["klines"]["stored"] == 4
    assert saved["klines"]["not_closed"] == 2
    assert saved["prices"]["stored"] == 2
    assert saved["account"]["stored"] == 1
