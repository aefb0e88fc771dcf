"""What only the SQLite store does: WAL on a local file, its folder, its lock, its failures named, and
decimals kept as exact text."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sqlite import SqliteMarketDataStore
from adapters.sqlite._rows import CODEC
from domain import StorageError, StorageUnavailableError
from tests.contract.storage._data import BTC, M1, NOW_MS, candles


async def test_creates_its_folder_and_writes_ahead(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "market.sqlite3"

    async with await SqliteMarketDataStore.open(path) as store:
        await store.save_klines(candles(2), now_ms=NOW_MS)
        assert store.location == str(path)

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (
            conn.execute("SELECT count(*) FROM klines_by_symbol WHERE symbol = 'BTCUSDT'").fetchone()[0] == 2
        )
    finally:
        conn.close()


async def test_a_folder_that_cannot_be_created_names_the_setting_to_change(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(StorageError, match="BINANCE_GATEWAY_DB") as caught:
        await SqliteMarketDataStore.open(blocker / "market.sqlite3")

    assert caught.value.location == str(blocker / "market.sqlite3")


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are my notes, not a database" * 100)

    with pytest.raises(StorageError, match="not an SQLite database"):
        await SqliteMarketDataStore.open(path)

    assert path.read_bytes().startswith(b"these are my notes")


async def test_a_writer_locked_out_past_the_busy_timeout_may_retry(tmp_path: Path) -> None:
    path = tmp_path / "market.sqlite3"
    async with await SqliteMarketDataStore.open(path, busy_timeout_ms=20) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            with pytest.raises(StorageUnavailableError, match="locked") as caught:
                await store.save_klines(candles(2), now_ms=NOW_MS)
            assert caught.value.retryable
            assert await store.load_klines(BTC, M1) == []  # reading is not blocked by the lock
        finally:
            other.execute("ROLLBACK")
            other.close()

        assert (await store.save_klines(candles(2), now_ms=NOW_MS)).stored == 2


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_decimal_comes_back_from_its_text_digit_for_digit(value: Decimal) -> None:
    back = CODEC.decimal_out(CODEC.decimal_in(value))

    assert back.as_tuple() == value.as_tuple()  # sign, digits and exponent: 1.50 stays 1.50, -0 stays -0
