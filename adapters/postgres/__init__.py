"""PostgreSQL market-data storage (psycopg 3): one database shared by collectors on several machines."""

from adapters.postgres.storage import PostgresMarketDataStore, redact_url

__all__ = ["PostgresMarketDataStore", "redact_url"]
