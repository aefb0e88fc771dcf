"""One setting chooses the store: a file path is SQLite, a postgresql:// URL is PostgreSQL."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from adapters.container import Container
from adapters.settings import load_config
from adapters.sqlite import SqliteMarketDataStore
from adapters.storage import is_postgres_url, open_market_data_store
from domain import ConfigurationError, StorageError, StorageUnavailableError
from tests.contract.storage._data import BTC, M1, NOW_MS, candles


async def test_the_container_opens_the_file_it_is_given_and_closes_it_at_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "market.sqlite3"
    container = Container()
    container.config.from_dict(
        load_config({"BINANCE_GATEWAY_ADAPTER": "fake", "BINANCE_GATEWAY_DB": str(path)}, env_file=None)
    )

    store = await container.market_data_store()

    assert isinstance(store, SqliteMarketDataStore)
    assert store.location == str(path)
    assert (await store.save_klines(candles(2), now_ms=NOW_MS)).stored == 2
    await container.shutdown_resources()  # type: ignore[misc]
    with pytest.raises(StorageError, match="closed"):
        await store.load_klines(BTC, M1)


async def test_a_sqlite_url_names_a_file(tmp_path: Path) -> None:
    store = await open_market_data_store(f"sqlite:///{tmp_path}/market.sqlite3")
    try:
        assert store.location == f"{tmp_path}/market.sqlite3"
    finally:
        await store.aclose()


async def test_a_postgresql_url_chooses_postgresql() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    assert is_postgres_url("PostgreSQL://x@h/db")
    with pytest.raises(StorageUnavailableError, match=f"postgresql://gw@127.0.0.1:{port}/market"):
        await open_market_data_store(f"postgresql://gw:pw@127.0.0.1:{port}/market")


@pytest.mark.parametrize("setting", ["", "  ", "mysql://gw@localhost/market"])
async def test_an_empty_or_unknown_setting_is_a_configuration_error(setting: str) -> None:
    with pytest.raises(ConfigurationError, match="file"):
        await open_market_data_store(setting)
