"""PostgreSQL market-data storage adapter (psycopg); empty until storage lands."""

__all__: list[str] = []
