"""SQLite market-data storage adapter; empty until storage lands."""

__all__: list[str] = []
