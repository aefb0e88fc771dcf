"""SQLite storage adapter for market data."""

__all__: list[str] = []
