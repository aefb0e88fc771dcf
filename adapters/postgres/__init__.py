"""PostgreSQL storage adapter for market data (psycopg)."""

__all__: list[str] = []
