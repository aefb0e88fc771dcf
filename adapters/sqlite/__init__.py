"""SQLite market-data storage: the embedded default store (one file, WAL mode, forward migrations)."""

from adapters.sqlite.storage import SqliteMarketDataStore

__all__ = ["SqliteMarketDataStore"]
