"""Backfill through the real Binance adapter against the loopback exchange.

- Killed mid-run: the exchange and the ``backfill`` command both run as subprocesses; the command is
  SIGKILLed once some pages are stored (the test polls the database), then run again. The result is checked
  candle by candle against the exchange's own series, fetched directly with httpx: no gap, no duplicate.
- Interrupted with SIGINT: the command stores what arrived, says how to resume and exits with 130.
- Through faults (5xx, connection resets, a 429 with Retry-After): the run still ends complete.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from typer.testing import CliRunner

from adapters.binance.retry import RetryPolicy
from adapters.cli._runtime import CliLaunch
from adapters.cli.app import app
from adapters.container import Container
from adapters.telemetry.testing import in_memory_telemetry
from tests.integration._cli_process import COMMAND, DEADLINE_S, environ
from tests.loopback.faults import Fault
from tests.loopback.process import LoopbackProcess
from tests.loopback.server import LoopbackExchange

pytestmark = pytest.mark.slow

SINCE = "2024-03-01T00:00"
SINCE_MS = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)
MINUTES = 12_000  # twelve pages of one-minute candles
UNTIL_MS = SINCE_MS + MINUTES * 60_000


def _backfill(base_url: str, db: Path, *extra: str) -> subprocess.Popen[str]:
    arguments = ["backfill", "BTCUSDT", "--since", SINCE, "--until", str(UNTIL_MS), *extra]
    return subprocess.Popen(
        [sys.executable, "-c", COMMAND, *arguments],
        cwd=db.parent,
        env=environ(base_url, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stored_count(db: Path) -> int:
    """Candles committed so far, read the way another process would (WAL: never blocked by the writer)."""
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM klines").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not created yet
            return 0


def _wait_until(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert process.poll() is None, f"the command ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "nothing was stored in time"
        time.sleep(0.02)


def _exchange_series(base_url: str) -> list[list[Any]]:
    """The range straight from the exchange, page by page (the reference the store is checked against)."""
    rows: list[list[Any]] = []
    cursor = SINCE_MS
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while cursor < UNTIL_MS:
            params: dict[str, str | int] = {
                "symbol": "BTCUSDT",
                "interval": "1m",
                "startTime": cursor,
                "endTime": UNTIL_MS - 1,
                "limit": 1000,
            }
            page = client.get("/api/v3/klines", params=params).json()
            rows += page
            cursor = page[-1][0] + 60_000
    return rows


def _stored_rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT open_time_ms, open, high, low, close, volume, close_time_ms, quote_volume, trade_count, "
            "taker_buy_base_volume, taker_buy_quote_volume FROM klines_by_symbol "
            "WHERE symbol = 'BTCUSDT' AND interval = '1m' ORDER BY open_time_ms"
        ).fetchall()


@pytest.fixture
def exchange() -> Iterator[LoopbackProcess]:
    with LoopbackProcess("--seed", "11") as process:
        yield process


def test_a_backfill_killed_mid_run_resumes_with_every_candle_once(
    exchange: LoopbackProcess, tmp_path: Path
) -> None:
    db = tmp_path / "market.sqlite3"
    # Slow pages, two at a time, so that the kill lands mid-run.
    exchange.set_latency(0.15, path="/api/v3/klines")
    first = _backfill(exchange.base_url, db, "--concurrency", "2")
    try:
        _wait_until(lambda: _stored_count(db) >= 3_000, first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    killed_at = _stored_count(db)
    assert 3_000 <= killed_at < MINUTES
    exchange.set_latency(0.0, path="/api/v3/klines")
    exchange.clear_requests()

    second = _backfill(exchange.base_url, db, "--json")
    out, err = second.communicate(timeout=DEADLINE_S)

    assert second.returncode == 0, err
    report = json.loads(out)
    (series,) = report["series"]
    assert (series["already_stored"], series["stored"], series["gaps"]) == (
        killed_at,
        MINUTES - killed_at,
        [],
    )
    pages = [r for r in exchange.requests() if r["path"] == "/api/v3/klines"]
    assert len(pages) <= (MINUTES - killed_at) // 1000 + 2  # only what was missing is fetched again
    reference = _exchange_series(exchange.base_url)
    stored = _stored_rows(db)
    assert len(reference) == len(stored) == MINUTES
    for want, have in zip(reference, stored, strict=True):
        assert have[0] == want[0]
        assert [Decimal(v) for v in have[1:6]] == [Decimal(v) for v in want[1:6]]
        assert (have[6], Decimal(have[7]), have[8]) == (want[6], Decimal(want[7]), want[8])
        assert [Decimal(have[9]), Decimal(have[10])] == [Decimal(want[9]), Decimal(want[10])]
    assert [row[0] for row in stored] == [SINCE_MS + i * 60_000 for i in range(MINUTES)]


def test_sigint_stores_what_arrived_and_says_how_to_resume(exchange: LoopbackProcess, tmp_path: Path) -> None:
    db = tmp_path / "market.sqlite3"
    exchange.set_latency(0.15, path="/api/v3/klines")
    process = _backfill(exchange.base_url, db, "--concurrency", "1")
    try:
        _wait_until(lambda: _stored_count(db) >= 1_000, process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130
    assert "interrupted: what was fetched is stored in" in err
    assert "run the same command to resume" in err
    assert _stored_count(db) % 1000 == 0  # whole pages: each is one transaction


def test_a_backfill_through_server_errors_resets_and_a_429_ends_complete(
    loopback_exchange_thread: LoopbackExchange, tmp_path: Path
) -> None:
    exchange = loopback_exchange_thread
    klines = "/api/v3/klines"
    exchange.inject(Fault.http_status(503), times=3, path=klines)
    exchange.inject(Fault.reset(), times=2, path=klines)
    exchange.inject(Fault.http_status(502, body="html"), times=1, path=klines)
    exchange.inject(Fault.rate_limited(retry_after=1), times=1, path=klines)
    container = Container()
    container.binance_retry.override(providers.Object(RetryPolicy.instant(max_attempts=3)))
    container.telemetry.override(providers.Object(in_memory_telemetry()))
    launch = CliLaunch(
        environ=environ(exchange.base_url, tmp_path / "market.sqlite3"), env_file=None, container=container
    )

    result = CliRunner().invoke(
        app, ["backfill", "BTCUSDT", "--since", SINCE, "--until", str(UNTIL_MS), "--json"], obj=launch
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["complete"] is True
    assert report["series"][0]["stored"] == MINUTES
    statuses = [r.status for r in exchange.requests_to(klines)]
    assert statuses.count(503) == 3
    assert statuses.count(502) == 1
    assert statuses.count(None) == 2  # the resets: no answer at all
    assert exchange.count_429 == 1
    assert exchange.count_418 == 0
    assert _stored_count(tmp_path / "market.sqlite3") == MINUTES
