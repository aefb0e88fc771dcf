"""``collect`` and ``watch`` as processes, streaming the five default pairs from the loopback exchange.

The exchange runs as a process too (``python -m tests.loopback --streams``), on the real clock, publishing
each second's events as it passes.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration._cli_process import COMMAND, DEADLINE_S, environ
from tests.loopback.process import LoopbackProcess

pytestmark = pytest.mark.slow

DEFAULT_PAIRS = {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"}


@pytest.fixture
def exchange() -> Iterator[LoopbackProcess]:
    with LoopbackProcess("--seed", "5", "--streams") as process:
        yield process


def _streaming_environ(exchange: LoopbackProcess, db: Path) -> dict[str, str]:
    env = environ(exchange.base_url, db, streams=True)
    del env["BINANCE_GATEWAY_SYMBOLS"]  # the five default pairs
    return env


def _count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
        except sqlite3.OperationalError:
            return 0


def test_collect_streams_the_five_default_pairs_and_polls_no_prices(
    exchange: LoopbackProcess, tmp_path: Path
) -> None:
    db = tmp_path / "market.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "collect", "--json"],
        cwd=tmp_path,
        env=_streaming_environ(exchange, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        while _count(db, "price_ticks") < 10:  # two prices for each of the five pairs
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "collect stored no price in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    summary = json.loads(out)
    assert {s["symbol"] for s in summary["symbols"]} == DEFAULT_PAIRS
    assert summary["candles_stored"] == _count(db, "klines") >= 5 * 999
    assert summary["last_error"] is None
    paths = {r["path"] for r in exchange.requests()}
    assert "/api/v3/klines" in paths  # the first page, fetched to fill the series
    assert "/api/v3/ticker/price" not in paths  # prices came from the stream


def test_watch_json_streams_every_default_pair(exchange: LoopbackProcess, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", COMMAND, "watch", "--json", "--duration", "2.5"],
        cwd=tmp_path,
        env=_streaming_environ(exchange, tmp_path / "unused.sqlite3"),
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "connected"
    assert {line["symbol"] for line in lines if line["type"] == "mini_ticker"} == DEFAULT_PAIRS
    assert {line["symbol"] for line in lines if line["type"] == "book_ticker"} == DEFAULT_PAIRS
