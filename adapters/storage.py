"""Choosing the market-data store from one setting, ``db``: a file path (SQLite) or a PostgreSQL URL.

The container wires ``market_data_store_resource`` as a Resource, so the store is opened on first use and
closed by ``shutdown_resources()``. ``sqlite:///path`` is accepted as a spelling of a plain path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from domain import ConfigurationError
from ports.storage import MarketDataStore

__all__ = ["is_postgres_url", "market_data_store_resource", "open_market_data_store"]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite://"


def is_postgres_url(db: str) -> bool:
    return db.strip().lower().startswith(_POSTGRES_SCHEMES)


async def open_market_data_store(
    db: str, *, busy_timeout_ms: int = 5_000, write_on_loop: bool = False
) -> MarketDataStore:
    """Open (creating or migrating as needed) the store ``db`` names. ``write_on_loop``: an SQLite store
    writes on the event loop's thread (see ``adapters.sqlite.storage``); PostgreSQL's writes never block it.

    Raises ``ConfigurationError`` for an empty setting, an unknown URL scheme or a malformed PostgreSQL
    URL, and the errors of ``MarketDataStore`` opening (``StorageError`` and its kinds).
    """
    text = db.strip()
    if not text:
        msg = "the database setting (--db, BINANCE_GATEWAY_DB) is empty; give a file or a postgresql:// URL"
        raise ConfigurationError(msg)
    if is_postgres_url(text):
        # Imported here so that a run on the embedded default never loads the PostgreSQL driver.
        from adapters.postgres import PostgresMarketDataStore  # noqa: PLC0415

        return await PostgresMarketDataStore.open(text)
    from adapters.sqlite import SqliteMarketDataStore  # noqa: PLC0415 - symmetric with the branch above

    if text.lower().startswith(_SQLITE_SCHEME):
        # As in SQLAlchemy: sqlite:///relative.sqlite3 and sqlite:////absolute/path.sqlite3.
        text = text[len(_SQLITE_SCHEME) :].removeprefix("/")
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        msg = f"unsupported database URL scheme {scheme}://; give a file path or a postgresql:// URL"
        raise ConfigurationError(msg)
    return await SqliteMarketDataStore.open(
        text, busy_timeout_ms=busy_timeout_ms, write_on_loop=write_on_loop
    )


async def market_data_store_resource(db: str, write_on_loop: bool = False) -> AsyncIterator[MarketDataStore]:
    """The store as a dependency-injector Resource: opened on first use, closed at shutdown."""
    store = await open_market_data_store(db, write_on_loop=bool(write_on_loop))
    try:
        yield store
    finally:
        await store.aclose()
