"""``klines``: a range by days or by start and end, printed, as JSON, or written to CSV or Parquet."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.unit.adapters.cli.conftest import NOW_MS, Cli

MINUTE_MS = 60_000


def test_klines_of_the_last_day_as_json_are_closed_and_contiguous(cli: Cli) -> None:
    document = cli.json("klines", "BTCUSDT", "--interval", "1h", "--days", "1")

    candles = document["klines"]
    assert document["symbol"] == "BTCUSDT"
    assert document["interval"] == "1h"
    assert document["count"] == len(candles) == 23
    assert document["out"] is None
    opens = [c["open_time_ms"] for c in candles]
    assert opens == list(range(opens[0], opens[0] + 23 * 3_600_000, 3_600_000))
    assert all(c["close_time_ms"] < NOW_MS for c in candles)
    assert candles[0]["open_time"].endswith(":00:00.000Z")
    assert isinstance(candles[0]["close"], str)


def test_include_open_keeps_the_newest_candle(cli: Cli) -> None:
    document = cli.json("klines", "BTCUSDT", "--interval", "1h", "--days", "1", "--include-open")

    assert document["count"] == 24
    assert document["klines"][-1]["close_time_ms"] > NOW_MS


def test_klines_by_start_and_end_page_through_the_exchange(cli: Cli) -> None:
    document = cli.json(
        "klines", "ETHUSDT", "-i", "1m", "--start", "2026-01-10T00:00:00Z", "--end", "2026-01-12T09:59"
    )

    assert document["count"] == 2 * 1440 + 600
    assert cli.fake.calls["get_kline_data"] == 4


def test_start_and_end_accept_epoch_milliseconds(cli: Cli) -> None:
    start = NOW_MS - NOW_MS % MINUTE_MS - 10 * MINUTE_MS

    document = cli.json("klines", "BTCUSDT", "--start", str(start), "--end", str(start + 4 * MINUTE_MS))

    assert [c["open_time_ms"] for c in document["klines"]] == [start + i * MINUTE_MS for i in range(5)]


def test_a_long_range_is_printed_shortened(cli: Cli) -> None:
    result = cli("--adapter", "fake", "klines", "BTCUSDT", "--days", "1", "-i", "15m")

    assert result.exit_code == 0, result.output
    assert "BTCUSDT 15m: 95 candles" in result.stdout
    assert "... 75 more" in result.stdout


def test_klines_written_to_csv_keep_every_digit(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "btc.csv"

    result = cli("--adapter", "fake", "klines", "BTCUSDT", "-i", "1h", "--days", "2", "--out", str(out))
    document = cli.json("klines", "BTCUSDT", "-i", "1h", "--days", "2")

    assert result.exit_code == 0, result.output
    assert f"wrote 47 1h candles of BTCUSDT to {out}" in result.stdout.replace("\n", "")
    frame = pd.read_csv(out, dtype=str)
    assert list(frame["close"]) == [c["close"] for c in document["klines"]]
    assert frame["open_time"].iloc[0].endswith("+00:00")


def test_klines_written_to_parquet_read_back_as_exact_decimals(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "btc.parquet"

    document = cli.json("klines", "BTCUSDT", "-i", "1h", "--days", "1", "--out", str(out))

    frame = pd.read_parquet(out)
    assert document["out"] == str(out)
    assert len(frame) == document["count"]
    assert [Decimal(str(v)) for v in frame["close"]] == [Decimal(c["close"]) for c in document["klines"]]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert str(frame.index.tz) == "UTC"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "1", "--start", "2026-01-01"], "not both"),
        (["--start", "2026-01-12", "--end", "2026-01-10"], "start 2026-01-12T00:00:00.000Z is after end"),
        (["--start", "2027-01-01"], "is in the future"),
        (["--days", "0"], "must be positive"),
        ([], "give a start time or a number of days"),
        (["--start", "yesterday"], "--start 'yesterday' is not a date"),
        (["--days", "1", "--out", "candles.xlsx"], "must end in .csv or .parquet"),
        (["--days", "1", "--interval", "7m"], "unknown interval '7m'"),
    ],
)
def test_an_impossible_request_is_a_one_line_usage_error(cli: Cli, args: list[str], message: str) -> None:
    result = cli("--adapter", "fake", "klines", "BTCUSDT", *args)

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert cli.fake.calls["get_kline_data"] == 0


def test_an_unwritable_output_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "missing-folder" / "btc.csv"

    result = cli("--adapter", "fake", "klines", "BTCUSDT", "--days", "1", "--out", str(out))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write {out}")
