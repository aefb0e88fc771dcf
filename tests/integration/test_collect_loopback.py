"""``collect`` as a subprocess against the loopback exchange, stopped with SIGINT or SIGTERM.

The command must store what it fetched, print its summary and exit with 0; what the summary counts is what
the database holds.
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


def _count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
        except sqlite3.OperationalError:  # the schema is not created yet
            return 0


@pytest.fixture
def exchange() -> Iterator[LoopbackProcess]:
    with LoopbackProcess("--seed", "5") as process:
        yield process


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_collect_stops_on_a_signal_with_everything_fetched_stored(
    exchange: LoopbackProcess, tmp_path: Path, signum: signal.Signals
) -> None:
    db = tmp_path / "market.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "collect", "BTCUSDT", "ETHUSDT", "-i", "1m", "-i", "1s", "--json"],
        cwd=tmp_path,
        env=environ(exchange.base_url, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        while _count(db, "price_ticks") < 4:  # two rounds of prices for the two pairs
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "collect stored no price in time"
            time.sleep(0.02)
        process.send_signal(signum)
        out, err = process.communicate(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    summary = json.loads(out)
    assert summary["prices_stored"] == _count(db, "price_ticks") >= 4
    assert summary["candles_stored"] == _count(db, "klines") >= 4 * 999
    assert {(s["symbol"], s["interval"]) for s in summary["series"]} == {
        ("BTCUSDT", "1m"),
        ("BTCUSDT", "1s"),
        ("ETHUSDT", "1m"),
        ("ETHUSDT", "1s"),
    }
    assert summary["last_error"] is None
    requests = exchange.requests()
    assert {r["path"] for r in requests} >= {"/api/v3/ticker/price", "/api/v3/klines"}
    assert all(r["status"] == 200 for r in requests)
